#pragma once
// The lobby's short names for the state's ids (the state's interface is public:
// tickwire/net/lobby_state.hpp).

#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

using PlayerId = LobbyPlayerId;
using RoomId = LobbyRoomId;

}  // namespace tickwire::net::lobby_detail
