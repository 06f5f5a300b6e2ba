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
#include "tickwire/status.hpp"

namespace tickwire::sim {

struct HitHistoryConfig {
  // Simulation ticks per second: shots name the tick their shooter saw. 1..1000. Default 60.
  double tick_rate_hz = 60;
  // How far back a shot may be tested, in seconds: a shooter lagging more than this cannot hit
  // someone who has since reached cover. Also bounds what is remembered (about this many
  // seconds of volumes). 0 (no rewind) ..1. Default 0.2.
  double max_rewind_seconds = 0.2;

  // Fine, or which field is wrong, its value and what to use.
  Status validate() const;
};

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
  // The only way to get one: refuses an invalid config, naming the field, in every build.
  static Result<HitHistory> create(const HitHistoryConfig& config = {});

  // The volumes of every shootable entity after simulating `tick` (increasing).
  void record(std::uint64_t tick, std::vector<HitCircle> volumes);
  // An empty vector to fill for the next record(): the buffer of a frame that fell out of the
  // history when there is one, so that a full history records without allocating.
  std::vector<HitCircle> recycled();

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
  // Through create() only, which has checked it.
  explicit HitHistory(const HitHistoryConfig& config);
  // Calls visit(const HitCircle&) for every volume as it was at `tick`.
  template <typename Visit>
  void for_each_volume_at(double tick, Visit&& visit) const;

  double max_rewind_ticks_;
  std::deque<Frame> frames_;
  std::vector<HitCircle> spare_;  // the last frame to fall out, for recycled()
};

}  // namespace tickwire::sim
