// The lobby's pool of state workers (state_workers.hpp).

#include "lobby/state_workers.hpp"

#include <pthread.h>

#include <utility>

namespace tickwire::net::lobby_detail {

StateWorkers::StateWorkers(LobbyState& state, std::size_t threads, std::function<void()> wake)
    : state_(state), wake_(std::move(wake)) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { work(); });
    // Named, so that an operator's top -H tells them from the lobby's thread.
    pthread_setname_np(threads_.back().native_handle(), "tickwire-state");
  }
}

StateWorkers::~StateWorkers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  jobs_ready_.notify_all();
  for (std::thread& thread : threads_)
    thread.join();
}

void StateWorkers::run(Job job) {
  if (threads_.empty()) {
    if (Completion completion = job(state_)) completion();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  jobs_ready_.notify_one();
}

std::size_t StateWorkers::run_completions() {
  std::vector<Completion> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(completions_);
  }
  for (Completion& completion : ready)
    completion();
  return ready.size();
}

void StateWorkers::work() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Completion completion = job(state_);
    if (!completion) continue;
    {
      std::lock_guard lock(mutex_);
      completions_.push_back(std::move(completion));
    }
    wake_();
  }
}

}  // namespace tickwire::net::lobby_detail
