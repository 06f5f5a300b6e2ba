#pragma once
// The game screen: runs the Arena client (arena::ArenaClient) once a frame with what the
// keyboard and mouse say, and draws the arena from above, the score table, the match timer, the
// lobby chat and the net graph. It lives from the lobby's match_start until the server closes
// the game connection.

#include <SDL.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "arena_client.hpp"
#include "lobby_session.hpp"
#include "net_graph.hpp"
#include "ui.hpp"

namespace arena::client {

class GameScreen {
 public:
  GameScreen(LobbySession& session, std::unique_ptr<ArenaClient> game, std::string server_address);

  // A key went down (F3 toggles the net graph, F8 sends a bug report: a screenshot of this
  // frame, kept in the download folder and sent to the game server).
  void on_key(SDL_Keycode key);
  // Turns this frame's input into an Intent, runs the client for `frame_time`, draws.
  void frame(Ui& ui, std::chrono::nanoseconds frame_time, int width, int height);

  // The match is on screen: the game is running and the server's entities have arrived.
  bool showing_match() const { return showing_match_; }
  // The server closed the game connection (or it failed): back to the lobby.
  bool finished() const { return game_->phase() == ClientPhase::disconnected; }
  // Why it finished, for the lobby's status line.
  std::string end_message(bool& error) const;
  // The last bug report (F8) and how far it got.
  const ReportProgress& report() const { return game_->report(); }
  // Watching, not playing: a lost connection has no seat to come back to.
  bool spectating() const { return game_->spectating(); }

 private:
  Intent read_intent(Ui& ui, const Box& arena) const;
  void draw_arena(Ui& ui, const Box& arena, const std::vector<DrawEntity>& entities);
  void draw_sidebar(Ui& ui, const Box& sidebar);
  void draw_final_scores(Ui& ui, const Box& arena);
  // Saves what this frame drew and sends it to the server as a bug report.
  void send_report(Ui& ui);
  void draw_report_status(Ui& ui, const Box& arena);
  std::string name_of(std::uint64_t lobby_player_id) const;
  void remember_names();

  LobbySession& session_;
  std::unique_ptr<ArenaClient> game_;
  std::string server_address_;
  Config rules_;  // the arena's size and the radii to draw with
  NetGraphOverlay net_graph_;
  std::string chat_;
  bool showing_match_ = false;
  bool saw_match_over_ = false;
  // Where our own player was last drawn, in metres: the mouse aims from there.
  double self_x_ = 0, self_y_ = 0;
  bool have_self_ = false;
  bool report_requested_ = false;  // F8: at the end of this frame
  std::string report_problem_;     // the last report could not leave: why
  // Lobby names by lobby player id, kept after a member leaves the room so the score table
  // still names them.
  std::map<std::uint64_t, std::string> names_;
};

}  // namespace arena::client
