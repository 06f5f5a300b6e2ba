// RedisLobbyState's presence (lobby/redis_lobby_state.hpp has the class and the key layout):
// nicknames, each a key whose PX is the owner's lease (renewed by it, listed in a ZSET so that
// players can be counted without a scan), and resume records, kept until their deadline and taken
// by exactly one process (a Lua script: GET and DEL in one step).

#include "lobby/redis_lobby_state.hpp"
#include "lobby/redis_records.hpp"
#include "lobby/redis_scripts.hpp"

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
  const auto commands = commands_.acquire();
  commands->pipeline({{"MULTI"},
                      {"SET", record_key, lobby_detail::encode_resume(record), "PX",
                       ttl_until(expires + 3'600'000)},
                      {"ZADD", key("resumes"), score(expires), record_key},
                      {"EXEC"}});
}

std::size_t RedisLobbyState::update_resumes(
    const std::vector<std::pair<std::string, ResumeRecord>>& records) {
  if (records.empty()) return 0;
  std::vector<std::string> keys{key("resumes")};
  std::vector<std::string> args;
  for (const auto& [token, record] : records) {
    keys.push_back(key("resume:" + token));
    args.push_back(lobby_detail::encode_resume(record));
    args.push_back(score(record.expires_unix_ms));
    args.push_back(ttl_until(record.expires_unix_ms + 3'600'000));  // as store_resume
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

}  // namespace tickwire::net::lobby_detail
