#pragma once
// Interpolation of remote entities. Snapshots arrive irregularly; the client shows the world a
// little in the past, between the two snapshots around that moment, so remote entities move
// smoothly. The delay adapts: a base of a few snapshot intervals plus a margin for the jitter
// actually measured in arrival times. When snapshots stop coming, entities are extrapolated
// from their rates (velocities) for a bounded time and then held still.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"
#include "tickwire/sim/replicator.hpp"
#include "tickwire/sim/world_state.hpp"

namespace tickwire::sim {

struct InterpolationConfig {
  double tick_rate_hz = 60;      // simulation ticks per second (snapshot ticks are these)
  double snapshot_rate_hz = 30;  // snapshots per second the server sends
  // Base delay in snapshot intervals: 2 keeps one spare snapshot when one is lost. Default 2
  // (67 ms at 30 Hz; Source uses 100 ms, Gaffer on Games 3 send intervals).
  double delay_intervals = 2;
  // Standard deviations of measured arrival jitter added to the delay. Default 2.
  double jitter_margin = 2;
  // Longest extrapolation past the newest snapshot, seconds; then entities are held. Default 0.1.
  double max_extrapolation_seconds = 0.1;
  // Snapshots kept. Default 32.
  std::size_t capacity = 32;

  Status validate() const;  // fine, or which field is wrong, its value and what to use
};

class Interpolator {
 public:
  struct Entity {
    EntityId id;
    TypeId type;
    std::vector<double> values;  // dequantized fields
  };

  // The only way to get one: refuses an invalid config or schema, naming the field, in every
  // build.
  static Result<std::unique_ptr<Interpolator>> create(EntitySchema schema,
                                                      InterpolationConfig config = {});

  // A snapshot applied at local time `arrival_seconds` (any steady clock, in seconds).
  void add(WireTick tick, const WorldState& state, double arrival_seconds);

  // The entities to draw at local time `now_seconds`.
  const std::vector<Entity>& sample(double now_seconds);

  // Current delay behind the server, seconds (for a net graph).
  double delay_seconds() const;
  // Of the last sample: how far the render time was behind the newest snapshot, seconds
  // (negative while extrapolating), and whether it extrapolated, and by how much.
  double buffered_seconds() const { return buffered_seconds_; }
  bool extrapolating() const { return extrapolated_seconds_ > 0; }
  double extrapolated_seconds() const { return extrapolated_seconds_; }

 private:
  struct Stored {
    WireTick tick;
    WorldState state;
  };
  // Through create() only, which has checked both.
  Interpolator(EntitySchema schema, InterpolationConfig config);
  void blend(const Stored& from, const Stored& to, double t);
  void extrapolate(const Stored& from, double elapsed_seconds);

  EntitySchema schema_;
  InterpolationConfig config_;
  std::deque<Stored> snapshots_;
  bool have_offset_ = false;
  double offset_ = 0;  // local arrival time minus server tick time, smoothed
  double jitter_ = 0;  // mean absolute deviation of that offset
  std::vector<Entity> out_;
  double buffered_seconds_ = 0;
  double extrapolated_seconds_ = 0;
};

}  // namespace tickwire::sim
