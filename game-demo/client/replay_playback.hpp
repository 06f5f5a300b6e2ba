#pragma once
// The controls of a replay's playback, apart from any window: the playback clock, pause, the
// speeds from 0.25x to 4x, seeking 5 s back or on, to a point of the timeline or to the start,
// and the end of the replay. ReplayScreen maps keys and clicks to it and draws what it shows;
// tests drive it with frame times of their own choosing.
//
// Not done here: drawing, key bindings, and anything about wall-clock time (the caller says how
// much time a frame took).

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "arena_replay.hpp"

namespace arena::client {

// The timeline position under the pointer at `x` over a bar whose pixels run from `bar_x` to
// `bar_x + bar_width - 1`: 0 on its first pixel, 1 on its last, so that both ends of the replay
// can be clicked; clamped to [0, 1] beside the bar.
double timeline_fraction(int x, int bar_x, int bar_width);

class ReplayPlayback {
 public:
  // The speeds Up/Down step through, slowest first.
  static constexpr std::array<double, 5> kSpeeds = {0.25, 0.5, 1, 2, 4};
  // How far one seek back or on goes, in seconds of the match.
  static constexpr double kSeekSeconds = 5;
  // A single frame plays at most this many seconds of the match: a long stall (a dragged
  // window, a debugger) does not fast-forward through it.
  static constexpr double kMaxSecondsPerFrame = 4;

  // Starts at tick 0 (before the first recorded tick), playing at 1x.
  explicit ReplayPlayback(MatchReplay replay);

  // Plays `frame_time` of the viewer's time on at the current speed: nothing while paused or at
  // the end. Stops at the end, or at a tick that does not reproduce the recording (problem()).
  void advance(std::chrono::nanoseconds frame_time);

  void toggle_pause() { paused_ = !paused_; }
  bool paused() const { return paused_; }

  // One step up or down kSpeeds; stays at the fastest or slowest.
  void faster();
  void slower();
  double speed() const { return kSpeeds[speed_index_]; }

  // kSeekSeconds back (not before tick 0) or on (not past the last tick).
  void seek_back();
  void seek_on();
  // Goes to `tick`, or to the last tick when past it. Playing on from there starts afresh: time
  // left over from earlier frames is dropped.
  void seek_to(std::uint64_t tick);
  // Goes to the tick at `fraction` of the replay's length (a timeline position, clamped to
  // [0, 1]): 0 is tick 0, 1 the last tick.
  void seek_to_fraction(double fraction);
  void start_over() { seek_to(0); }

  // At the last tick, or stopped at a tick that does not reproduce the recording.
  bool ended() const { return halted_ || tick() >= last_tick(); }

  std::uint64_t tick() const { return replay_.world().tick(); }
  std::uint64_t last_tick() const { return replay_.last_tick(); }
  // How much of the replay has played, in [0, 1]: the timeline's filled part.
  double played_fraction() const;
  // Match time at the current tick and at the last one.
  double seconds() const { return static_cast<double>(tick()) / tick_rate(); }
  double length_seconds() const { return static_cast<double>(last_tick()) / tick_rate(); }

  const World& world() const { return replay_.world(); }
  const MatchReplay& replay() const { return replay_; }
  // Why playback stopped short of the end (the replay diverged from the recording), or empty.
  const std::string& problem() const { return problem_; }

 private:
  double tick_rate() const { return tick_rate_hz_; }
  // Notes a step that did not reproduce the recording: playback stops there.
  void check(MatchReplay::Step step);

  MatchReplay replay_;
  // The rate of the replay's rules, which MatchReplay::open checked (1 to 1000 Hz), rather than
  // the header's copy, which no reader checks: a file from anywhere must not make the clock
  // divide by zero or cast a NaN.
  double tick_rate_hz_;
  bool paused_ = false;
  bool halted_ = false;
  std::size_t speed_index_ = 2;  // into kSpeeds: 1x
  // The playback clock: match time played since `clock_tick_`, in quarter nanoseconds (a
  // multiple of every speed, so that it adds up exactly: 60 frames of 1/60 s at 2x are 120
  // ticks at 60 Hz, not 119 from rounding). Reset by every seek.
  std::int64_t clock_quarter_ns_ = 0;
  std::uint64_t clock_tick_ = 0;
  std::string problem_;
};

}  // namespace arena::client
