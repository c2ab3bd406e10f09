// A small persistent thread pool for the decode loop: parallelFor splits [0, n) into chunks that
// the threads (the caller included) take from a shared counter, so a thread the OS preempts (the
// machine is shared) does not hold up the others. Workers spin (yielding) for up to 2 ms between jobs (a
// decode step issues a hundred short jobs; a condition-variable wake-up per job would cost more
// than some jobs) and then sleep.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitlens {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : n_(threads < 1 ? 1 : threads) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { loop(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      gen_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_; }

  /** fn(begin, end) over [0, n) in chunks whose boundaries are multiples of `align`. */
  void parallelFor(size_t n, const std::function<void(size_t, size_t)>& fn, size_t align = 1) {
    if (n_ == 1 || n <= align) {
      if (n) fn(0, n);
      return;
    }
    job_ = &fn;
    jobN_ = n;
    // About 4 chunks per thread: enough to rebalance, few enough to keep per-chunk overhead small.
    jobChunk_ = std::max(align, (n / (4 * static_cast<size_t>(n_)) + align - 1) / align * align);
    next_.store(0, std::memory_order_relaxed);
    pending_.store(n_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    run(0);
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    job_ = nullptr;
  }

 private:
  void run(int) {
    for (size_t b; (b = next_.fetch_add(jobChunk_, std::memory_order_relaxed)) < jobN_;) (*job_)(b, std::min(jobN_, b + jobChunk_));
  }

  void loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
      // Yield while spinning: when the machine is oversubscribed, a busy-waiting worker would take the
      // core from the thread that is doing the work (measured: decode several times slower).
      for (int spins = 0; (g = gen_.load(std::memory_order_acquire)) == seen; spins++) {
        std::this_thread::yield();
        if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) break;
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return gen_.load() != seen; });
        g = gen_.load();
      }
      seen = g;
      if (stop_) return;
      run(i);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t jobN_ = 0, jobChunk_ = 1;
  std::atomic<size_t> next_{0};
};

}  // namespace bitlens
