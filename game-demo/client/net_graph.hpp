#pragma once
// The net graph overlay (F3): the game connection's numbers from ArenaClient::net_graph() as
// text, and line graphs of the round-trip time and the incoming bandwidth over the last seconds,
// on a semi-transparent panel over the arena.

#include <chrono>
#include <deque>

#include "arena_client.hpp"
#include "ui.hpp"

namespace arena::client {

class NetGraphOverlay {
 public:
  using Clock = std::chrono::steady_clock;

  bool visible() const { return visible_; }
  void toggle() { visible_ = !visible_; }

  // Records the graphs' samples (call every frame; it keeps a few per second).
  void sample(const NetGraph& graph, Clock::time_point now);
  void draw(Ui& ui, const NetGraph& graph, const Box& box) const;

 private:
  struct Sample {
    Clock::time_point at;
    double rtt_ms;
    double kbps_in;
  };
  bool visible_ = true;
  std::deque<Sample> history_;
};

}  // namespace arena::client
