#pragma once
// Where the lobby's calls to its state run, so that the lobby's thread never waits on a store
// that talks to a server (Redis) while other players' requests queue behind it
// (docs/cluster.md, "Threads, and where the lobby waits on Redis").
//
// A bounded pool of threads takes jobs in order. A job runs its state operation on a worker and
// returns its completion, which is queued for the lobby's thread; the pool wakes that thread
// (the wake callback) and the thread runs the completions with run_completions(). With no
// threads (a state that never blocks: the in-memory one) a job and its completion run at once,
// on the caller's thread: no hop, nothing queued.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

class StateWorkers {
 public:
  using Completion = std::function<void()>;
  // Runs a state operation; returns what the lobby's thread does with its result.
  using Job = std::function<Completion(LobbyState&)>;

  // `threads` 0: jobs run on the caller's thread. `wake` is called from a worker once a
  // completion is queued.
  StateWorkers(LobbyState& state, std::size_t threads, std::function<void()> wake);
  // Waits for the jobs running now; jobs not started and completions not run are dropped.
  ~StateWorkers();
  StateWorkers(const StateWorkers&) = delete;
  StateWorkers& operator=(const StateWorkers&) = delete;

  bool asynchronous() const { return !threads_.empty(); }
  void run(Job job);
  // On the lobby's thread: runs the completions queued so far, in the order their jobs ended.
  // Returns how many ran.
  std::size_t run_completions();

 private:
  void work();

  LobbyState& state_;
  const std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable jobs_ready_;
  std::deque<Job> jobs_;
  std::vector<Completion> completions_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest exists
};

}  // namespace tickwire::net::lobby_detail
