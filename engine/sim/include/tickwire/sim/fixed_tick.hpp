#pragma once
// A fixed-timestep clock with an accumulator: the game feeds it real elapsed time each frame and
// runs as many whole simulation ticks as it says, so the simulation advances in identical steps
// whatever the frame rate. The tick number is the authoritative time of the simulation.

#include <chrono>
#include <cstdint>
#include <string>

#include "tickwire/status.hpp"

namespace tickwire::sim {

using Tick = std::uint64_t;

struct FixedTickConfig {
  // Simulation ticks per second, 1..1000. Default 60.
  double tick_rate_hz = 60.0;
  // Most ticks run for one frame. A frame that took longer (a hitch, a debugger stop) drops the
  // rest of its time instead of spiralling into ever longer catch-up frames. Default 5.
  std::uint32_t max_ticks_per_frame = 5;

  // Fine, or which field is wrong, its value and what to use.
  Status validate() const;
};

class FixedTickClock {
 public:
  // The only way in: refuses an invalid config, naming the field (in every build).
  static Result<FixedTickClock> create(const FixedTickConfig& config);

  // Adds a frame's real elapsed time; returns how many ticks to simulate now (at most
  // max_ticks_per_frame). Call tick_done() after simulating each of them.
  std::uint32_t advance(std::chrono::nanoseconds frame_time);
  void tick_done() { ++tick_; }

  // The next tick to simulate (ticks simulated so far).
  Tick tick() const { return tick_; }
  // How far real time is past the last simulated tick, as a fraction of a tick in [0, 1): the
  // weight for rendering between the last two simulated states.
  double alpha() const;
  std::chrono::nanoseconds tick_duration() const { return tick_duration_; }
  // Real time thrown away by the catch-up cap so far.
  std::chrono::nanoseconds dropped_time() const { return dropped_; }

 private:
  // Through create() only, which has checked the config.
  explicit FixedTickClock(const FixedTickConfig& config);

  std::chrono::nanoseconds tick_duration_;
  std::uint32_t max_ticks_per_frame_;
  std::chrono::nanoseconds accumulator_{0};
  std::chrono::nanoseconds dropped_{0};
  Tick tick_ = 0;
};

}  // namespace tickwire::sim
