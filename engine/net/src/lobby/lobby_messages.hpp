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
#include "tickwire/net/lobby.hpp"

namespace tickwire::net::lobby_detail {

using MessageBytes = std::shared_ptr<const std::vector<std::byte>>;

MessageBytes ok_reply(std::uint64_t request_id);
MessageBytes error_reply(std::uint64_t request_id, wire::ErrorCode code, std::string_view message);
MessageBytes welcome_reply(std::uint64_t request_id, PlayerId player, std::string_view nickname,
                           std::string_view resume_token, std::uint32_t resume_grace_ms,
                           const RoomInfo* room, std::span<const ChatEntry> history);
// One page of rooms; `next_after` is the cursor of the next page (0: this is the last).
MessageBytes room_list_reply(std::uint64_t request_id, std::span<const RoomInfo> rooms,
                             RoomId next_after);
MessageBytes room_detail_reply(std::uint64_t request_id, const RoomInfo& room,
                               std::span<const ChatEntry> history);

// Reply to GetRegistrationChallenge: the challenge, and the lobby's key that names it.
MessageBytes registration_challenge_reply(std::uint64_t request_id,
                                          std::span<const std::uint8_t> challenge,
                                          const TicketPublicKey& lobby_key);

MessageBytes chat_event(const ChatEntry& entry);

// The largest reply to JoinRoom a room can have under `config` with no chat history: a full room
// of players with the longest nicknames and ids, the longest room name of the characters JSON
// escapes most, in the larger of the two wire forms (binary or JSON), in bytes.
std::size_t largest_room_detail_bytes(const LobbyConfig& config);
MessageBytes presence_event(RoomId room, wire::PresenceKind kind, const MemberInfo& member);
MessageBytes match_end_event(std::uint64_t match_id, RoomId room, MatchEndReason reason);
// `keys`: the player's session keys, or null for a server without encryption. The message is
// for that player alone. `spectator`: the ticket is a spectator's.
MessageBytes match_start_event(std::uint64_t match_id, const MatchServer& server,
                               std::span<const std::byte> ticket, const SessionKeys* keys,
                               bool spectator = false);

}  // namespace tickwire::net::lobby_detail
