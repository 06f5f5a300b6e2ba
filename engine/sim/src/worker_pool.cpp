#include "worker_pool.hpp"

#include <time.h>

namespace tickwire::sim::detail {
namespace {

std::uint64_t thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) {
  for (std::size_t i = 1; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_)
    thread.join();
}

void WorkerPool::run(std::size_t count, const std::function<void(std::size_t)>& job) {
  if (threads_.empty() || count < 2) {
    for (std::size_t i = 0; i < count; ++i)
      job(i);
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    job_ = &job;
    count_ = count;
    next_ = 0;
    finished_ = 0;
    ++batch_;
  }
  wake_.notify_all();
  drain();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return finished_ == count_; });
  job_ = nullptr;
}

std::size_t WorkerPool::drain() {
  std::size_t ran = 0;
  // Jobs are handed out one at a time under the lock: a job (a client's snapshot) takes tens of
  // microseconds, so the lock is not where the time goes.
  std::unique_lock lock(mutex_);
  while (job_ != nullptr && next_ < count_) {
    const std::size_t index = next_++;
    const auto* job = job_;
    lock.unlock();
    (*job)(index);
    lock.lock();
    ++ran;
    if (++finished_ == count_) done_.notify_all();
  }
  return ran;
}

void WorkerPool::work() {
  std::size_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return closing_ || batch_ != seen; });
      if (closing_) return;
      seen = batch_;
    }
    const std::uint64_t start = thread_cpu_ns();
    if (drain() > 0) worker_cpu_ns_ += thread_cpu_ns() - start;
  }
}

}  // namespace tickwire::sim::detail
