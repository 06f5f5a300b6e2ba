// RedisLobbyState's presence (lobby/redis_lobby_state.hpp has the class and the key layout):
// nicknames, each a key whose PX is the owner's lease (renewed by it, listed in a ZSET so that
// players can be counted without a scan), and resume records, kept until their deadline and taken
// by exactly one process (a Lua script: GET and DEL in one step). A connected player's record is
// also in the lapse set until its process stops renewing it (lapse_connections).

#include "lobby/redis_lobby_state.hpp"
#include "lobby/redis_records.hpp"
#include "lobby/redis_scripts.hpp"
#include "lobby/room_rules.hpp"

namespace tickwire::net::lobby_detail {

// --- nicknames -----------------------------------------------------------------------------

bool RedisLobbyState::claim_nickname(const std::string& nickname, LobbyPlayerId player,
                                     std::uint64_t lease_until_unix_ms) {
  const RedisReply reply =
      eval(lobby_detail::redis_script::kClaimNickname, {key("nick:" + nickname), key("nicks")},
           {number(player), ttl_until(lease_until_unix_ms), number(lease_until_unix_ms)});
  ++writes_;
  return reply && reply_integer(reply.get()) == 1;
}

void RedisLobbyState::renew_nicknames(
    const std::vector<std::pair<std::string, LobbyPlayerId>>& held,
    std::uint64_t lease_until_unix_ms) {
  std::vector<std::string> keys{key("nicks")};
  std::vector<std::string> args{ttl_until(lease_until_unix_ms), number(lease_until_unix_ms)};
  for (const auto& [nickname, player] : held) {
    keys.push_back(key("nick:" + nickname));
    args.push_back(number(player));
  }
  eval(lobby_detail::redis_script::kRenewNicknames, keys, args);
}

void RedisLobbyState::release_nickname(const std::string& nickname, LobbyPlayerId player) {
  eval(lobby_detail::redis_script::kReleaseNickname, {key("nick:" + nickname), key("nicks")},
       {number(player)});
  ++writes_;
}

std::optional<LobbyPlayerId> RedisLobbyState::player_by_nickname(
    const std::string& nickname) const {
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"GET", key("nick:" + nickname)});
  if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
  return parse_id(reply_string(reply.get()));
}

std::size_t RedisLobbyState::player_count() const {
  const RedisReply reply =
      eval(lobby_detail::redis_script::kCountNicknames, {key("nicks")}, {number(unix_time_ms())});
  return reply ? static_cast<std::size_t>(reply_integer(reply.get())) : 0;
}

// --- resume records ------------------------------------------------------------------------

void RedisLobbyState::store_resume(const std::string& token, ResumeRecord record) {
  const std::string record_key = key("resume:" + token);
  // Whichever process's on_tick passes the deadline first takes the record; the key's own
  // TTL, an hour later, only cleans up after a cluster that stopped altogether.
  const std::uint64_t expires = record.expires_unix_ms;
  const RedisCommand lapse =
      record.connected_until_unix_ms == 0
          ? RedisCommand{"ZREM", key("lapses"), record_key}
          : RedisCommand{"ZADD", key("lapses"), score(record.connected_until_unix_ms), record_key};
  const auto commands = commands_.acquire();
  commands->pipeline({{"MULTI"},
                      {"SET", record_key, lobby_detail::encode_resume(record), "PX",
                       ttl_until(expires + 3'600'000)},
                      {"ZADD", key("resumes"), score(expires), record_key},
                      lapse,
                      {"EXEC"}});
}

std::size_t RedisLobbyState::update_resumes(
    const std::vector<std::pair<std::string, ResumeRecord>>& records) {
  if (records.empty()) return 0;
  std::vector<std::string> keys{key("resumes"), key("lapses")};
  std::vector<std::string> args;
  for (const auto& [token, record] : records) {
    keys.push_back(key("resume:" + token));
    args.push_back(lobby_detail::encode_resume(record));
    args.push_back(score(record.expires_unix_ms));
    args.push_back(ttl_until(record.expires_unix_ms + 3'600'000));  // as store_resume
    args.push_back(record.connected_until_unix_ms == 0 ? "0"
                                                       : score(record.connected_until_unix_ms));
  }
  const RedisReply reply = eval(lobby_detail::redis_script::kUpdateRecords, keys, args);
  return reply ? static_cast<std::size_t>(reply_integer(reply.get())) : 0;
}

std::optional<ResumeRecord> RedisLobbyState::take_resume(const std::string& token) {
  const RedisReply reply =
      eval(lobby_detail::redis_script::kTakeRecord, {key("resume:" + token), key("resumes")}, {});
  if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
  return lobby_detail::decode_resume(reply_string(reply.get()));
}

std::vector<ResumeRecord> RedisLobbyState::take_expired_resumes(std::uint64_t now_unix_ms) {
  std::vector<ResumeRecord> out;
  const RedisReply reply =
      eval(lobby_detail::redis_script::kTakeExpired, {key("resumes")}, {number(now_unix_ms)});
  for_each_element(reply.get(), [&](const redisReply* element) {
    if (auto record = lobby_detail::decode_resume(reply_string(element))) {
      out.push_back(std::move(*record));
    }
  });
  return out;
}

std::vector<ResumeRecord> RedisLobbyState::lapse_connections(std::uint64_t now_unix_ms) {
  std::vector<ResumeRecord> lapsed;
  const RedisReply reply =
      eval(lobby_detail::redis_script::kTakeLapsed, {key("lapses")}, {number(now_unix_ms)});
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return lapsed;
  for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
    const std::string record_key = reply_string(reply->element[i]);
    std::optional<ResumeRecord> record =
        lobby_detail::decode_resume(reply_string(reply->element[i + 1]));
    if (!record || record->room == 0) continue;
    // One transaction on the room and the record: a resume that takes the record (and marks
    // the player connected) before it commits makes it start again, and find no record.
    const std::string room_key = this->room_key(record->room);
    const StateError marked = transaction(
        {room_key, record_key}, {{"GET", room_key}, {"EXISTS", record_key}},
        [&](std::vector<RedisReply>& read, Writes& writes) {
          if (lobby_detail::is_nil(read[0].get()) || reply_integer(read[1].get()) == 0) {
            return StateError::not_in_room;
          }
          std::optional<RoomInfo> room = lobby_detail::decode_room(reply_string(read[0].get()));
          if (!room) return StateError::room_not_found;
          const auto member = lobby_detail::find_member(*room, record->player);
          if (member == room->members.end() || !member->connected) return StateError::not_in_room;
          member->connected = false;
          writes.push_back({"SET", room_key, lobby_detail::encode_room(*room)});
          return StateError::none;
        });
    if (marked == StateError::none) lapsed.push_back(std::move(*record));
  }
  return lapsed;
}

}  // namespace tickwire::net::lobby_detail
