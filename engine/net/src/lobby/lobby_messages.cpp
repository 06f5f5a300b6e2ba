#include "lobby/lobby_messages.hpp"

#include <algorithm>
#include <limits>

namespace tickwire::net::lobby_detail {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

MessageBytes finish(FlatBufferBuilder& fbb, std::uint64_t request_id, Offset<wire::Result> result,
                    wire::LobbyBody body_type, Offset<void> body) {
  wire::LobbyMessageBuilder message(fbb);
  message.add_request_id(request_id);
  if (!result.IsNull()) message.add_result(result);
  if (body_type != wire::LobbyBody::NONE) {
    message.add_body_type(body_type);
    message.add_body(body);
  }
  fbb.Finish(message.Finish());
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return std::make_shared<const std::vector<std::byte>>(data, data + fbb.GetSize());
}

Offset<wire::Result> ok_result(FlatBufferBuilder& fbb) {
  return wire::CreateResult(fbb, true, wire::ErrorCode::none);
}

Offset<wire::RoomSummary> summary(FlatBufferBuilder& fbb, const RoomInfo& room) {
  return wire::CreateRoomSummary(fbb, room.id, fbb.CreateString(room.name),
                                 fbb.CreateString(room.game_mode),
                                 static_cast<std::uint16_t>(room.members.size()),
                                 static_cast<std::uint16_t>(room.max_players), room.match_id != 0);
}

Offset<wire::Member> member(FlatBufferBuilder& fbb, const MemberInfo& info) {
  return wire::CreateMember(fbb, info.player, fbb.CreateString(info.nickname), info.ready,
                            info.connected);
}

Offset<wire::ChatLine> chat_line(FlatBufferBuilder& fbb, const ChatEntry& entry) {
  return wire::CreateChatLine(fbb, static_cast<wire::ChatScope>(entry.scope), entry.room,
                              entry.from, fbb.CreateString(entry.from_nickname),
                              fbb.CreateString(entry.to_nickname), fbb.CreateString(entry.text),
                              entry.sent_unix_ms);
}

Offset<wire::RoomDetail> room_detail(FlatBufferBuilder& fbb, const RoomInfo& room,
                                     std::span<const ChatEntry> history) {
  std::vector<Offset<wire::Member>> members;
  members.reserve(room.members.size());
  for (const MemberInfo& info : room.members)
    members.push_back(member(fbb, info));
  std::vector<Offset<wire::ChatLine>> lines;
  lines.reserve(history.size());
  for (const ChatEntry& entry : history)
    lines.push_back(chat_line(fbb, entry));
  const auto room_summary = summary(fbb, room);
  return wire::CreateRoomDetail(fbb, room_summary, room.host, fbb.CreateVector(members),
                                fbb.CreateVector(lines));
}

}  // namespace

MessageBytes ok_reply(std::uint64_t request_id) {
  FlatBufferBuilder fbb(64);
  return finish(fbb, request_id, ok_result(fbb), wire::LobbyBody::NONE, {});
}

MessageBytes error_reply(std::uint64_t request_id, wire::ErrorCode code, std::string_view message) {
  FlatBufferBuilder fbb(128);
  const auto text = fbb.CreateString(message.data(), message.size());
  return finish(fbb, request_id, wire::CreateResult(fbb, false, code, text), wire::LobbyBody::NONE,
                {});
}

MessageBytes welcome_reply(std::uint64_t request_id, PlayerId player, std::string_view nickname,
                           std::string_view resume_token, std::uint32_t resume_grace_ms,
                           const RoomInfo* room, std::span<const ChatEntry> history) {
  FlatBufferBuilder fbb(256);
  const auto detail = room != nullptr ? room_detail(fbb, *room, history) : 0;
  const auto name = fbb.CreateString(nickname.data(), nickname.size());
  const auto token = fbb.CreateString(resume_token.data(), resume_token.size());
  const auto body = wire::CreateWelcome(fbb, player, name, token, resume_grace_ms, detail);
  return finish(fbb, request_id, ok_result(fbb), wire::LobbyBody::Welcome, body.Union());
}

MessageBytes room_list_reply(std::uint64_t request_id, std::span<const RoomInfo> rooms,
                             RoomId next_after) {
  FlatBufferBuilder fbb(256);
  std::vector<Offset<wire::RoomSummary>> summaries;
  summaries.reserve(rooms.size());
  for (const RoomInfo& room : rooms)
    summaries.push_back(summary(fbb, room));
  const auto body = wire::CreateRoomList(fbb, fbb.CreateVector(summaries), next_after);
  return finish(fbb, request_id, ok_result(fbb), wire::LobbyBody::RoomList, body.Union());
}

