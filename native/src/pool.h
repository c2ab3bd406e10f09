// A small persistent thread pool for the decode loop: parallelFor splits [0, n) into one
// contiguous range per thread, the calling thread takes the first. Workers spin briefly between
// jobs (a decode step issues a few hundred short jobs; a condition-variable wake-up per job would
// cost more than some jobs) and then sleep.
#pragma once
#include <atomic>
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

  /** fn(begin, end) over [0, n) split in `size()` ranges; boundaries are multiples of `align`. */
  void parallelFor(size_t n, const std::function<void(size_t, size_t)>& fn, size_t align = 1) {
    if (n_ == 1 || n <= align) {
      if (n) fn(0, n);
      return;
    }
    job_ = &fn;
    jobN_ = n;
    jobAlign_ = align;
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
  void run(int i) {
    const size_t units = (jobN_ + jobAlign_ - 1) / jobAlign_;
    const size_t b = units * i / n_ * jobAlign_, e = std::min(jobN_, units * (i + 1) / n_ * jobAlign_);
    if (b < e) (*job_)(b, e);
  }

  void loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g;
      int spins = 0;
      while ((g = gen_.load(std::memory_order_acquire)) == seen && spins < 20000) spins++;
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
  size_t jobN_ = 0, jobAlign_ = 1;
};

}  // namespace bitlens
