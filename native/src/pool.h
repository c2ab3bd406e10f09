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
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bitlens {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : n_(threads < 1 ? 1 : threads) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this] { loop(); });
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
    job_.store(&fn, std::memory_order_relaxed);
    jobN_.store(n, std::memory_order_relaxed);
    // About 4 chunks per thread: enough to rebalance, few enough to keep per-chunk overhead small.
    jobChunk_.store(std::max(align, (n / (4 * static_cast<size_t>(n_)) + align - 1) / align * align), std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    seq_ = seq_ % kSeqMask + 1;  // 1 .. kSeqMask: 0 marks a closed job
    next_.store(seq_ << kIndexBits, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mu_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    run();
    // Wait for the chunks, not for the workers: one the OS has not scheduled yet (the machine is
    // shared) finds the job closed when it runs and takes nothing.
    while (done_.load(std::memory_order_acquire) != n) std::this_thread::yield();
    next_.store(0, std::memory_order_release);
  }

 private:
  static constexpr int kIndexBits = 40;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1, kSeqMask = (uint64_t{1} << (64 - kIndexBits)) - 1;

  // next_ = job sequence number << kIndexBits | next index. A chunk is claimed by a CAS on next_,
  // which fails once the job is closed or replaced, so a late worker never runs a finished job's
  // chunk; after a successful claim the job cannot end before the chunk is done (done_), so job_
  // and the sizes read for it are that job's.
  void run() {
    uint64_t cur = next_.load(std::memory_order_acquire);
    while ((cur >> kIndexBits) != 0) {
      const size_t b = static_cast<size_t>(cur & kIndexMask), n = jobN_.load(std::memory_order_relaxed);
      if (b >= n) return;
      const size_t e = std::min(n, b + jobChunk_.load(std::memory_order_relaxed));
      if (next_.compare_exchange_weak(cur, (cur & ~kIndexMask) | e, std::memory_order_acquire, std::memory_order_acquire)) {
        (*job_.load(std::memory_order_relaxed))(b, e);
        done_.fetch_add(e - b, std::memory_order_release);
        cur = next_.load(std::memory_order_acquire);
      }
    }
  }

  void loop() {
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
      run();
    }
  }

  const int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};  // wakes the workers
  std::atomic<bool> stop_{false};
  uint64_t seq_ = 0;  // caller's job counter
  std::atomic<const std::function<void(size_t, size_t)>*> job_{nullptr};
  std::atomic<size_t> jobN_{0}, jobChunk_{1}, done_{0};
  std::atomic<uint64_t> next_{0};
};

}  // namespace bitlens
