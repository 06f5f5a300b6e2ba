#pragma once
// The client's side of the lobby, apart from how it is drawn: the connection (to --lobby-host, or
// to a server heard on the LAN), the LAN server list, the status line, and the automation flags
// (--room with --create/--join, --auto-ready, --auto-start) that let a script drive the client
// through the lobby into a match the way tickwire-bot does. The lobby connection stays open for
// the whole run, during matches too (chat).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tickwire/net/lan_discovery.hpp>
#include <tickwire/net/lobby_client.hpp>

#include "host_port.hpp"
#include "lobby_tls.hpp"

namespace arena::client {

struct SessionOptions {
  std::string lobby_host = "127.0.0.1";
  std::uint16_t lobby_port = 7700;
  // The lobbies of a cluster (--lobby HOST:PORT, repeatable): the client starts on the first and,
  // when the connection to one drops, resumes its seat on the next. Empty: lobby_host alone.
  std::vector<HostPort> lobbies;
  LobbyTlsOptions lobby_tls;  // also for a lobby found on the LAN
  std::string name;           // empty: the user types one
  bool lan = false;           // connect to a verified server heard on the LAN instead of lobby_host
  std::uint16_t discovery_port = 7779;
  std::string known_servers;  // pin file; empty: known-servers in the user's config directory
  std::string room;           // with create or join: go to this room by yourself
  bool create = false;
  bool join = false;
  bool auto_ready = false;
  int auto_start = 0;    // as host, start when this many members are all ready (0: never)
  std::string spectate;  // watch the match of the room with this name once it plays one
  std::string download_dir = "downloads";  // where replays and files from the lobby go
  std::string download_replay;  // downloaded as soon as the lobby lists it (scripts, tests)
  std::string download_file;    // the same for one of the lobby's served files
};

class LobbySession {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LobbySession(SessionOptions options);

  // Starts listening for LAN beacons and, unless --lan, connects to the lobby.
  void start();
  // Per frame: LAN beacons, lobby events, automation.
  void update(Clock::time_point now);

  // Drops the current lobby connection and connects to another lobby.
  void connect_to(const std::string& host, std::uint16_t port);
  // After a drop (the game connection lost mid-match, a cut network): a new connection to the
  // same lobby that resumes this player's seat with the resume token; if the room still plays,
  // the lobby hands out a fresh ticket for the same match (take_match()). Shows "reconnecting...".
  void come_back();
  bool coming_back() const { return resuming_; }
  // Pins the server's key (trust on first use: from then on an impostor using its name is not
  // listed) and connects to its lobby. For a LAN server clicked, or chosen by --lan.
  void join_lan_server(const tickwire::net::DiscoveredServer& server);

  // The lobby connection, null before the first one (--lan waiting for a beacon).
  tickwire::net::LobbyClient* lobby() { return lobby_.get(); }
  const tickwire::net::LobbyClient* lobby() const { return lobby_.get(); }
  bool welcomed() const;
  const std::string& lobby_address() const { return lobby_address_; }
  // The lobby connected to (or being connected to): its HTTP serves the replays on the same port.
  const std::string& lobby_host() const { return lobby_host_; }
  std::uint16_t lobby_port() const { return lobby_port_; }
  const LobbyTlsOptions& lobby_tls() const { return options_.lobby_tls; }
  // Where what the player keeps goes: downloads, and a copy of each bug report they send.
  const std::string& download_dir() const { return options_.download_dir; }

  // Verified LAN servers heard recently, the most recently heard first.
  const std::vector<tickwire::net::DiscoveredServer>& lan_servers() const { return lan_servers_; }
  const std::string& lan_error() const { return lan_error_; }
  bool waiting_for_lan() const { return options_.lan && !lobby_; }

  const std::string& status() const { return status_; }
  bool status_is_error() const { return status_error_; }
  void set_status(std::string text, bool error);

  // Set when the first lobby could not be reached: the program reports it and exits 1.
  const std::optional<std::string>& fatal_error() const { return fatal_; }

  // A match the lobby started, handed out once.
  std::optional<tickwire::net::LobbyMatch> take_match();

  // What the user asks for.
  void hello(const std::string& nickname);
  void refresh_rooms();
  void create_room(const std::string& name);
  void join_room(std::uint64_t room_id);
  void leave_room();
  void set_ready(bool ready);
  void start_match();
  // Watch the match room `room_id` plays (a spectator's ticket comes as take_match()).
  void spectate(std::uint64_t room_id);
  void send_chat(const std::string& text);

  // The name the user typed or --name, kept for the name field.
  std::string& pending_name() { return pending_name_; }

 private:
  void handle_event(const tickwire::net::LobbyEvent& event, Clock::time_point now);
  // The lobby connection dropped: with more than one lobby known and a seat to come back to,
  // come_back() on the next lobby, at most once round the list until a welcome. True if it did.
  bool fail_over();
  void automate(Clock::time_point now);
  void track(std::uint64_t request_id, std::string what);

  SessionOptions options_;
  std::unique_ptr<tickwire::net::LanBrowser> lan_;
  std::vector<tickwire::net::DiscoveredServer> lan_servers_;
  std::string lan_error_;
  std::unique_ptr<tickwire::net::LobbyClient> lobby_;
  std::string lobby_address_;
  std::string lobby_host_;
  std::uint16_t lobby_port_ = 0;
  std::string resume_token_;     // the lobby's latest, for come_back()
  std::size_t lobby_index_ = 0;  // which of options_.lobbies lobby_host_ is
  std::size_t failovers_ = 0;    // lobbies tried since the last welcome
  bool resuming_ = false;        // the next welcome answers hello_resume()
  int resume_attempts_ = 0;      // hello_resume() refused so far this time
  Clock::time_point resume_retry_ = Clock::time_point::max();
  bool first_connection_ = true;  // failing to reach this one is fatal
  bool ever_connected_ = false;   // the current connection opened
  bool in_room_ = false;          // as of the last room event
  std::optional<std::string> fatal_;
  std::string status_;
  bool status_error_ = false;
  std::string pending_name_;
  std::map<std::uint64_t, std::string> requests_;  // request id -> what it was, for errors
  std::optional<tickwire::net::LobbyMatch> match_;
  Clock::time_point next_room_list_{};
  // Automation progress: each step is taken once.
  bool room_requested_ = false;
  bool ready_sent_ = false;
  bool start_sent_ = false;
  bool matched_ = false;
  bool spectate_requested_ = false;
};

}  // namespace arena::client
