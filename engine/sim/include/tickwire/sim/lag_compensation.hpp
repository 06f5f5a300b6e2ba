#pragma once
// Lag compensation for hitscan weapons. The server remembers where every hit volume was for the
// last few hundred milliseconds. When a shot arrives it rewinds to the moment the shooter saw
// (their interpolated view, which lags the server by their latency plus their interpolation
// delay), so a player who aimed right on their screen hits. The rewind is capped (default
// 200 ms) so that a laggy shooter cannot hit someone long after they reached cover.
//
// Volumes are circles on a plane (top-down games); between recorded ticks they are interpolated.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"

namespace tickwire::sim {

struct HitCircle {
  EntityId id;
  double x, y, radius;
};

struct RayHit {
  EntityId id;
  double distance;      // along the ray to where it enters the circle
  double rewound_tick;  // the (fractional) tick the test was made at
};

class HitHistory {
 public:
  // `max_rewind_seconds`: how far back a shot may be tested. Default 0.2.
  explicit HitHistory(double tick_rate_hz, double max_rewind_seconds = 0.2);

  // The volumes of every shootable entity after simulating `tick` (increasing).
  void record(std::uint64_t tick, std::vector<HitCircle> volumes);

  // The first volume a ray from (x, y) along (dx, dy) meets within `range`, as it was at
  // `view_tick` (what the shooter saw; fractional: between two ticks volumes are interpolated),
  // but no earlier than max_rewind_seconds before `now_tick`. `shooter` is never hit.
  std::optional<RayHit> raycast(double view_tick, std::uint64_t now_tick, double x, double y,
                                double dx, double dy, double range, EntityId shooter) const;

  // The tick a shot seen at `view_tick` is tested at, after the cap.
  double rewind_tick(double view_tick, std::uint64_t now_tick) const;

 private:
  struct Frame {
    std::uint64_t tick;
    std::vector<HitCircle> volumes;  // sorted by id
  };
  std::vector<HitCircle> volumes_at(double tick) const;

  double max_rewind_ticks_;
  std::deque<Frame> frames_;
};

}  // namespace tickwire::sim
