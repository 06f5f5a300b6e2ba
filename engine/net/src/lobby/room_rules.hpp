#pragma once
// The rules a room follows whatever store keeps it: who may join, what leaving does to the host
// and the room, when a match may start and what its end resets. Every LobbyState applies them to
// a RoomInfo inside its own atomic step (a lock, a Redis transaction), so that the stores agree.

#include <cstdint>
#include <vector>

#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

std::vector<MemberInfo>::iterator find_member(RoomInfo& room, LobbyPlayerId player);

// Whether `room` is one that `filter` lists (its cursor and limit are the caller's).
bool passes(const RoomFilter& filter, const RoomInfo& room);

// A seat for `member`, unless the room plays a match or is full.
StateError add_member(RoomInfo& room, const MemberInfo& member);

// Takes `player` out; the first remaining member becomes host if the host left. `emptied`: no
// one is left, and the room is to close.
StateError remove_member(RoomInfo& room, LobbyPlayerId player, bool& emptied);

// The match starts if `host` is the host, no match runs and every member is ready and
// connected: checked here, inside the store's atomic step, not on an earlier copy.
StateError begin_match(RoomInfo& room, LobbyPlayerId host, std::uint64_t match_id,
                       const MatchServer& server, std::uint32_t reserved_slots,
                       std::uint64_t now_unix_ms);

// Back to the lobby: no match, no server, no reservation, every member unready.
void finish_match(RoomInfo& room);

}  // namespace tickwire::net::lobby_detail
