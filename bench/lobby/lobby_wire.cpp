#include "lobby_wire.hpp"

#include <flatbuffers/idl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "lobby/schema_text.hpp"

namespace tickwire::bench::lobby_wire {
namespace {

template <typename Body>
std::string finish(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t id, wire::LobbyBody type,
                   flatbuffers::Offset<Body> body) {
  fbb.Finish(wire::CreateLobbyMessage(fbb, id, 0, type, body.Union()));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

// One request as the page's JSON.stringify({request_id: id, body_type: bodyType, body}) prints it.
// `body` is the body object's JSON; the generator's names and numbers need no escaping.
std::string json_request(std::uint64_t id, const char* body_type, const std::string& body) {
  return "{\"request_id\":" + std::to_string(id) + ",\"body_type\":\"" + body_type +
         "\",\"body\":" + body + "}";
}

// The lobby's schema (the one the server embeds), for reading its JSON replies. The generator runs
// on one thread: one parser serves every client.
flatbuffers::Parser& json_parser() {
  static const std::unique_ptr<flatbuffers::Parser> parser = [] {
    auto made = std::make_unique<flatbuffers::Parser>();
    const std::string schema(net::lobby_detail::lobby_schema_text());
    if (!made->Parse(schema.c_str()) || !made->SetRootType("LobbyMessage")) {
      std::fprintf(stderr, "embedded lobby.fbs does not parse: %s\n", made->error_.c_str());
      std::abort();
    }
    return made;
  }();
  return *parser;
}

}  // namespace

std::string hello(LobbyEncoding encoding, const std::string& nickname) {
  if (encoding == LobbyEncoding::json)
    return json_request(kHelloId, "Hello", "{\"nickname\":\"" + nickname + "\"}");
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, kHelloId, wire::LobbyBody::Hello,
                wire::CreateHelloDirect(fbb, nickname.c_str()));
}

std::string create_room(LobbyEncoding encoding, std::uint16_t max_players) {
  if (encoding == LobbyEncoding::json) {
    return json_request(kRoomId, "CreateRoom",
                        "{\"name\":\"bench\",\"game_mode\":\"chat\",\"max_players\":" +
                            std::to_string(max_players) + "}");
  }
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, kRoomId, wire::LobbyBody::CreateRoom,
                wire::CreateCreateRoomDirect(fbb, "bench", "chat", max_players));
}

std::string join_room(LobbyEncoding encoding, std::uint64_t room) {
  if (encoding == LobbyEncoding::json)
    return json_request(kRoomId, "JoinRoom", "{\"room_id\":" + std::to_string(room) + "}");
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, kRoomId, wire::LobbyBody::JoinRoom, wire::CreateJoinRoom(fbb, room));
}

std::string send_chat(const std::string& text) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, kChatId, wire::LobbyBody::SendChat,
                wire::CreateSendChatDirect(fbb, wire::ChatScope::room, nullptr, text.c_str()));
}

const wire::LobbyMessage* read_message(LobbyEncoding encoding, std::string_view frame) {
  if (encoding == LobbyEncoding::binary) {
    if (frame.size() < 8) return nullptr;
    return wire::GetLobbyMessage(frame.data());
  }
  const std::string text(frame);  // the parser reads up to a NUL
  flatbuffers::Parser& parser = json_parser();
  if (!parser.ParseJson(text.c_str())) return nullptr;
  return wire::GetLobbyMessage(parser.builder_.GetBufferPointer());
}

}  // namespace tickwire::bench::lobby_wire
