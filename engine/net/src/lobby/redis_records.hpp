#pragma once
// The lobby state's records as Redis stores them: a room, a resume record, a game server, a chat
// line and a broadcast, each one binary string (little-endian integers, length-prefixed bytes).
// Redis is trusted (only lobby processes write it), but a record that does not decode is still
// refused, never read past its end: decode_* return nothing for it.

#include <optional>
#include <string>
#include <string_view>

#include "lobby/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

std::string encode_room(const RoomInfo& room);
std::optional<RoomInfo> decode_room(std::string_view bytes);

std::string encode_resume(const ResumeRecord& record);
std::optional<ResumeRecord> decode_resume(std::string_view bytes);

std::string encode_game_server(const GameServerInfo& server);
std::optional<GameServerInfo> decode_game_server(std::string_view bytes);

std::string encode_chat(const ChatEntry& entry);
std::optional<ChatEntry> decode_chat(std::string_view bytes);

std::string encode_broadcast(const Broadcast& broadcast);
std::optional<Broadcast> decode_broadcast(std::string_view bytes);

}  // namespace tickwire::net::lobby_detail
