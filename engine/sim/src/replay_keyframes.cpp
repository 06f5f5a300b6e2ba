// The limits of a replay's keyframe store (the store itself is a template in the header).

#include "tickwire/sim/replay_keyframes.hpp"

#include "config_error.hpp"

namespace tickwire::sim {

Status ReplayKeyframesConfig::validate() const {
  using detail::invalid_field;
  if (interval_ticks < 1 || interval_ticks > 1'000'000)
    return invalid_field("interval_ticks", interval_ticks, "1..1000000");
  if (max_keyframes > 100'000) return invalid_field("max_keyframes", max_keyframes, "0..100000");
  return {};
}

}  // namespace tickwire::sim
