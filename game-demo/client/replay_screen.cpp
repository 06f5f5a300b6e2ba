#include "replay_screen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "palette.hpp"
#include "text.hpp"

namespace arena::client {
namespace {

constexpr double kSpeeds[] = {0.25, 0.5, 1, 2, 4};
constexpr int kSpeedCount = sizeof(kSpeeds) / sizeof(kSpeeds[0]);
constexpr double kSeekSeconds = 5;
constexpr float kMinPlayerRadius = 6;
constexpr float kMinDroneRadius = 4;

std::string clock_text(double seconds) {
  const int whole = static_cast<int>(seconds);
  char text[16];
  std::snprintf(text, sizeof text, "%d:%02d", whole / 60, whole % 60);
  return text;
}

}  // namespace

ReplayScreen::ReplayScreen(MatchReplay replay) : replay_(std::move(replay)) {
  // The rules the match ran under: the arena's size and the radii to draw with.
  if (auto rules = decode_replay_rules(replay_.info().initial_state)) rules_ = *rules;
}

void ReplayScreen::on_key(SDL_Keycode key) {
  const double rate = replay_.info().tick_rate_hz;
  const auto now = replay_.world().tick();
  const auto by = static_cast<std::uint64_t>(kSeekSeconds * rate);
  switch (key) {
    case SDLK_SPACE:
      paused_ = !paused_;
      break;
    case SDLK_LEFT:
      seek_to(now > by ? now - by : 0);
      break;
    case SDLK_RIGHT:
      seek_to(now + by);
      break;
    case SDLK_UP:
      speed_index_ = std::min(speed_index_ + 1, kSpeedCount - 1);
      break;
    case SDLK_DOWN:
      speed_index_ = std::max(speed_index_ - 1, 0);
      break;
    case SDLK_HOME:
      seek_to(0);
      break;
    default:
      break;
  }
}

void ReplayScreen::seek_to(std::uint64_t tick) {
  tick = std::min<std::uint64_t>(tick, replay_.last_tick());
  ended_ = false;
  pending_ticks_ = 0;
  const auto step = replay_.seek(tick);
  if (step == MatchReplay::Step::diverged || step == MatchReplay::Step::bad_data) {
    problem_ =
        "the replay diverged from the recording at tick " + std::to_string(replay_.world().tick());
  }
}

void ReplayScreen::step_once() {
  switch (replay_.step()) {
    case MatchReplay::Step::stepped:
      break;
    case MatchReplay::Step::end:
      ended_ = true;
      break;
    case MatchReplay::Step::bad_data:
    case MatchReplay::Step::diverged:
      ended_ = true;
      problem_ = "the replay diverged from the recording at tick " +
                 std::to_string(replay_.world().tick());
      break;
  }
}

void ReplayScreen::frame(Ui& ui, std::chrono::nanoseconds frame_time, int width, int height) {
  if (!paused_ && !ended_) {
    pending_ticks_ += std::chrono::duration<double>(frame_time).count() *
                      replay_.info().tick_rate_hz * kSpeeds[speed_index_];
    // A long stall (a dragged window) does not fast-forward through the match.
    pending_ticks_ = std::min(pending_ticks_, 4 * replay_.info().tick_rate_hz);
    while (pending_ticks_ >= 1 && !ended_) {
      step_once();
      pending_ticks_ -= 1;
    }
  }
  const Box arena = arena_box(width, height);
  const Box timeline = net_graph_box(width, height);
  // A click on the timeline seeks there.
  if (ui.input().mouse_down && ui.hovered(timeline) && replay_.last_tick() > 0) {
    const double at = std::clamp(
        static_cast<double>(ui.input().mouse_x - timeline.x) / std::max(1, timeline.w), 0.0, 1.0);
    const auto target = static_cast<std::uint64_t>(at * replay_.last_tick());
    if (target != replay_.world().tick()) seek_to(target);
  }
  ui.fill({0, 0, width, height}, palette::background);
  draw_world(ui, arena);
  draw_timeline(ui, timeline);
  TextRenderer& text = ui.text();
  const int x = arena.x + arena.w + 24;
  int y = arena.y;
  text.draw("Replay of match " + std::to_string(replay_.info().match_id), x, y, palette::text,
            FontSize::large);
  y += text.line_height(FontSize::large) + 8;
  if (replay_.cut_short()) {
    // Salvaged after the server died: the match went on past the end of the timeline.
    text.draw("Cut short: the server stopped recording here", x, y, palette::text_dim,
              FontSize::small);
    y += text.line_height(FontSize::small) + 8;
  }
  for (const char* line :
       {"Space: pause", "Left / Right: 5 s back / on", "Up / Down: speed", "Home: start over"}) {
    text.draw(line, x, y, palette::text_dim, FontSize::small);
    y += text.line_height(FontSize::small) + 2;
  }
  if (!problem_.empty()) text.draw(problem_, x, y + 8, palette::error, FontSize::small);
}

void ReplayScreen::draw_world(Ui& ui, const Box& arena) {
  ui.fill(arena, palette::floor);
  const double half = rules_.half_size;
  const double scale = arena.w / (2 * half);
  const auto sx = [&](double x) { return static_cast<float>(arena.x + (x + half) * scale); };
  const auto sy = [&](double y) { return static_cast<float>(arena.y + (half - y) * scale); };
  for (double m = -half + 10; m < half; m += 10) {
    ui.line(sx(m), static_cast<float>(arena.y), sx(m), static_cast<float>(arena.y + arena.h - 1),
            palette::grid);
    ui.line(static_cast<float>(arena.x), sy(m), static_cast<float>(arena.x + arena.w - 1), sy(m),
            palette::grid);
  }
  ui.outline(arena, palette::boundary);
  const float player_radius =
      std::max(kMinPlayerRadius, static_cast<float>(rules_.player_radius * scale));
  const float drone_radius =
      std::max(kMinDroneRadius, static_cast<float>(rules_.drone_radius * scale));
  const tickwire::sim::WorldState state = replay_.world().state();
  const auto& types = schema();
  for (std::size_t i = 0; i < state.size(); ++i) {
    const auto e = state.at(i);
    const float x = sx(types.dequantize(e.type, 0, e.fields[0]));
    const float y = sy(types.dequantize(e.type, 1, e.fields[1]));
    if (e.type == drone_type()) {
      ui.circle(x, y, drone_radius, palette::drone);
      continue;
    }
    const PlayerState* player = replay_.world().player(e.id);
    if (player == nullptr) continue;
    if (!player->alive) {
      ui.circle(x, y, player_radius, palette::dead);
      continue;
    }
    ui.circle(x, y, player_radius, palette::other);
    const float aim_length = player_radius * 2.6F;
    ui.line(x, y, x + aim_length * std::cos(player->aim), y - aim_length * std::sin(player->aim),
            palette::text);
    const int bar_w = 28;
    const Box bar{static_cast<int>(x) - bar_w / 2, static_cast<int>(y - player_radius) - 9, bar_w,
                  4};
    ui.fill(bar, Rgb{90, 30, 30});
    ui.fill({bar.x, bar.y, bar_w * std::clamp(player->health, 0, 100) / 100, bar.h},
            Rgb{110, 200, 90});
  }
}

void ReplayScreen::draw_timeline(Ui& ui, const Box& box) {
  // Where the net graph is in a live match: the match's length, what has played, and the state.
  ui.fill(box, palette::panel, 220);
  ui.outline(box, palette::panel_edge);
  const double rate = replay_.info().tick_rate_hz;
  const double done = replay_.last_tick() > 0
                          ? static_cast<double>(replay_.world().tick()) / replay_.last_tick()
                          : 0.0;
  const Box track{box.x + 8, box.y + box.h - 22, box.w - 16, 12};
  ui.fill(track, palette::grid);
  ui.fill({track.x, track.y, static_cast<int>(track.w * done), track.h}, palette::accent);
  TextRenderer& text = ui.text();
  char speed[16];
  std::snprintf(speed, sizeof speed, "%gx", kSpeeds[speed_index_]);
  const std::string status = clock_text(static_cast<double>(replay_.world().tick()) / rate) +
                             " / " + clock_text(replay_.last_tick() / rate) + "   " + speed +
                             (paused_  ? "   paused"
                              : ended_ ? "   end"
                                       : "");
  text.draw(status, box.x + 8, box.y + 6, palette::text, FontSize::small);
  text.draw("tick " + std::to_string(replay_.world().tick()), box.x + 8,
            box.y + 8 + text.line_height(FontSize::small), palette::text_dim, FontSize::small);
}

}  // namespace arena::client
