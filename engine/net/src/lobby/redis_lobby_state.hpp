#pragma once
// The class behind make_redis_lobby_state (tickwire/net/redis_lobby_state.hpp): its declaration,
// the Redis key layout, the small encoders of ids and deadlines and the WATCH/MULTI/EXEC
// transaction every read-check-write goes through. The methods live by concern:
//   redis_lobby_state.cpp     config, connection, ids, version, fan-out, the factory
//   redis_lobby_rooms.cpp     rooms, their members, matches and chat
//   redis_lobby_presence.cpp  nicknames and resume records, each with its lease
//   redis_lobby_servers.cpp   the game-server registry and its reservations
//
// Command connections in a pool (config.connections): a call holds one for its round trips (a
// transaction's WATCH and EXEC must not interleave with another's), and the lobby's state
// workers' calls proceed at once, each on its own; the fan-out's two connections and threads
// are RedisFanout's (redis_fanout.hpp).
//
// Layout, under the key prefix P:
//   P id                 INCR counter: players, rooms and matches
//   P nick:<key>         player id, PX = the lease (renewed by the owner)
//   P nicks              ZSET nickname key -> lease end
//   P resume:<token>     encoded ResumeRecord
//   P resumes            ZSET record key -> expiry
//   P lapses             ZSET record key -> connected-until (connected players' records)
//   P room:<id>          encoded RoomInfo
//   P rooms              ZSET id -> id (list order)
//   P match:<match id>   room id of the room playing it
//   P chat:<room id>     LIST of encoded chat lines, newest last
//   P gs:<address>       encoded GameServerInfo
//   P gss                SET of game-server addresses
//   P gsleases           ZSET game-server key -> lease end
//   P fanout             the pub/sub channel of encoded broadcasts

#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lobby/lobby_state.hpp"
#include "lobby/redis_connection.hpp"
#include "lobby/redis_fanout.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::net::lobby_detail {

inline std::string number(std::uint64_t value) {
  return std::to_string(value);
}
// A lease's time to live from now, at least 1 ms (PX refuses 0).
inline std::string ttl_until(std::uint64_t until_unix_ms) {
  const std::uint64_t now = unix_time_ms();
  return number(until_unix_ms > now ? until_unix_ms - now : 1);
}
// An id stored as decimal text; nothing for anything else (a damaged value is treated as none).
inline std::optional<std::uint64_t> parse_id(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}
// A deadline as a ZSET score; UINT64_MAX (never) as +inf.
inline std::string score(std::uint64_t unix_ms) {
  return unix_ms == UINT64_MAX ? "+inf" : number(unix_ms);
}

class RedisLobbyState final : public LobbyState {
 public:
  explicit RedisLobbyState(const RedisLobbyStateConfig& config);

  Status start();

  std::uint64_t next_id() override;

  // --- presence (redis_lobby_presence.cpp) -------------------------------------------------
  bool claim_nickname(const std::string& nickname, LobbyPlayerId player,
                      std::uint64_t lease_until_unix_ms) override;
  void renew_nicknames(const std::vector<std::pair<std::string, LobbyPlayerId>>& held,
                       std::uint64_t lease_until_unix_ms) override;
  void release_nickname(const std::string& nickname, LobbyPlayerId player) override;
  std::optional<LobbyPlayerId> player_by_nickname(const std::string& nickname) const override;
  std::size_t player_count() const override;

  void store_resume(const std::string& token, ResumeRecord record) override;
  std::size_t update_resumes(
      const std::vector<std::pair<std::string, ResumeRecord>>& records) override;
  std::optional<ResumeRecord> take_resume(const std::string& token) override;
  std::vector<ResumeRecord> take_expired_resumes(std::uint64_t now_unix_ms) override;
  std::vector<ResumeRecord> lapse_connections(std::uint64_t now_unix_ms) override;

  // --- rooms, matches, chat (redis_lobby_rooms.cpp) ----------------------------------------
  StateError create_room(RoomInfo room, std::size_t max_rooms) override;
  std::optional<RoomInfo> room(LobbyRoomId id) const override;
  std::vector<RoomInfo> list_rooms(const RoomFilter& filter) const override;
  std::size_t room_count() const override;
  StateError join_room(LobbyRoomId id, const MemberInfo& member) override;
  StateError leave_room(LobbyRoomId id, LobbyPlayerId player,
                        std::optional<RoomInfo>& after) override;
  StateError set_ready(LobbyRoomId id, LobbyPlayerId player, bool ready) override;
  StateError set_connected(LobbyRoomId id, LobbyPlayerId player, bool connected) override;
  StateError start_match(LobbyRoomId id, LobbyPlayerId host, std::uint64_t match_id,
                         const MatchServer& server, std::uint32_t reserved_slots,
                         std::uint64_t now_unix_ms, std::optional<RoomInfo>& started) override;
  std::optional<RoomInfo> room_of_match(std::uint64_t match_id) const override;
  bool mark_match_began(std::uint64_t match_id) override;
  std::optional<RoomInfo> end_match(std::uint64_t match_id) override;

  void append_chat(LobbyRoomId id, ChatEntry entry, std::size_t keep) override;
  std::vector<ChatEntry> chat_history(LobbyRoomId id) const override;

  std::uint64_t version() const override;

