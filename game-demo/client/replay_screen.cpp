#include "replay_screen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "palette.hpp"
#include "text.hpp"

namespace arena::client {
namespace {

constexpr float kMinPlayerRadius = 6;
constexpr float kMinDroneRadius = 4;

std::string clock_text(double seconds) {
  const int whole = static_cast<int>(seconds);
  char text[16];
  std::snprintf(text, sizeof text, "%d:%02d", whole / 60, whole % 60);
  return text;
}

// The bar inside the timeline box: drawn filled as far as playback has got, and what a click
// maps to a position of the replay, so that a click on the bar's end lands there.
Box timeline_track(const Box& box) {
  return {box.x + 8, box.y + box.h - 22, box.w - 16, 12};
}

}  // namespace

ReplayScreen::ReplayScreen(MatchReplay replay) : playback_(std::move(replay)) {
  // The rules the match ran under: the arena's size and the radii to draw with.
  if (auto rules = decode_replay_rules(playback_.replay().info().initial_state)) rules_ = *rules;
}

void ReplayScreen::on_key(SDL_Keycode key) {
  switch (key) {
    case SDLK_SPACE:
      playback_.toggle_pause();
      break;
    case SDLK_LEFT:
      playback_.seek_back();
      break;
    case SDLK_RIGHT:
      playback_.seek_on();
      break;
    case SDLK_UP:
      playback_.faster();
      break;
    case SDLK_DOWN:
      playback_.slower();
      break;
    case SDLK_HOME:
      playback_.start_over();
      break;
    default:
      break;
  }
}

void ReplayScreen::frame(Ui& ui, std::chrono::nanoseconds frame_time, int width, int height) {
  playback_.advance(frame_time);
  const Box arena = arena_box(width, height);
  const Box timeline = net_graph_box(width, height);
  // A click on the timeline seeks there; held down, playback stays where the pointer is.
  if (ui.input().mouse_down && ui.hovered(timeline)) {
    const Box track = timeline_track(timeline);
    playback_.seek_to_fraction(timeline_fraction(ui.input().mouse_x, track.x, track.w));
  }
  ui.fill({0, 0, width, height}, palette::background);
  draw_world(ui, arena);
  draw_timeline(ui, timeline);
  TextRenderer& text = ui.text();
  const int x = arena.x + arena.w + 24;
  int y = arena.y;
  text.draw("Replay of match " + std::to_string(playback_.replay().info().match_id), x, y,
            palette::text, FontSize::large);
  y += text.line_height(FontSize::large) + 8;
  if (playback_.replay().cut_short()) {
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
  if (!problem().empty()) text.draw(problem(), x, y + 8, palette::error, FontSize::small);
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
  const tickwire::sim::WorldState state = playback_.world().state();
  const auto& types = schema();
  for (std::size_t i = 0; i < state.size(); ++i) {
    const auto e = state.at(i);
    // Positions by name (looked up once in arena.fbs): the two types need not agree on order.
    const bool drone = e.type == drone_type();
    const std::size_t x_field = drone ? drone_fields().x : player_fields().x;
    const std::size_t y_field = drone ? drone_fields().y : player_fields().y;
    const float x = sx(types.dequantize(e.type, x_field, e.fields[x_field]));
    const float y = sy(types.dequantize(e.type, y_field, e.fields[y_field]));
    if (drone) {
      ui.circle(x, y, drone_radius, palette::drone);
      continue;
    }
    const PlayerState* player = playback_.world().player(e.id);
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
  const Box track = timeline_track(box);
  ui.fill(track, palette::grid);
  ui.fill({track.x, track.y, static_cast<int>(track.w * playback_.played_fraction()), track.h},
          palette::accent);
  TextRenderer& text = ui.text();
  char speed[16];
  std::snprintf(speed, sizeof speed, "%gx", playback_.speed());
  const std::string status = clock_text(playback_.seconds()) + " / " +
                             clock_text(playback_.length_seconds()) + "   " + speed +
                             (playback_.paused()  ? "   paused"
                              : playback_.ended() ? "   end"
                                                  : "");
  text.draw(status, box.x + 8, box.y + 6, palette::text, FontSize::small);
  text.draw("tick " + std::to_string(playback_.tick()), box.x + 8,
            box.y + 8 + text.line_height(FontSize::small), palette::text_dim, FontSize::small);
}

}  // namespace arena::client
