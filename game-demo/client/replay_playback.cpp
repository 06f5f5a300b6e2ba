#include "replay_playback.hpp"

#include <algorithm>
#include <utility>

namespace arena::client {
namespace {

// The playback clock counts quarter nanoseconds: 0.25x, the slowest speed, is a whole number of
// them per nanosecond of frame time.
constexpr double kQuarterNsPerSecond = 4e9;

}  // namespace

double timeline_fraction(int x, int bar_x, int bar_width) {
  if (bar_width <= 1) return 0;
  return std::clamp(static_cast<double>(x - bar_x) / (bar_width - 1), 0.0, 1.0);
}

ReplayPlayback::ReplayPlayback(MatchReplay replay)
    : replay_(std::move(replay)),
      tick_rate_hz_(
          decode_replay_rules(replay_.info().initial_state).value_or(Config{}).tick_rate_hz) {}

void ReplayPlayback::advance(std::chrono::nanoseconds frame_time) {
  if (paused_ || ended() || frame_time.count() <= 0) return;
  const auto per_ns = static_cast<std::int64_t>(speed() * 4);
  const auto most = static_cast<std::int64_t>(kMaxSecondsPerFrame * kQuarterNsPerSecond);
  // Clamped before multiplying, so that no frame time overflows the clock.
  clock_quarter_ns_ += std::min(std::min(frame_time.count(), most) * per_ns, most);
  // Exact while clock * rate stays below 2^53: about ten hours of match time at 60 Hz between
  // seeks.
  const auto due = clock_tick_ + static_cast<std::uint64_t>(static_cast<double>(clock_quarter_ns_) *
                                                            tick_rate() / kQuarterNsPerSecond);
  const std::uint64_t target = std::min(due, last_tick());
  while (tick() < target && !halted_)
    check(replay_.step());
}

void ReplayPlayback::faster() {
  speed_index_ = std::min(speed_index_ + 1, kSpeeds.size() - 1);
}

void ReplayPlayback::slower() {
  if (speed_index_ > 0) --speed_index_;
}

void ReplayPlayback::seek_back() {
  const auto by = static_cast<std::uint64_t>(kSeekSeconds * tick_rate());
  seek_to(tick() > by ? tick() - by : 0);
}

void ReplayPlayback::seek_on() {
  seek_to(tick() + static_cast<std::uint64_t>(kSeekSeconds * tick_rate()));
}

void ReplayPlayback::seek_to(std::uint64_t target) {
  halted_ = false;
  check(replay_.seek(std::min(target, last_tick())));
  clock_tick_ = tick();
  clock_quarter_ns_ = 0;
}

void ReplayPlayback::seek_to_fraction(double fraction) {
  seek_to(static_cast<std::uint64_t>(std::clamp(fraction, 0.0, 1.0) *
                                     static_cast<double>(last_tick())));
}

double ReplayPlayback::played_fraction() const {
  return last_tick() > 0 ? static_cast<double>(tick()) / static_cast<double>(last_tick()) : 0.0;
}

void ReplayPlayback::check(MatchReplay::Step step) {
  switch (step) {
    case MatchReplay::Step::stepped:
      return;
    case MatchReplay::Step::end:
      // The reader ran out before its own last tick: nothing more to play.
      halted_ = true;
      return;
    case MatchReplay::Step::bad_data:
    case MatchReplay::Step::diverged:
      halted_ = true;
      problem_ = "the replay diverged from the recording at tick " + std::to_string(tick());
      return;
  }
}

}  // namespace arena::client