  // --- fan-out -----------------------------------------------------------------------------
  std::uint64_t subscribe(Subscriber deliver) override;
  void unsubscribe(std::uint64_t subscription) override;
  void publish(const Broadcast& broadcast) override;
  std::uint64_t dropped_broadcasts() const override;

  // --- game servers (redis_lobby_servers.cpp) ----------------------------------------------
  void put_game_server(const GameServerInfo& server) override;
  void set_game_server_load(const std::string& address, std::uint32_t players,
                            std::uint64_t lease_expires_unix_ms) override;
  void disconnect_game_server(const std::string& address) override;
  void remove_game_server(const std::string& address) override;
  std::vector<GameServerInfo> take_expired_game_servers(std::uint64_t now_unix_ms) override;
  std::optional<GameServerInfo> reserve_game_server(std::uint32_t slots) override;
  void release_game_server(const std::string& address, std::uint32_t slots) override;

  std::uint64_t round_trips() const override;

 private:
  using Writes = std::vector<RedisCommand>;
  // Reads `read` after WATCHing `watched`, lets `decide` look at the replies and add writes, and
  // commits them with MULTI/EXEC: again from the start when another process changed a watched
  // key meanwhile. `decide`'s error ends it with nothing written.
  template <typename Decide>
  StateError transaction(const std::vector<std::string>& watched,
                         const std::vector<RedisCommand>& read, Decide decide);
  // A transaction on one room: `change` edits it (and may add writes); the room is written back
  // unless it closed (the change deleted it). `after` receives the room as written. Defined in
  // redis_lobby_rooms.cpp, its only user.
  template <typename Change>
  StateError change_room(LobbyRoomId id, const std::vector<std::string>& also_watched,
                         Change change, std::optional<RoomInfo>* after = nullptr);
  template <typename Change>
  StateError change_member(LobbyRoomId id, LobbyPlayerId player, Change change);
  // A transaction on one game server's record (made first when `create`). Defined in
  // redis_lobby_servers.cpp, its only user.
  template <typename Change>
  void change_game_server(const std::string& address, bool create, Change change);

  std::optional<LobbyRoomId> room_id_of_match(std::uint64_t match_id) const;

  RedisReply eval(const char* script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args) const;
  template <typename Visit>
  static void for_each_element(const redisReply* reply, Visit visit) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
    for (std::size_t i = 0; i < reply->elements; ++i)
      visit(reply->element[i]);
  }

  std::string key(const std::string& name) const { return config_.key_prefix + name; }
  std::string room_key(LobbyRoomId id) const { return key("room:" + number(id)); }
  std::string server_key(const std::string& address) const { return key("gs:" + address); }

  // A failed call is worth a line, but not one per request while Redis is down.
  void report(const std::string& error) const;

  const RedisLobbyStateConfig config_;
  const RedisEndpoint endpoint_;
  mutable std::atomic<std::uint64_t> round_trips_{0};
  mutable RedisConnectionPool commands_;
  std::array<std::mutex, 16> transaction_stripes_;  // transaction(): by the first watched key
  std::atomic<std::uint64_t> writes_{0};            // this process's changes (version())
  mutable std::atomic<std::uint64_t> next_report_ms_{0};

  // Declared last: destroyed first, its threads stopped before the rest goes.
  RedisFanout fanout_;
};

template <typename Decide>
StateError RedisLobbyState::transaction(const std::vector<std::string>& watched,
                                        const std::vector<RedisCommand>& read, Decide decide) {
  // One transaction per key at a time on this process: the state workers' transactions on one
  // room (a hundred players joining it at once) would otherwise make each other lose their
  // races, and one could lose max_transaction_attempts times in a row. Other processes still
  // race it, as many as there are processes.
  const std::size_t stripe_index =
      watched.empty() ? 0 : std::hash<std::string>{}(watched.front()) % transaction_stripes_.size();
  std::lock_guard stripe(transaction_stripes_[stripe_index]);
  const auto commands = commands_.acquire();
  for (std::uint32_t attempt = 0; attempt < config_.max_transaction_attempts; ++attempt) {
    // WATCH and the reads in one round trip; the writes and EXEC in a second.
    std::vector<RedisCommand> first;
    RedisCommand watch{"WATCH"};
    watch.insert(watch.end(), watched.begin(), watched.end());
    first.push_back(std::move(watch));
    first.insert(first.end(), read.begin(), read.end());
    std::vector<RedisReply> replies = commands->pipeline(first);
    if (replies.empty()) {
      report(commands->error());
      return StateError::unavailable;
    }
    replies.erase(replies.begin());  // WATCH's OK
    Writes writes;
    if (const StateError error = decide(replies, writes); error != StateError::none) {
      commands->run({"UNWATCH"});
      return error;
    }
    std::vector<RedisCommand> second{{"MULTI"}};
    second.insert(second.end(), writes.begin(), writes.end());
    second.push_back({"EXEC"});
    const std::vector<RedisReply> committed = commands->pipeline(second);
    if (committed.empty()) {
      report(commands->error());
      return StateError::unavailable;
    }
    const redisReply* exec = committed.back().get();
    if (exec != nullptr && exec->type == REDIS_REPLY_ARRAY) {
      ++writes_;
      return StateError::none;
    }
    // Nil: a watched key changed under us. Read again and decide again.
  }
  report("a transaction lost its race " + std::to_string(config_.max_transaction_attempts) +
         " times (raise max_transaction_attempts if this lasts)");
  return StateError::unavailable;
}

}  // namespace tickwire::net::lobby_detail
