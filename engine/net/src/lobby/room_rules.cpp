#include "room_rules.hpp"

#include <algorithm>

namespace tickwire::net::lobby_detail {

std::vector<MemberInfo>::iterator find_member(RoomInfo& room, LobbyPlayerId player) {
  return std::find_if(room.members.begin(), room.members.end(),
                      [&](const MemberInfo& member) { return member.player == player; });
}

bool passes(const RoomFilter& filter, const RoomInfo& room) {
  if (!filter.game_mode.empty() && room.game_mode != filter.game_mode) return false;
  if (filter.only_free_seats && !room.has_free_seat()) return false;
  if (filter.in_match_only && room.match_id == 0) return false;
  return true;
}

StateError add_member(RoomInfo& room, const MemberInfo& member) {
  if (room.match_id != 0) return StateError::match_in_progress;
  if (room.members.size() >= room.max_players) return StateError::room_full;
  room.members.push_back(member);
  return StateError::none;
}

StateError remove_member(RoomInfo& room, LobbyPlayerId player, bool& emptied) {
  emptied = false;
  const auto member = find_member(room, player);
  if (member == room.members.end()) return StateError::not_in_room;
  room.members.erase(member);
  emptied = room.members.empty();
  if (!emptied && room.host == player) room.host = room.members.front().player;
  return StateError::none;
}

StateError begin_match(RoomInfo& room, LobbyPlayerId host, std::uint64_t match_id,
                       const MatchServer& server, std::uint32_t reserved_slots,
                       std::uint64_t now_unix_ms) {
  if (room.host != host) return StateError::not_host;
  if (room.match_id != 0) return StateError::match_in_progress;
  for (const MemberInfo& member : room.members) {
    if (!member.ready || !member.connected) return StateError::not_all_ready;
  }
  room.match_id = match_id;
  room.match_server = server;
  room.match_started_unix_ms = now_unix_ms;
  room.match_began = false;
  room.match_reserved_slots = reserved_slots;
  return StateError::none;
}

void finish_match(RoomInfo& room) {
  room.match_id = 0;
  room.match_server = {};
  room.match_started_unix_ms = 0;
  room.match_began = false;
  room.match_reserved_slots = 0;
  for (MemberInfo& member : room.members)
    member.ready = false;
}

}  // namespace tickwire::net::lobby_detail
