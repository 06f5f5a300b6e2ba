#pragma once
// Client-side prediction with reconciliation. The client applies its own input at once (no wait
// for the server), remembers each input, and when an authoritative state arrives for the last
// input the server applied, re-simulates the inputs the server has not applied yet on top of it.
// If the result differs from what was predicted, that difference is a correction; a
// CorrectionSmoother hides it over a few frames instead of snapping.
//
// `State` and `Input` are the game's; `step` is the game's own deterministic simulation step,
// the same function the server runs.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <utility>
#include <vector>

namespace tickwire::sim {

template <typename State, typename Input>
class Predictor {
 public:
  using Tick = std::uint64_t;
  using Step = std::function<State(const State&, const Input&)>;
  // How far apart two states are (e.g. distance between positions); used to report corrections.
  using Distance = std::function<double(const State&, const State&)>;

  // `max_pending` bounds the inputs kept while unacknowledged (about a second at 60 Hz by
  // default); older ones are dropped, and reconciliation then starts from what is left.
  Predictor(State initial, Step step, Distance distance, std::size_t max_pending = 64)
      : state_(std::move(initial)),
        step_(std::move(step)),
        distance_(std::move(distance)),
        max_pending_(max_pending) {}

  // Applies the local input for `tick` now and returns the predicted state after it.
  const State& predict(Tick tick, const Input& input) {
    state_ = step_(state_, input);
    pending_.push_back({tick, input});
    if (pending_.size() > max_pending_) pending_.pop_front();
    return state_;
  }

  // The server's state after it applied this client's input for `acknowledged_tick`. Returns
  // the size of the correction (0 when the prediction was right).
  double reconcile(Tick acknowledged_tick, const State& authoritative) {
    while (!pending_.empty() && pending_.front().tick <= acknowledged_tick)
      pending_.pop_front();
    State replayed = authoritative;
    for (const auto& entry : pending_)
      replayed = step_(replayed, entry.input);
    const double error = distance_(state_, replayed);
    if (error > 0) {
      ++corrections_;
      last_correction_ = error;
    }
    state_ = std::move(replayed);
    return error;
  }

  const State& state() const { return state_; }
  std::size_t pending() const { return pending_.size(); }
  std::uint64_t corrections() const { return corrections_; }
  double last_correction() const { return last_correction_; }

 private:
  struct Pending {
    Tick tick;
    Input input;
  };
  State state_;
  Step step_;
  Distance distance_;
  std::size_t max_pending_;
  std::deque<Pending> pending_;
  std::uint64_t corrections_ = 0;
  double last_correction_ = 0;
};

// Hides corrections of numeric values (a position, an angle in radians is fine for small
// corrections): after a correction the displayed value starts where the old prediction was and
// closes the gap by a fraction each frame.
class CorrectionSmoother {
 public:
  // `half_life_seconds`: time for a correction to shrink by half. Corrections larger than
  // `snap_distance` (a teleport, a respawn) are applied at once.
  CorrectionSmoother(std::size_t dimensions, double half_life_seconds = 0.05,
                     double snap_distance = 2.0)
      : offset_(dimensions, 0.0), half_life_(half_life_seconds), snap_(snap_distance) {}

  // Call when a prediction was corrected from `before` to `after`.
  void corrected(std::span<const double> before, std::span<const double> after) {
    double squared = 0;
    for (std::size_t i = 0; i < offset_.size(); ++i) {
      offset_[i] += before[i] - after[i];
      squared += offset_[i] * offset_[i];
    }
    if (std::sqrt(squared) > snap_) std::fill(offset_.begin(), offset_.end(), 0.0);
  }

  // Advances by a frame and writes the value to show: `predicted` plus what is left of the offset.
  void display(std::span<const double> predicted, double frame_seconds, std::span<double> shown) {
    const double keep = std::exp2(-frame_seconds / half_life_);
    for (std::size_t i = 0; i < offset_.size(); ++i) {
      offset_[i] *= keep;
      shown[i] = predicted[i] + offset_[i];
    }
  }

  double remaining() const {
    double squared = 0;
    for (const double v : offset_)
      squared += v * v;
    return std::sqrt(squared);
  }

 private:
  std::vector<double> offset_;
  double half_life_;
  double snap_;
};

}  // namespace tickwire::sim
