// LobbyConfig::validate(): each failure names the field, its value and what is allowed.

#include <algorithm>
#include <filesystem>
#include <string>

#include "lobby/lobby_messages.hpp"
#include "lobby/lobby_validation.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::net {
namespace {

Status bad(const char* field, const std::string& value, const std::string& allowed) {
  return Status::error(std::string("LobbyConfig.") + field + " = " + value +
                       " is invalid: " + allowed);
}

}  // namespace

Status LobbyConfig::validate() const {
  WebSocketServerConfig transport = websocket;
  transport.common.framing = WebSocketFraming::raw;
  transport.common.channel_count = 2;
  // The lobby's players have no tickets yet: they come here for them. Gameplay session settings
  // do not apply (the lobby's own connection is protected by TLS, not by a ticket's keys).
  transport.require_ticket.reset();
  transport.security = SessionSecurity::plaintext_for_development;
  if (Status status = transport.validate(); !status.ok()) {
    return Status::error("LobbyConfig.websocket." + status.message());
  }
  const std::size_t max_message = websocket.common.max_message_size;
  if (hello_timeout_ms == 0) return bad("hello_timeout_ms", "0", "use > 0");
  if (min_nickname_length < 1 || min_nickname_length > max_nickname_length) {
    return bad("min_nickname_length", std::to_string(min_nickname_length),
               "use 1..max_nickname_length");
  }
  if (max_nickname_length > 64) {
    return bad("max_nickname_length", std::to_string(max_nickname_length), "use at most 64");
  }
  if (max_room_name_length < 1 || max_room_name_length > 256) {
    return bad("max_room_name_length", std::to_string(max_room_name_length), "use 1..256");
  }
  if (max_game_mode_length > 256) {
    return bad("max_game_mode_length", std::to_string(max_game_mode_length), "use 0..256");
  }
  if (max_chat_length < 1 || max_chat_length > max_message / 4) {
    return bad("max_chat_length", std::to_string(max_chat_length),
               "use 1..websocket.common.max_message_size / 4 (" + std::to_string(max_message / 4) +
                   "), so that a chat line printed as JSON fits in a message with its envelope");
  }
  if (max_rooms < 1) return bad("max_rooms", std::to_string(max_rooms), "use >= 1");
  if (max_rooms_per_address < 1 || max_rooms_per_address > max_rooms) {
    return bad("max_rooms_per_address", std::to_string(max_rooms_per_address),
               "use 1..max_rooms (" + std::to_string(max_rooms) + ")");
  }
  if (max_nicknames_per_address < 1) {
    return bad("max_nicknames_per_address", std::to_string(max_nicknames_per_address), "use >= 1");
  }
  if (global_chat_bytes_per_second < max_message) {
    return bad(
        "global_chat_bytes_per_second", std::to_string(global_chat_bytes_per_second),
        "use at least websocket.common.max_message_size (" + std::to_string(max_message) + ")");
  }
  if (max_rooms_per_page < 1 || max_rooms_per_page > 1000) {
    return bad("max_rooms_per_page", std::to_string(max_rooms_per_page), "use 1..1000");
  }
  if (max_players_per_room < 2 || max_players_per_room > 10000) {
    return bad("max_players_per_room", std::to_string(max_players_per_room), "use 2..10000");
  }
  // A full room's reply to JoinRoom must fit in one message, or its last players could not be
  // told they joined. Every member costs the same bytes, so two sizes give the largest room.
  if (const std::size_t full = lobby_detail::largest_room_detail_bytes(*this); full > max_message) {
    LobbyConfig room = *this;
    room.max_players_per_room = 2;
    const std::size_t two = lobby_detail::largest_room_detail_bytes(room);
    room.max_players_per_room = 3;
    const std::size_t per_player = lobby_detail::largest_room_detail_bytes(room) - two;
    const std::size_t fits = two > max_message ? 0 : 2 + (max_message - two) / per_player;
    return bad("max_players_per_room", std::to_string(max_players_per_room),
               "a full room's reply to JoinRoom takes up to " + std::to_string(full) +
                   " bytes, over websocket.common.max_message_size (" +
                   std::to_string(max_message) + "): use at most " + std::to_string(fits) +
                   " (2 at least), shorter nicknames or a larger max_message_size");
  }
  if (chat_history_length > 1000) {
    return bad("chat_history_length", std::to_string(chat_history_length), "use 0..1000");
  }
  if (chat_history_bytes > max_message) {
    return bad("chat_history_bytes", std::to_string(chat_history_bytes),
               "use 0..websocket.common.max_message_size (" + std::to_string(max_message) + ")");
  }
  if (max_malformed_frames < 1) {
    return bad("max_malformed_frames", std::to_string(max_malformed_frames), "use >= 1");
  }
  if (chat_burst < 1) return bad("chat_burst", std::to_string(chat_burst), "use >= 1");
  if (!(chat_lines_per_second > 0)) {
    return bad("chat_lines_per_second", std::to_string(chat_lines_per_second), "use > 0");
  }
  if (flood_strikes < 1) return bad("flood_strikes", std::to_string(flood_strikes), "use >= 1");
  if (request_burst < 1) return bad("request_burst", std::to_string(request_burst), "use >= 1");
  if (!(requests_per_second > 0)) {
    return bad("requests_per_second", std::to_string(requests_per_second), "use > 0");
  }
  if (ticket_lifetime_ms < 1000) {
    return bad("ticket_lifetime_ms", std::to_string(ticket_lifetime_ms),
               "use >= 1000: players need time to reach the game server");
  }
  if (match_join_deadline_ms < ticket_lifetime_ms) {
    return bad("match_join_deadline_ms", std::to_string(match_join_deadline_ms),
               "use at least ticket_lifetime_ms (" + std::to_string(ticket_lifetime_ms) +
                   "): a player with a ticket may still arrive until it expires");
  }
  if (game_server_lease_ms < 100) {
    return bad("game_server_lease_ms", std::to_string(game_server_lease_ms),
               "use >= 100 (game servers report every second: at least 3000 in production)");
  }
  if (nickname_lease_ms < 300) {
    return bad("nickname_lease_ms", std::to_string(nickname_lease_ms),
               "use >= 300 (renewed every third of it: 15000 in production)");
  }
  if (stall_ms < 100) return bad("stall_ms", std::to_string(stall_ms), "use >= 100");
  if (state_workers < 1 || state_workers > 64) {
    return bad("state_workers", std::to_string(state_workers), "use 1..64");
  }
  if (max_queued_requests < 1 || max_queued_requests > 4096) {
    return bad("max_queued_requests", std::to_string(max_queued_requests), "use 1..4096");
  }
  if (http_burst < 1) return bad("http_burst", std::to_string(http_burst), "use >= 1");
  if (max_replays_listed < 1 || max_replays_listed > 1000) {
    return bad("max_replays_listed", std::to_string(max_replays_listed), "use 1..1000");
  }
  if (!files_directory.empty()) {
    std::error_code error;
    if (!std::filesystem::is_directory(files_directory, error)) {
      return bad("files_directory", files_directory,
                 "use an existing directory (or leave it empty to serve no files)");
    }
  }
  if (max_files_listed < 1 || max_files_listed > 1000) {
    return bad("max_files_listed", std::to_string(max_files_listed), "use 1..1000");
  }
  for (const std::string& token : upload_tokens) {
    const bool printable =
        std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 127; });
    if (token.size() < 32 || !printable) {
      // Never the token itself in the message: it is a secret.
      return bad("upload_tokens", "(one of " + std::to_string(upload_tokens.size()) + ")",
                 "use at least 32 printable characters without spaces (e.g. openssl rand -hex 32)");
    }
  }
  if (max_upload_bytes < 1024 || max_upload_bytes > (16ull << 30)) {
    return bad("max_upload_bytes", std::to_string(max_upload_bytes), "use 1024..17179869184");
  }
  if (keep_replays > 1'000'000) {
    return bad("keep_replays", std::to_string(keep_replays), "use 0 (keep all)..1000000");
  }
  if (!(http_requests_per_second > 0)) {
    return bad("http_requests_per_second", std::to_string(http_requests_per_second), "use > 0");
  }
  if (!local_game_server.empty() && local_game_server.find(':') == std::string::npos) {
    return bad("local_game_server", "'" + local_game_server + "'",
               "use host:port, e.g. 127.0.0.1:7777, or empty for none");
  }
  if (!local_game_server_websocket.empty() &&
      (local_game_server.empty() || local_game_server_websocket.find(':') == std::string::npos)) {
    return bad("local_game_server_websocket", "'" + local_game_server_websocket + "'",
               "use host:port of local_game_server's WebSocket endpoint, or empty for none");
  }
  if (local_game_server_seal_key &&
      !lobby_detail::is_usable_seal_key(*local_game_server_seal_key)) {
    return bad("local_game_server_seal_key", "(a low-order point, such as all zeros)",
               "use the game server's GameServerSealKeys::public_key, or unset for a server "
               "without encryption");
  }
  if (max_game_server_capacity < 1 || max_game_server_capacity > 1'000'000) {
    return bad("max_game_server_capacity", std::to_string(max_game_server_capacity),
               "use 1..1000000");
  }
  if (registration_lockout_ms < 1) return bad("registration_lockout_ms", "0", "use >= 1");
  if (registration_max_lockout_ms < registration_lockout_ms) {
    return bad(
        "registration_max_lockout_ms", std::to_string(registration_max_lockout_ms),
        "use at least registration_lockout_ms (" + std::to_string(registration_lockout_ms) + ")");
  }
  if (max_registration_backoff_addresses < 1) {
    return bad("max_registration_backoff_addresses", "0", "use >= 1");
  }
  return {};
}

}  // namespace tickwire::net
