#pragma once
// What the request handlers share: a FlatBuffers string as text, and a StateError as the error
// code and words a client gets.

#include <string>

#include "lobby/lobby_codec.hpp"
#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

inline std::string str(const flatbuffers::String* text) {
  return text != nullptr ? text->str() : "";
}

inline wire::ErrorCode error_code_for(StateError error) {
  switch (error) {
    case StateError::room_not_found:
      return wire::ErrorCode::room_not_found;
    case StateError::room_full:
      return wire::ErrorCode::room_full;
    case StateError::too_many_rooms:
      return wire::ErrorCode::too_many_rooms;
    case StateError::match_in_progress:
      return wire::ErrorCode::match_in_progress;
    case StateError::not_in_room:
      return wire::ErrorCode::not_in_room;
    case StateError::not_host:
      return wire::ErrorCode::not_host;
    case StateError::not_all_ready:
      return wire::ErrorCode::not_all_ready;
    case StateError::unavailable:
      // No code of its own on the wire: like a rate limit, it asks the client to try again.
      return wire::ErrorCode::rate_limited;
    case StateError::none:
      break;
  }
  return wire::ErrorCode::none;
}

inline std::string message_for(StateError error) {
  switch (error) {
    case StateError::room_not_found:
      return "no room has this id (it may have closed): list the rooms again";
    case StateError::room_full:
      return "the room is full";
    case StateError::too_many_rooms:
      return "the lobby has as many rooms as it allows: join one";
    case StateError::match_in_progress:
      return "the room's match has started";
    case StateError::not_in_room:
      return "that player is not in the room";
    case StateError::not_host:
      return "only the room's host may start the match";
    case StateError::not_all_ready:
      return "a player is not ready any more (or disconnected)";
    case StateError::unavailable:
      return "the lobby cannot reach its shared state: try again in a moment";
    case StateError::none:
      break;
  }
  return {};
}

}  // namespace tickwire::net::lobby_detail
