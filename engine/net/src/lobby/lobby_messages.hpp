#pragma once
// The LobbyMessages the lobby sends, built as finished FlatBuffers. Shared and immutable, so that
// one chat line fans out to a room as one buffer (and one JSON rendering, made on first use).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lobby/lobby_codec.hpp"
#include "lobby/lobby_state.hpp"
#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net::lobby_detail {

using MessageBytes = std::shared_ptr<const std::vector<std::byte>>;

MessageBytes ok_reply(std::uint64_t request_id);
MessageBytes error_reply(std::uint64_t request_id, wire::ErrorCode code, std::string_view message);
MessageBytes welcome_reply(std::uint64_t request_id, PlayerId player, std::string_view nickname,
                           std::string_view resume_token, std::uint32_t resume_grace_ms,
                           const RoomInfo* room, const std::vector<ChatEntry>& history);
MessageBytes room_list_reply(std::uint64_t request_id, const std::vector<RoomInfo>& rooms);
MessageBytes room_detail_reply(std::uint64_t request_id, const RoomInfo& room,
                               const std::vector<ChatEntry>& history);

MessageBytes chat_event(const ChatEntry& entry);
MessageBytes presence_event(RoomId room, wire::PresenceKind kind, const MemberInfo& member);
MessageBytes match_end_event(std::uint64_t match_id, RoomId room);
// `keys`: the player's session keys, or null for a server without encryption. The message is
// for that player alone.
MessageBytes match_start_event(std::uint64_t match_id, std::string_view server_address,
                               std::span<const std::byte> ticket, const SessionKeys* keys);

}  // namespace tickwire::net::lobby_detail
