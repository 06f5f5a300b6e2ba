#pragma once
// A fixed set of threads that, with the calling thread, run one batch of independent jobs at a
// time: run(n, job) calls job(0) .. job(n - 1), each exactly once, on whichever thread is free,
// and returns when all are done. The replicator uses it to encode one tick's snapshots (one job
// per client); the jobs write only their own slot of the result, so the result does not depend
// on which thread ran which job.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tickwire::sim::detail {

class WorkerPool {
 public:
  // `threads` counts the caller: 1 runs every job on the caller.
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void run(std::size_t count, const std::function<void(std::size_t)>& job);
  // CPU time the pool's own threads (not the callers of run()) spent in jobs. Any thread.
  double worker_cpu_seconds() const { return static_cast<double>(worker_cpu_ns_.load()) / 1e9; }

 private:
  void work();
  // Takes and runs jobs of the current batch until none is left; returns how many it ran.
  std::size_t drain();

  std::mutex mutex_;
  std::condition_variable wake_;  // a batch began, or the pool is closing
  std::condition_variable done_;  // the last job of a batch finished
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;      // the next job to hand out
  std::size_t finished_ = 0;  // jobs of the batch that returned
  std::size_t batch_ = 0;     // increases with every batch, so a worker runs each once
  bool closing_ = false;
  std::atomic<std::uint64_t> worker_cpu_ns_{0};
  std::vector<std::thread> threads_;
};

}  // namespace tickwire::sim::detail
