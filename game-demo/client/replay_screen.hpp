#pragma once
// The replay screen (tickwire-client --replay FILE): plays a recorded match back through the rules
// (arena::MatchReplay) and draws it from above, with a timeline where the net graph goes.
// Space pauses, Left/Right seek 5 s back or on (or a click on the timeline), Up/Down change the
// speed from 0.25x to 4x, Home starts over. What each does is ReplayPlayback's; this screen maps
// keys and clicks to it and draws.

#include <SDL.h>

#include <chrono>
#include <string>

#include "arena_replay.hpp"
#include "replay_playback.hpp"
#include "ui.hpp"

namespace arena::client {

class ReplayScreen {
 public:
  explicit ReplayScreen(MatchReplay replay);

  void on_key(SDL_Keycode key);
  // Advances playback by `frame_time` at the current speed, then draws.
  void frame(Ui& ui, std::chrono::nanoseconds frame_time, int width, int height);

  // Something went wrong on playback (a tick whose state differs from the recorded hash).
  const std::string& problem() const { return playback_.problem(); }

 private:
  void draw_world(Ui& ui, const Box& arena);
  void draw_timeline(Ui& ui, const Box& box);

  ReplayPlayback playback_;
  Config rules_;
};

}  // namespace arena::client
