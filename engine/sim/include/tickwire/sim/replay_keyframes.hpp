#pragma once
// Keyframes for seeking in a replay that a game plays back by re-simulation: copies of the game's
// state at regular ticks, kept as playback passes them, so that a seek re-simulates from the
// nearest keyframe at or before its target instead of from the first tick.
//
// The store is bounded: at most `max_keyframes` copies. When one more would pass the cap, every
// other keyframe is dropped and the interval doubles, so that the keyframes still cover the whole
// match evenly and a seek never re-simulates more than one interval (interval_ticks at first,
// doubling each time the match outgrows the cap).
//
// Not done here: taking the copies (the game copies what its re-simulation needs: its world, and
// whatever it carries from one tick to the next) or checking them (a copy is as right as the
// re-simulation that made it: MatchReplay keeps one only after its tick matched the recorded
// hash).

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "tickwire/status.hpp"

namespace tickwire::sim {

struct ReplayKeyframesConfig {
  // Ticks between keyframes at first (a seek re-simulates fewer than this many ticks until the
  // match outgrows max_keyframes). 1..1,000,000. Default 256 (about 4 s at 60 Hz).
  std::uint32_t interval_ticks = 256;
  // Keyframes kept at most: the memory cap (each is a copy of the game's state). 0 keeps none:
  // every backward seek re-simulates from the first tick. 0..100,000. Default 64.
  std::size_t max_keyframes = 64;
  // Fine, or which field is wrong, its value and what to use.
  Status validate() const;
};

template <typename State>
class ReplayKeyframes {
 public:
  // `config` must have passed validate() (the owner checks it where it takes the config).
  explicit ReplayKeyframes(const ReplayKeyframesConfig& config = {})
      : interval_(config.interval_ticks), max_(config.max_keyframes) {}

  // Whether the state after `tick` should be kept: on the interval, and past the last kept.
  bool due(std::uint64_t tick) const {
    return max_ > 0 && tick > 0 && tick % interval_ == 0 &&
           (frames_.empty() || tick > frames_.back().first);
  }
  // Keeps the state after `tick` (one that due() asked for), thinning first if the store is full.
  void keep(std::uint64_t tick, State state) {
    if (!due(tick)) return;
    while (frames_.size() >= max_)
      thin();
    if (!due(tick)) return;  // not on the doubled interval
    frames_.emplace_back(tick, std::move(state));
  }

  // The keyframe with the highest tick at or before `tick`, or nullptr when there is none (seek
  // from the first tick).
  const std::pair<std::uint64_t, State>* at_or_before(std::uint64_t tick) const {
    const std::pair<std::uint64_t, State>* best = nullptr;
    for (const auto& frame : frames_) {
      if (frame.first > tick) break;
      best = &frame;
    }
    return best;
  }

  std::size_t size() const { return frames_.size(); }
  // The current interval: the most a seek re-simulates from a keyframe.
  std::uint64_t interval_ticks() const { return interval_; }

 private:
  // Drops the keyframes off the doubled interval: half of them, evenly spread.
  void thin() {
    interval_ *= 2;
    std::erase_if(frames_, [&](const auto& frame) { return frame.first % interval_ != 0; });
  }

  std::uint64_t interval_;
  std::size_t max_;
  std::vector<std::pair<std::uint64_t, State>> frames_;  // by increasing tick
};

}  // namespace tickwire::sim
