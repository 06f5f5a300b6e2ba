#include "lobby_session.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "key_file.hpp"

namespace arena::client {
namespace {

namespace net = tickwire::net;

// The game mode rooms of this game are created with and listed by.
constexpr const char* kGameMode = "arena";

}  // namespace

LobbySession::LobbySession(SessionOptions options)
    : options_(std::move(options)), pending_name_(options_.name) {}

void LobbySession::start() {
  net::LanBrowserConfig config;
  config.discovery_port = options_.discovery_port;
  config.pin_file = options_.known_servers;
  net::Status status;
  if (config.pin_file.empty()) {
    auto path = arena::config_file_path("known-servers");
    if (path) {
      config.pin_file = path.value();
    } else {
      status = net::Status::error(path.error() + " (--known-servers)");
    }
  }
  if (status.ok()) {
    auto browser = net::LanBrowser::start(config);
    if (browser) {
      lan_ = std::move(browser.value());
    } else {
      status = net::Status::error(browser.error());
    }
  }
  // The LAN list is a convenience: without it the client still works with --lobby-host.
  if (!status.ok()) lan_error_ = "LAN discovery unavailable: " + status.message();
  if (options_.lan) {
    if (!lan_) {
      fatal_ = "--lan: " + lan_error_;
      return;
    }
    set_status("listening for LAN servers on UDP port " + std::to_string(options_.discovery_port),
               false);
    return;
  }
  if (!options_.lobbies.empty()) {
    connect_to(options_.lobbies.front().host, options_.lobbies.front().port);
    return;
  }
  connect_to(options_.lobby_host, options_.lobby_port);
}

bool LobbySession::fail_over() {
  if (options_.lobbies.size() < 2 || failovers_ + 1 >= options_.lobbies.size()) return false;
  if (lobby_ && !lobby_->resume_token().empty()) resume_token_ = lobby_->resume_token();
  if (resume_token_.empty()) return false;
  ++failovers_;
  lobby_index_ = (lobby_index_ + 1) % options_.lobbies.size();
  // The lobbies share their state: the next one resumes the seat (docs/cluster.md).
  lobby_host_ = options_.lobbies[lobby_index_].host;
  lobby_port_ = options_.lobbies[lobby_index_].port;
  come_back();
  return true;
}

void LobbySession::connect_to(const std::string& host, std::uint16_t port) {
  lobby_.reset();  // closes the previous lobby connection: its room and seat go with it
  requests_.clear();
  match_.reset();
  ever_connected_ = false;
  in_room_ = false;
  lobby_address_ = host + ":" + std::to_string(port);
  lobby_host_ = host;
  lobby_port_ = port;
  resuming_ = false;
  net::LobbyClientConfig config;
  config.websocket.server_host = host;
  config.websocket.server_port = port;
  apply_lobby_tls(options_.lobby_tls, config.websocket);
  auto client = net::LobbyClient::connect(config);
  if (!client) {
    const std::string message =
        "cannot connect to the lobby at " + lobby_address_ + ": " + client.error();
    if (first_connection_) {
      fatal_ = message;
    } else {
      set_status(message, true);
    }
    return;
  }
  lobby_ = std::move(client.value());
  set_status("connecting to the lobby at " + lobby_address_ + "...", false);
}

void LobbySession::come_back() {
  if (lobby_ && !lobby_->resume_token().empty()) resume_token_ = lobby_->resume_token();
  if (resume_token_.empty() || lobby_port_ == 0) {
    set_status("the connection was lost, and there is no seat to come back to", true);
    return;
  }
  connect_to(lobby_host_, lobby_port_);  // the old connection goes; the lobby keeps the seat
  resuming_ = true;
  resume_attempts_ = 0;
  resume_retry_ = Clock::time_point::max();
  set_status("reconnecting...", false);
}

void LobbySession::join_lan_server(const net::DiscoveredServer& server) {
  if (const net::Status pinned = lan_->pin(server); !pinned.ok()) {
    // Still joinable: the signature was checked; only the memory of its key is lost.
    std::fprintf(stderr, "tickwire-client: cannot pin the key of '%s': %s\n",
                 server.announcement.name.c_str(), pinned.message().c_str());
  }
  connect_to(server.address, server.announcement.lobby_port);
}

bool LobbySession::welcomed() const {
  return lobby_ && lobby_->state() == net::LobbyClientState::welcomed;
}

void LobbySession::set_status(std::string text, bool error) {
  if (text == status_) return;
  status_ = std::move(text);
  status_error_ = error;
  // The status line is also the client's log: scripts running it read what happened here.
  std::fprintf(error ? stderr : stdout, "tickwire-client: %s\n", status_.c_str());
  std::fflush(error ? stderr : stdout);
}

std::optional<net::LobbyMatch> LobbySession::take_match() {
  return std::exchange(match_, std::nullopt);
}

void LobbySession::track(std::uint64_t request_id, std::string what) {
  if (request_id != 0) requests_[request_id] = std::move(what);
}

void LobbySession::hello(const std::string& nickname) {
  pending_name_ = nickname;
  if (lobby_) track(lobby_->hello(nickname), "name '" + nickname + "'");
}

void LobbySession::refresh_rooms() {
  if (welcomed()) track(lobby_->list_rooms(kGameMode), "room list");
}

void LobbySession::create_room(const std::string& name) {
  if (welcomed()) track(lobby_->create_room(name, kGameMode), "create room '" + name + "'");
}

void LobbySession::join_room(std::uint64_t room_id) {
  if (welcomed()) track(lobby_->join_room(room_id), "join room");
}

void LobbySession::leave_room() {
  if (welcomed()) track(lobby_->leave_room(), "leave room");
}

void LobbySession::set_ready(bool ready) {
  if (welcomed()) track(lobby_->set_ready(ready), ready ? "ready" : "not ready");
}

void LobbySession::start_match() {
  if (welcomed()) track(lobby_->start_match(), "start match");
}

void LobbySession::spectate(std::uint64_t room_id) {
  if (welcomed()) track(lobby_->spectate_match(room_id), "watch match");
}

void LobbySession::send_chat(const std::string& text) {
  if (!welcomed() || text.empty()) return;
  // Room chat when in a room, the lobby's global chat when not, so that typing a line outside a
  // room is not just refused with not_in_room.
  const net::ChatScope scope = lobby_->room() ? net::ChatScope::room : net::ChatScope::global;
  track(lobby_->chat(text, scope), "chat");
}

void LobbySession::update(Clock::time_point now) {
  if (lan_) {
    lan_->poll();
    lan_servers_ = lan_->servers();
    // Only servers whose beacons are signed (the browser drops unsigned ones already).
    std::erase_if(lan_servers_, [](const net::DiscoveredServer& s) { return !s.verified; });
    if (options_.lan && !lobby_) {
      // A server joined before (its key pinned) if one is heard, else the first heard.
      const net::DiscoveredServer* chosen = nullptr;
      for (const net::DiscoveredServer& server : lan_servers_) {
        if (server.announcement.lobby_port == 0) continue;  // a game server without a lobby
        if (chosen == nullptr || (server.pinned && !chosen->pinned)) chosen = &server;
      }
      if (chosen != nullptr) {
        set_status("heard '" + chosen->announcement.name + "' on the LAN, verified key " +
                       net::fingerprint(chosen->public_key) +
                       (chosen->pinned ? " (known)" : " (new)"),
                   false);
        join_lan_server(*chosen);
      }
    }
  }
  if (!lobby_) return;
  net::LobbyEvent event;
  while (lobby_ && lobby_->poll(event))
    handle_event(event, now);
  if (resuming_ && now >= resume_retry_ && lobby_ &&
      lobby_->state() == net::LobbyClientState::connected) {
    resume_retry_ = Clock::time_point::max();
    lobby_->hello_resume(resume_token_);
  }
  automate(now);
}

void LobbySession::handle_event(const net::LobbyEvent& event, Clock::time_point now) {
  switch (event.type) {
    case net::LobbyEventType::connected:
      ever_connected_ = true;
      first_connection_ = false;
      if (resuming_) {
        lobby_->hello_resume(resume_token_);
        break;
      }
      set_status("connected to the lobby at " + lobby_address_, false);
      if (!pending_name_.empty()) hello(pending_name_);
      break;
    case net::LobbyEventType::disconnected:
      if ((ever_connected_ || resuming_) && fail_over()) break;
      if (!ever_connected_ && first_connection_) {
        fatal_ = "cannot reach the lobby at " + lobby_address_ + " (" +
                 std::string(net::to_string(event.reason)) + ")";
      } else if (!ever_connected_) {
        set_status("cannot reach the lobby at " + lobby_address_ + " (" +
                       std::string(net::to_string(event.reason)) + ")",
                   true);
      } else {
        set_status(
            "the lobby closed the connection (" + std::string(net::to_string(event.reason)) + ")",
            true);
      }
      break;
    case net::LobbyEventType::reply: {
      const auto it = requests_.find(event.request_id);
      const std::string what = it != requests_.end() ? it->second : "request";
      if (it != requests_.end()) requests_.erase(it);
      if (event.error == net::LobbyError::none) break;
      if (resuming_ && event.error == net::LobbyError::resume_failed && ++resume_attempts_ < 20) {
        // The lobby may not have seen the old connection go yet: ask again shortly.
        resume_retry_ = now + std::chrono::milliseconds(250);
        break;
      }
      std::string message = what + ": " + std::string(net::to_string(event.error));
      if (!event.error_message.empty()) message += " (" + event.error_message + ")";
      set_status(message, true);
      if (event.error == net::LobbyError::not_all_ready) start_sent_ = false;  // try again
      if (event.error == net::LobbyError::room_full ||
          event.error == net::LobbyError::room_not_found) {
        room_requested_ = false;  // --join: look again
        next_room_list_ = now;
      }
      if (event.error == net::LobbyError::no_match ||
          event.error == net::LobbyError::room_not_found) {
        spectate_requested_ = false;  // --spectate: wait for the room's match
      }
      break;
    }
    case net::LobbyEventType::welcome:
      resume_token_ = lobby_->resume_token();
      failovers_ = 0;
      if (resuming_) {
        resuming_ = false;
        in_room_ = lobby_->room().has_value();
        set_status(in_room_ && lobby_->room()->summary.in_match
                       ? "reconnected: back in your seat, rejoining the match..."
                       : "reconnected: back in your seat",
                   false);
        break;
      }
      set_status("welcome, " + lobby_->nickname(), false);
      refresh_rooms();
      next_room_list_ = now + std::chrono::milliseconds(500);
      break;
    case net::LobbyEventType::room_left:
      in_room_ = false;
      set_status(event.kicked ? "you were kicked from the room" : "you left the room",
                 event.kicked);
      refresh_rooms();
      break;
    case net::LobbyEventType::match_start:
      set_status(event.match.spectator ? "watching the match on " + event.match.server_address
                                       : "the match starts on " + event.match.server_address,
                 false);
      match_ = event.match;
      matched_ = true;
      break;
    case net::LobbyEventType::match_end:
      // The room is back in the lobby with everyone unready: --auto-ready / --auto-start act
      // again for the next match.
      switch (event.match_end_reason) {
        case net::MatchEndReason::finished:
          set_status("the match is over: get ready for the next one", false);
          break;
        case net::MatchEndReason::abandoned:
          set_status("the match ended: every player left the game server", true);
          break;
        case net::MatchEndReason::nobody_joined:
          set_status("the match ended: no player reached the game server in time", true);
          break;
        case net::MatchEndReason::server_lost:
          set_status("the match ended: the lobby lost its game server", true);
          break;
      }
      matched_ = false;
      ready_sent_ = false;
      start_sent_ = false;
      break;
    case net::LobbyEventType::room_changed:
      if (!in_room_) {
        in_room_ = true;
        refresh_rooms();  // the list now has our room, or its new member count
      }
      break;
    case net::LobbyEventType::room_list:
    case net::LobbyEventType::chat:
      break;  // the screens read room(), rooms() and chat_log() directly
  }
}

void LobbySession::automate(Clock::time_point now) {
  if (!welcomed()) return;
  const auto& room = lobby_->room();
  const bool looking_for_room = (!options_.room.empty() && options_.join && !room_requested_) ||
                                (!options_.spectate.empty() && !spectate_requested_);
  if (now >= next_room_list_) {
    // Keep the room list fresh (the lobby does not push it); poll faster while --join looks for
    // its room (the creator may not have made it yet).
    refresh_rooms();
    next_room_list_ =
        now + (looking_for_room ? std::chrono::milliseconds(500) : std::chrono::seconds(3));
  }
  if (!options_.spectate.empty() && !spectate_requested_ && !match_) {
    for (const net::LobbyRoomSummary& summary : lobby_->rooms()) {
      if (summary.name == options_.spectate && summary.in_match) {
        spectate(summary.room_id);
        spectate_requested_ = true;
        break;
      }
    }
  }
  if (!options_.room.empty() && !room && !room_requested_) {
    if (options_.create) {
      create_room(options_.room);
      room_requested_ = true;
    } else if (options_.join) {
      for (const net::LobbyRoomSummary& summary : lobby_->rooms()) {
        if (summary.name == options_.room && !summary.in_match &&
            summary.players < summary.max_players) {
          join_room(summary.room_id);
          room_requested_ = true;
          break;
        }
      }
    }
  }
  if (!room) return;
  if (options_.auto_ready && !ready_sent_) {
    const net::LobbyMember* self = room->member(lobby_->player_id());
    if (self != nullptr && !self->ready) set_ready(true);
    ready_sent_ = true;
  }
  if (options_.auto_start > 0 && !start_sent_ && !matched_ && lobby_->is_host() &&
      room->members.size() >= static_cast<std::size_t>(options_.auto_start) &&
      room->everyone_ready()) {
    start_match();
    start_sent_ = true;
  }
}

}  // namespace arena::client
