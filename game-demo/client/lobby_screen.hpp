#pragma once
// The lobby screen: your name, the servers heard on the LAN, the room list, the room you are in
// (members, ready marks, host, Ready and Start), the chat and a status line with the lobby's
// last answer; under the player's column, the lobby's recent replays and the files it offers, to
// download (a DownloadShelf each). It draws the LobbySession and turns clicks and typing into its
// requests.

#include <string>

#include "download_shelf.hpp"
#include "lobby_session.hpp"
#include "ui.hpp"

namespace arena::client {

class LobbyScreen {
 public:
  // `download_replay`, `download_file`: downloaded as soon as listed (DownloadShelf).
  LobbyScreen(LobbySession& session, const std::string& download_dir,
              const std::string& download_replay, const std::string& download_file)
      : session_(session),
        replays_(replay_shelf_kind(), session, download_dir, download_replay),
        files_(file_shelf_kind(), session, download_dir, download_file) {}

  // Draws the screen into a `width` x `height` window and acts on this frame's input.
  void frame(Ui& ui, int width, int height);

 private:
  void header(Ui& ui, int width);
  void player_column(Ui& ui, const Box& column);
  void rooms_column(Ui& ui, const Box& column);
  void room_column(Ui& ui, const Box& column);
  void status_line(Ui& ui, int width, int height);

  LobbySession& session_;
  DownloadShelf replays_;  // the lower part of the first column
  DownloadShelf files_;    // under the replays
  std::string new_room_;
  std::string chat_;
};

}  // namespace arena::client
