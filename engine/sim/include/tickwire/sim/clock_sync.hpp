#pragma once
// Client clock synchronisation. The client simulates ahead of the server, just far enough that
// its input for a tick reaches the server before the server simulates that tick: half the round
// trip, plus a margin for the jitter measured in snapshot arrivals, plus a safety tick. It
// estimates the server's tick from snapshot arrival times and steers its own fixed-tick clock by
// running slightly faster or slower (time_scale), jumping only when far off.

#include <cstdint>
#include <string>

#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {

struct ClockSyncConfig {
  double tick_rate_hz = 60;
  // Ticks of lead beyond latency and jitter, so an input is there before its tick. Default 1.
  double safety_ticks = 1;
  // Standard deviations of arrival jitter added to the lead. Default 2.
  double jitter_margin = 2;
  // Largest change of the client's clock speed, as a fraction. Default 0.1 (±10 %).
  double max_speed_adjust = 0.1;
  // Beyond this many ticks off, jump instead of drifting. Default 30.
  double jump_ticks = 30;

  Status validate() const;  // fine, or which field is wrong, its value and what to use
};

class ClockSync {
 public:
  // The only way in: refuses an invalid config, naming the field (in every build).
  static Result<ClockSync> create(ClockSyncConfig config);

  // A snapshot of server tick `tick` arrived at local time `now_seconds` (a steady clock) while
  // the transport measured `rtt_seconds` as the round trip.
  void on_snapshot(WireTick tick, double now_seconds, double rtt_seconds);

  bool synced() const { return samples_ > 0; }
  // The tick the server is simulating at `now_seconds`, estimated.
  double server_tick(double now_seconds) const;
  // How far ahead of the server the client should run, in ticks.
  double lead_ticks() const;
  // The tick the client should be simulating at `now_seconds`.
  double target_tick(double now_seconds) const { return server_tick(now_seconds) + lead_ticks(); }
  // Factor for the client's frame time (feed frame_time * time_scale to its FixedTickClock).
  double time_scale(double now_seconds, double client_tick) const;
  // True if the client is so far off that it should set its tick to target_tick() at once.
  bool needs_jump(double now_seconds, double client_tick) const;

  double jitter_seconds() const { return jitter_; }

 private:
  // Through create() only, which has checked the config.
  explicit ClockSync(ClockSyncConfig config);

  ClockSyncConfig config_;
  std::uint64_t samples_ = 0;
  double offset_ = 0;  // local time minus server tick time at arrival, tracking the fastest
  double jitter_ = 0;
  double rtt_ = 0;
};

}  // namespace tickwire::sim
