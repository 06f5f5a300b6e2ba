#pragma once
// The load generator's lobby messages in either of the lobby's wire forms: binary FlatBuffers
// LobbyMessages (what native clients send) or the same messages as JSON text frames (what the
// browser page, game-demo/web/index.html, sends: {"request_id", "body_type", "body"}).

#include <cstdint>
#include <string>
#include <string_view>

#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::bench {

enum class LobbyEncoding {
  binary,  // binary frames, FlatBuffers
  json,    // text frames, JSON against the same schema
};

namespace lobby_wire {

namespace wire = tickwire::schemas::lobby;

inline constexpr std::uint64_t kHelloId = 1;
inline constexpr std::uint64_t kRoomId = 2;  // request id of CreateRoom / JoinRoom
inline constexpr std::uint64_t kChatId = 3;

std::string hello(LobbyEncoding encoding, const std::string& nickname);
std::string create_room(LobbyEncoding encoding, std::uint16_t max_players);
std::string join_room(LobbyEncoding encoding, std::uint64_t room);
std::string send_chat(const std::string& text);  // binary only: the fan-out's chat lines

// The message in a frame from the lobby, null if it is none. For JSON, the frame is parsed into a
// FlatBuffer that stays valid until the next call. The load generator trusts the server it started
// (the thing measured, not an attacker), so binary frames are read without a Verifier: verifying
// would only slow the generator down.
const wire::LobbyMessage* read_message(LobbyEncoding encoding, std::string_view frame);

inline bool is_reply(const wire::LobbyMessage* message, std::uint64_t id) {
  return message != nullptr && message->result() != nullptr && message->request_id() == id;
}
inline bool reply_ok(const wire::LobbyMessage* message, std::uint64_t id) {
  return is_reply(message, id) && message->result()->ok();
}

}  // namespace lobby_wire
}  // namespace tickwire::bench
