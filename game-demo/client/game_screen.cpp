#include "game_screen.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>

#include "chat_view.hpp"
#include "screenshot.hpp"

namespace arena::client {
namespace {

namespace net = tickwire::net;

// At 1280x720 the arena is ~690 px for 120 m, so a player (0.5 m) would be a 3 px dot: entities
// are drawn at least this big, in pixels, to stay visible.
constexpr float kMinPlayerRadius = 8;
constexpr float kMinDroneRadius = 5;

std::string clock_text(double seconds) {
  const int total = static_cast<int>(std::ceil(std::max(0.0, seconds)));
  char text[16];
  std::snprintf(text, sizeof text, "%d:%02d", total / 60, total % 60);
  return text;
}

}  // namespace

GameScreen::GameScreen(LobbySession& session, std::unique_ptr<ArenaClient> game,
                       std::string server_address)
    : session_(session), game_(std::move(game)), server_address_(std::move(server_address)) {
  remember_names();
}

void GameScreen::on_key(SDL_Keycode key) {
  if (key == SDLK_F3) net_graph_.toggle();
  if (key == SDLK_F8) report_requested_ = true;
}

void GameScreen::send_report(Ui& ui) {
  report_requested_ = false;
  report_problem_.clear();
  std::error_code error;
  std::filesystem::create_directories(session_.download_dir(), error);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string path =
      session_.download_dir() + "/bug-report-" +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + ".png";
  if (std::string problem = save_screenshot(ui.renderer(), path); !problem.empty()) {
    report_problem_ = "bug report not saved: " + problem;
  } else if (const tickwire::net::Status sent = game_->send_report(path); !sent.ok()) {
    report_problem_ = "bug report saved as " + path + ", not sent: " + sent.message();
  }
  if (!report_problem_.empty())
    std::fprintf(stderr, "tickwire-client: %s\n", report_problem_.c_str());
}

void GameScreen::draw_report_status(Ui& ui, const Box& arena) {
  const ReportProgress& report = game_->report();
  std::string line;
  Rgb colour = palette::text_dim;
  if (!report_problem_.empty()) {
    line = report_problem_;
    colour = palette::error;
  } else if (report.state == ReportProgress::State::sending) {
    const int percent =
        report.total > 0 ? static_cast<int>(report.bytes_done * 100 / report.total) : 0;
    line = "sending the bug report: " + std::to_string(percent) + " %";
  } else if (report.state == ReportProgress::State::sent) {
    line = "bug report sent";
    colour = palette::good;
  } else if (report.state == ReportProgress::State::failed) {
    line = "bug report not sent: " + report.error;
    colour = palette::error;
  }
  if (!line.empty())
    ui.text().draw(line, arena.x + 8, arena.y + arena.h - 24, colour, FontSize::small);
}

std::string GameScreen::end_message(bool& error) const {
  error = !saw_match_over_;
  if (saw_match_over_) return "the match is over: back in the lobby";
  return "the game connection to " + server_address_ + " ended (" + game_->disconnect_text() + ")";
}

void GameScreen::remember_names() {
  const net::LobbyClient* lobby = session_.lobby();
  if (lobby == nullptr || !lobby->room()) return;
  for (const net::LobbyMember& member : lobby->room()->members)
    names_[member.player_id] = member.nickname;
}

std::string GameScreen::name_of(std::uint64_t lobby_player_id) const {
  const auto it = names_.find(lobby_player_id);
  return it != names_.end() ? it->second : "player " + std::to_string(lobby_player_id);
}

Intent GameScreen::read_intent(Ui& ui, const Box& arena) const {
  Intent intent;
  if (ui.focused("game_chat")) return intent;  // typing, not playing
  // Scancodes: the keys where WASD are on a QWERTY keyboard, whatever the layout.
  const Uint8* keys = SDL_GetKeyboardState(nullptr);
  const int right = (keys[SDL_SCANCODE_D] || keys[SDL_SCANCODE_RIGHT]) ? 1 : 0;
  const int left = (keys[SDL_SCANCODE_A] || keys[SDL_SCANCODE_LEFT]) ? 1 : 0;
  const int up = (keys[SDL_SCANCODE_W] || keys[SDL_SCANCODE_UP]) ? 1 : 0;
  const int down = (keys[SDL_SCANCODE_S] || keys[SDL_SCANCODE_DOWN]) ? 1 : 0;
  intent.move_x = static_cast<std::int8_t>(right - left);
  intent.move_y = static_cast<std::int8_t>(up - down);  // world y points up the screen
  if (have_self_) {
    const double scale = arena.w / (2 * rules_.half_size);
    const double mouse_x = (ui.input().mouse_x - arena.x) / scale - rules_.half_size;
    const double mouse_y = rules_.half_size - (ui.input().mouse_y - arena.y) / scale;
    intent.aim = static_cast<float>(std::atan2(mouse_y - self_y_, mouse_x - self_x_));
  }
  intent.fire = ui.input().mouse_down && ui.hovered(arena);
  return intent;
}

void GameScreen::frame(Ui& ui, std::chrono::nanoseconds frame_time, int width, int height) {
  const Box arena = arena_box(width, height);
  game_->update(frame_time, read_intent(ui, arena));
  remember_names();
  const std::vector<DrawEntity> entities = game_->view();
  if (game_->phase() == ClientPhase::over) saw_match_over_ = true;
  if (game_->phase() == ClientPhase::playing && !entities.empty()) showing_match_ = true;
  net_graph_.sample(game_->net_graph(), NetGraphOverlay::Clock::now());

  ui.fill({0, 0, width, height}, palette::background);
  draw_arena(ui, arena, entities);
  if (game_->phase() == ClientPhase::over) draw_final_scores(ui, arena);
  net_graph_.draw(ui, game_->net_graph(), net_graph_box(width, height));
  const int sidebar_x = arena.x + arena.w + 24;
  draw_sidebar(ui, {sidebar_x, arena.y, width - sidebar_x - 16, arena.h});
  // What the player saw, before the status line about it is drawn over it.
  if (report_requested_) send_report(ui);
  draw_report_status(ui, arena);
}

void GameScreen::draw_arena(Ui& ui, const Box& arena, const std::vector<DrawEntity>& entities) {
  TextRenderer& text = ui.text();
  ui.fill(arena, palette::floor);
  const double scale = arena.w / (2 * rules_.half_size);
  const auto sx = [&](double x) {
    return static_cast<float>(arena.x + (x + rules_.half_size) * scale);
  };
  const auto sy = [&](double y) {
    return static_cast<float>(arena.y + (rules_.half_size - y) * scale);
  };
  for (double m = -rules_.half_size + 10; m < rules_.half_size; m += 10) {
    ui.line(sx(m), static_cast<float>(arena.y), sx(m), static_cast<float>(arena.y + arena.h - 1),
            palette::grid);
    ui.line(static_cast<float>(arena.x), sy(m), static_cast<float>(arena.x + arena.w - 1), sy(m),
            palette::grid);
  }
  // The boundary, two pixels wide: players stop at it.
  ui.outline(arena, palette::boundary);
  ui.outline({arena.x + 1, arena.y + 1, arena.w - 2, arena.h - 2}, palette::boundary);

  if (game_->phase() == ClientPhase::connecting) {
    const std::string message = "connecting to the game server at " + server_address_ + "...";
    text.draw(message, arena.x + (arena.w - text.width(message)) / 2, arena.y + arena.h / 2,
              palette::text);
    return;
  }
  // Entity id -> lobby player, for the names over the players.
  std::map<tickwire::sim::EntityId, std::uint64_t> lobby_ids;
  for (const ScoreLine& line : game_->scores())
    lobby_ids[line.entity] = line.lobby_player_id;

  const float player_radius =
      std::max(kMinPlayerRadius, static_cast<float>(rules_.player_radius * scale));
  const float drone_radius =
      std::max(kMinDroneRadius, static_cast<float>(rules_.drone_radius * scale));
  // The edge of what the server sends us: nothing is drawn beyond it because nothing beyond it
  // arrives, so the player is shown where their sight ends.
  if (have_self_ && game_->view_radius_m() > 0) {
    const double r = game_->view_radius_m();
    constexpr int kSegments = 96;
    for (int i = 0; i < kSegments; ++i) {
      const double a0 = 2 * std::numbers::pi * i / kSegments;
      const double a1 = 2 * std::numbers::pi * (i + 1) / kSegments;
      const auto inside = [&](double v) {
        return std::clamp(v, -rules_.half_size, rules_.half_size);
      };
      ui.line(sx(inside(self_x_ + r * std::cos(a0))), sy(inside(self_y_ + r * std::sin(a0))),
              sx(inside(self_x_ + r * std::cos(a1))), sy(inside(self_y_ + r * std::sin(a1))),
              palette::sight);
    }
  }
  // Drones first, then the others, our own player last: on top.
  for (const DrawEntity& e : entities) {
    if (!e.is_player) ui.circle(sx(e.x), sy(e.y), drone_radius, palette::drone);
  }
  have_self_ = false;
  for (int pass = 0; pass < 2; ++pass) {
    for (const DrawEntity& e : entities) {
      if (!e.is_player || e.is_self != (pass == 1)) continue;
      const float x = sx(e.x), y = sy(e.y);
      if (e.is_self) {
        self_x_ = e.x;
        self_y_ = e.y;
        have_self_ = true;
      }
      if (!e.alive) {
        // Grey while dead; our own keeps a ring of its colour so the player can find it.
        if (e.is_self) ui.circle(x, y, player_radius, palette::self);
        ui.circle(x, y, e.is_self ? player_radius - 3 : player_radius, palette::dead);
        continue;
      }
      ui.circle(x, y, player_radius, e.is_self ? palette::self : palette::other);
      const float aim_length = player_radius * 2.6F;
      const float ax = x + aim_length * static_cast<float>(std::cos(e.aim));
      const float ay = y - aim_length * static_cast<float>(std::sin(e.aim));
      ui.line(x, y, ax, ay, palette::text);
      ui.line(x + 1, y, ax + 1, ay, palette::text);
      // Health bar over the player.
      const int bar_w = 28;
      const Box bar{static_cast<int>(x) - bar_w / 2, static_cast<int>(y - player_radius) - 9, bar_w,
                    4};
      ui.fill(bar, Rgb{90, 30, 30});
      ui.fill({bar.x, bar.y, bar_w * std::clamp(e.health, 0, 100) / 100, bar.h}, Rgb{110, 200, 90});
      const auto lobby_id = lobby_ids.find(e.id);
      const std::string name = e.is_self                     ? "you"
                               : lobby_id != lobby_ids.end() ? name_of(lobby_id->second)
                                                             : "";
      if (!name.empty()) {
        text.draw(name, static_cast<int>(x) - text.width(name, FontSize::small) / 2,
                  bar.y - text.line_height(FontSize::small), palette::text_dim, FontSize::small);
      }
    }
  }
}

void GameScreen::draw_sidebar(Ui& ui, const Box& sidebar) {
  TextRenderer& text = ui.text();
  int y = sidebar.y;
  const char* phase = "";
  switch (game_->phase()) {
    case ClientPhase::connecting:
      phase = "connecting";
      break;
    case ClientPhase::playing:
      phase = "playing";
      break;
    case ClientPhase::over:
      phase = "match over";
      break;
    case ClientPhase::disconnected:
      phase = "disconnected";
      break;
  }
  std::string title = "Arena  |  " + std::string(phase);
  if (game_->spectating()) {
    // Said on screen so nobody takes the view for live.
    char behind[48];
    std::snprintf(behind, sizeof behind, "  |  watching, %.0f s behind",
                  game_->spectator_delay_seconds());
    title += behind;
  }
  text.draw(title, sidebar.x, y, palette::text_dim);
  text.draw_right(clock_text(game_->remaining_seconds()), sidebar.x + sidebar.w, y - 6,
                  palette::text, FontSize::large);
  y += 40;

  // The score table.
  const int score_x = sidebar.x + sidebar.w - 110;
  const int deaths_x = sidebar.x + sidebar.w - 8;
  text.draw("Player", sidebar.x + 6, y, palette::accent, FontSize::small);
  text.draw_right("Score", score_x, y, palette::accent, FontSize::small);
  text.draw_right("Deaths", deaths_x, y, palette::accent, FontSize::small);
  y += 22;
  const std::uint64_t me = session_.lobby() != nullptr ? session_.lobby()->player_id() : 0;
  for (const ScoreLine& line : game_->scores()) {
    if (y > sidebar.y + sidebar.h / 2) break;
    const Box row{sidebar.x, y - 2, sidebar.w, 24};
    if (line.lobby_player_id == me) ui.fill(row, Rgb{40, 58, 86});
    const Rgb colour = line.connected ? palette::text : palette::text_dim;
    std::string name = name_of(line.lobby_player_id);
    if (!line.connected) name += " (left)";
    text.draw(name, sidebar.x + 6, y, colour);
    text.draw_right(std::to_string(line.score), score_x, y, colour);
    text.draw_right(std::to_string(line.deaths), deaths_x, y, colour);
    y += 24;
  }

  // The lobby chat, open over the game: Enter to type.
  const int help_height = 22;
  const int input_height = 28;
  const int chat_top = std::max(y + 16, sidebar.y + sidebar.h / 2 + 16);
  text.draw("Chat", sidebar.x, chat_top, palette::accent, FontSize::small);
  const Box log{sidebar.x, chat_top + 20, sidebar.w,
                sidebar.y + sidebar.h - help_height - input_height - 8 - (chat_top + 20)};
  ui.fill(log, Rgb{28, 31, 40});
  if (session_.lobby() != nullptr) draw_chat_log(ui, session_.lobby()->chat_log(), log);
  const Box input{sidebar.x, log.y + log.h + 4, sidebar.w, input_height};
  if (ui.focused("game_chat")) {
    if (ui.text_field("game_chat", input, chat_, "", 200)) {
      session_.send_chat(chat_);
      chat_.clear();
      ui.unfocus();
    } else if (ui.input().escape) {
      ui.unfocus();
    }
  } else {
    text.draw("Enter: chat", sidebar.x + 4, input.y + 6, palette::text_dim, FontSize::small);
    if (ui.input().enter) ui.focus("game_chat");
  }
  text.draw(game_->spectating()
                ? "spectating: no controls  |  F3 net graph  |  F8 bug report"
                : "WASD move  |  mouse aim  |  left button fire  |  F3 net graph  |  F8 bug report",
            sidebar.x, sidebar.y + sidebar.h - help_height + 4, palette::text_dim, FontSize::small);
}

void GameScreen::draw_final_scores(Ui& ui, const Box& arena) {
  TextRenderer& text = ui.text();
  const int w = 420;
  const int h = 90 + 26 * static_cast<int>(std::min<std::size_t>(game_->scores().size(), 12));
  const Box panel{arena.x + (arena.w - w) / 2, arena.y + (arena.h - h) / 2, w, h};
  ui.fill(panel, Rgb{0, 0, 0}, 210);
  ui.outline(panel, palette::panel_edge);
  const std::string title = "Match over";
  text.draw(title, panel.x + (w - text.width(title, FontSize::large)) / 2, panel.y + 12,
            palette::text, FontSize::large);
  int y = panel.y + 56;
  int rank = 1;
  for (const ScoreLine& line : game_->scores()) {
    if (rank > 12) break;
    text.draw(std::to_string(rank) + ".  " + name_of(line.lobby_player_id), panel.x + 20, y,
              rank == 1 ? palette::good : palette::text);
    text.draw_right(std::to_string(line.score) + " pts, " + std::to_string(line.deaths) + " deaths",
                    panel.x + w - 20, y, palette::text_dim);
    y += 26;
    ++rank;
  }
  text.draw("back to the lobby when the server closes the match", panel.x + 20, panel.y + h - 26,
            palette::text_dim, FontSize::small);
}

}  // namespace arena::client