MessageBytes room_detail_reply(std::uint64_t request_id, const RoomInfo& room,
                               std::span<const ChatEntry> history) {
  FlatBufferBuilder fbb(1024);
  const auto body = room_detail(fbb, room, history);
  return finish(fbb, request_id, ok_result(fbb), wire::LobbyBody::RoomDetail, body.Union());
}

MessageBytes registration_challenge_reply(std::uint64_t request_id,
                                          std::span<const std::uint8_t> challenge,
                                          const TicketPublicKey& lobby_key) {
  FlatBufferBuilder fbb(128);
  const auto challenge_bytes = fbb.CreateVector(challenge.data(), challenge.size());
  const auto key = fbb.CreateVector(lobby_key.data(), lobby_key.size());
  const auto body = wire::CreateRegistrationChallenge(fbb, challenge_bytes, key);
  return finish(fbb, request_id, ok_result(fbb), wire::LobbyBody::RegistrationChallenge,
                body.Union());
}

MessageBytes chat_event(const ChatEntry& entry) {
  FlatBufferBuilder fbb(256);
  const auto body = wire::CreateChatMessage(fbb, chat_line(fbb, entry));
  return finish(fbb, 0, {}, wire::LobbyBody::ChatMessage, body.Union());
}

MessageBytes presence_event(RoomId room, wire::PresenceKind kind, const MemberInfo& info) {
  FlatBufferBuilder fbb(128);
  const auto body = wire::CreatePresence(fbb, room, kind, member(fbb, info));
  return finish(fbb, 0, {}, wire::LobbyBody::Presence, body.Union());
}

MessageBytes match_end_event(std::uint64_t match_id, RoomId room, MatchEndReason reason) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateMatchEnd(fbb, match_id, room, static_cast<wire::MatchEndReason>(reason));
  return finish(fbb, 0, {}, wire::LobbyBody::MatchEnd, body.Union());
}

MessageBytes match_start_event(std::uint64_t match_id, const MatchServer& server,
                               std::span<const std::byte> ticket, const SessionKeys* keys,
                               bool spectator) {
  FlatBufferBuilder fbb(512);
  const auto address = fbb.CreateString(server.address);
  const auto websocket_address =
      server.websocket_address.empty() ? 0 : fbb.CreateString(server.websocket_address);
  const auto bytes =
      fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(ticket.data()), ticket.size());
  Offset<flatbuffers::Vector<std::uint8_t>> session_keys;
  if (keys != nullptr) {
    std::uint8_t* out = nullptr;
    session_keys = fbb.CreateUninitializedVector(
        keys->client_to_server.size() + keys->server_to_client.size(), &out);
    out = std::copy(keys->client_to_server.begin(), keys->client_to_server.end(), out);
    std::copy(keys->server_to_client.begin(), keys->server_to_client.end(), out);
  }
  const auto body = wire::CreateMatchStart(fbb, match_id, address, bytes, session_keys,
                                           websocket_address, spectator);
  return finish(fbb, 0, {}, wire::LobbyBody::MatchStart, body.Union());
}

std::size_t largest_room_detail_bytes(const LobbyConfig& config) {
  constexpr auto kLargestId = std::numeric_limits<std::uint64_t>::max();
  // "é" (two bytes) becomes "\u00e9" (six) in JSON: no character costs more per byte.
  const auto widest_text = [](std::size_t bytes) {
    std::string text;
    while (text.size() + 2 <= bytes)
      text += "\xc3\xa9";
    if (text.size() < bytes) text += '"';  // escaped as \" : two bytes for one
    return text;
  };
  RoomInfo room;
  room.id = kLargestId;
  room.name = widest_text(config.max_room_name_length);
  room.game_mode = widest_text(config.max_game_mode_length);
  room.max_players = config.max_players_per_room;
  room.host = kLargestId;
  room.match_id = kLargestId;
  // Flags at their non-default values: FlatBuffers (and its JSON) leave defaults out.
  room.members.assign(config.max_players_per_room,
                      {kLargestId, std::string(config.max_nickname_length, 'W'), true, true});
  const MessageBytes detail = room_detail_reply(kLargestId, room, {});
  LobbyCodec codec;
  return std::max(detail->size(), codec.to_json(*detail).size());
}

}  // namespace tickwire::net::lobby_detail
