// LobbyState in Redis (redis_lobby_state.hpp). One command connection behind a mutex (a call's
// round trips, a transaction's WATCH and EXEC, must not interleave with another's); the fan-out's
// two connections and threads are RedisFanout's (redis_fanout.hpp).
//
// Layout, under the key prefix P:
//   P id                 INCR counter: players, rooms and matches
//   P nick:<key>         player id, PX = the lease (renewed by the owner); P nicks: ZSET key -> end
//   P resume:<token>     encoded ResumeRecord; P resumes: ZSET record key -> expiry
//   P room:<id>          encoded RoomInfo; P rooms: ZSET id -> id (list order)
//   P match:<match id>   room id of the room playing it
//   P chat:<room id>     LIST of encoded chat lines, newest last
//   P gs:<address>       encoded GameServerInfo; P gss: SET of addresses; P gsleases: ZSET key ->
//   lease P fanout             the pub/sub channel of encoded broadcasts

#include "tickwire/net/redis_lobby_state.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>

#include "lobby/redis_connection.hpp"
#include "lobby/redis_fanout.hpp"
#include "lobby/redis_records.hpp"
#include "lobby/redis_scripts.hpp"
#include "lobby/room_rules.hpp"
#include "tickwire/net/log.hpp"

namespace tickwire::net {

Status RedisLobbyStateConfig::validate() const {
  const auto bad = [](const char* field, const std::string& value, const std::string& rule) {
    return Status::error("RedisLobbyStateConfig." + std::string(field) + " = " + value + ": " +
                         rule);
  };
  if (host.empty()) return bad("host", "''", "name the Redis server (e.g. 127.0.0.1)");
  if (port == 0) return bad("port", "0", "use the Redis server's port (6379 by default)");
  if (key_prefix.empty() || key_prefix.size() > 64 ||
      key_prefix.find_first_of(" \t\r\n") != std::string::npos) {
    return bad("key_prefix", "'" + key_prefix + "'", "use 1..64 bytes without spaces");
  }
  if (timeout_ms < 10 || timeout_ms > 60'000) {
    return bad("timeout_ms", std::to_string(timeout_ms), "use 10..60000");
  }
  if (max_transaction_attempts < 1 || max_transaction_attempts > 1000) {
    return bad("max_transaction_attempts", std::to_string(max_transaction_attempts), "use 1..1000");
  }
  if (refresh_ms < 50 || refresh_ms > 60'000) {
    return bad("refresh_ms", std::to_string(refresh_ms), "use 50..60000");
  }
  if (max_queued_broadcasts < 16 || max_queued_broadcasts > 10'000'000) {
    return bad("max_queued_broadcasts", std::to_string(max_queued_broadcasts), "use 16..10000000");
  }
  return {};
}

namespace {

using lobby_detail::RedisCommand;
using lobby_detail::RedisConnection;
using lobby_detail::RedisReply;
using lobby_detail::reply_integer;
using lobby_detail::reply_string;

std::string number(std::uint64_t value) {
  return std::to_string(value);
}
// A lease's time to live from now, at least 1 ms (PX refuses 0).
std::string ttl_until(std::uint64_t until_unix_ms) {
  const std::uint64_t now = unix_time_ms();
  return number(until_unix_ms > now ? until_unix_ms - now : 1);
}
// An id stored as decimal text; nothing for anything else (a damaged value is treated as none).
std::optional<std::uint64_t> parse_id(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}
// A deadline as a ZSET score; UINT64_MAX (never) as +inf.
std::string score(std::uint64_t unix_ms) {
  return unix_ms == UINT64_MAX ? "+inf" : number(unix_ms);
}

class RedisLobbyState final : public LobbyState {
 public:
  explicit RedisLobbyState(const RedisLobbyStateConfig& config)
      : config_(config),
        endpoint_{config.host, config.port, config.password,
                  std::chrono::milliseconds(config.timeout_ms)},
        commands_(endpoint_, &round_trips_),
        fanout_(endpoint_, key("fanout"), config.max_queued_broadcasts, &round_trips_,
                [this](const std::string& error) { report(error); }) {}

  Status start() {
    {
      std::lock_guard lock(commands_mutex_);
      if (Status status = commands_.connect(); !status.ok()) return status;
      if (!commands_.run({"PING"})) return Status::error(commands_.error());
    }
    return fanout_.start();
  }

  std::uint64_t next_id() override {
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"INCR", key("id")});
    return reply ? static_cast<std::uint64_t>(reply_integer(reply.get())) : 0;
  }

  // --- presence ----------------------------------------------------------------------------
  bool claim_nickname(const std::string& nickname, LobbyPlayerId player,
                      std::uint64_t lease_until_unix_ms) override {
    const RedisReply reply =
        eval(lobby_detail::redis_script::kClaimNickname, {key("nick:" + nickname), key("nicks")},
             {number(player), ttl_until(lease_until_unix_ms), number(lease_until_unix_ms)});
    ++writes_;
    return reply && reply_integer(reply.get()) == 1;
  }
  void renew_nicknames(const std::vector<std::pair<std::string, LobbyPlayerId>>& held,
                       std::uint64_t lease_until_unix_ms) override {
    std::vector<std::string> keys{key("nicks")};
    std::vector<std::string> args{ttl_until(lease_until_unix_ms), number(lease_until_unix_ms)};
    for (const auto& [nickname, player] : held) {
      keys.push_back(key("nick:" + nickname));
      args.push_back(number(player));
    }
    eval(lobby_detail::redis_script::kRenewNicknames, keys, args);
  }
  void release_nickname(const std::string& nickname, LobbyPlayerId player) override {
    eval(lobby_detail::redis_script::kReleaseNickname, {key("nick:" + nickname), key("nicks")},
         {number(player)});
    ++writes_;
  }
  std::optional<LobbyPlayerId> player_by_nickname(const std::string& nickname) const override {
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"GET", key("nick:" + nickname)});
    if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
    return parse_id(reply_string(reply.get()));
  }
  std::size_t player_count() const override {
    const RedisReply reply =
        eval(lobby_detail::redis_script::kCountNicknames, {key("nicks")}, {number(unix_time_ms())});
    return reply ? static_cast<std::size_t>(reply_integer(reply.get())) : 0;
  }

  void store_resume(const std::string& token, ResumeRecord record) override {
    const std::string record_key = key("resume:" + token);
    // Whichever process's on_tick passes the deadline first takes the record; the key's own
    // TTL, an hour later, only cleans up after a cluster that stopped altogether.
    const std::uint64_t expires = record.expires_unix_ms;
    std::lock_guard lock(commands_mutex_);
    commands_.pipeline({{"MULTI"},
                        {"SET", record_key, lobby_detail::encode_resume(record), "PX",
                         ttl_until(expires + 3'600'000)},
                        {"ZADD", key("resumes"), score(expires), record_key},
                        {"EXEC"}});
  }
  std::size_t update_resumes(
      const std::vector<std::pair<std::string, ResumeRecord>>& records) override {
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
  std::optional<ResumeRecord> take_resume(const std::string& token) override {
    const RedisReply reply =
        eval(lobby_detail::redis_script::kTakeRecord, {key("resume:" + token), key("resumes")}, {});
    if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
    return lobby_detail::decode_resume(reply_string(reply.get()));
  }
  std::vector<ResumeRecord> take_expired_resumes(std::uint64_t now_unix_ms) override {
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

  // --- rooms -------------------------------------------------------------------------------
  StateError create_room(RoomInfo room, std::size_t max_rooms) override {
    const std::string rooms = key("rooms");
    const std::string room_key = this->room_key(room.id);
    const std::string encoded = lobby_detail::encode_room(room);
    return transaction({rooms}, {{"ZCARD", rooms}},
                       [&](std::vector<RedisReply>& read, Writes& writes) {
                         if (static_cast<std::size_t>(reply_integer(read[0].get())) >= max_rooms) {
                           return StateError::too_many_rooms;
                         }
                         writes.push_back({"SET", room_key, encoded});
                         writes.push_back({"ZADD", rooms, number(room.id), number(room.id)});
                         return StateError::none;
                       });
  }
  std::optional<RoomInfo> room(LobbyRoomId id) const override {
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"GET", room_key(id)});
    if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
    return lobby_detail::decode_room(reply_string(reply.get()));
  }
  std::vector<RoomInfo> list_rooms(const RoomFilter& filter) const override;
  std::size_t room_count() const override {
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"ZCARD", key("rooms")});
    return reply ? static_cast<std::size_t>(reply_integer(reply.get())) : 0;
  }
  StateError join_room(LobbyRoomId id, const MemberInfo& member) override {
    return change_room(
        id, {}, [&](RoomInfo& room, Writes&) { return lobby_detail::add_member(room, member); });
  }
  StateError leave_room(LobbyRoomId id, LobbyPlayerId player,
                        std::optional<RoomInfo>& after) override {
    after.reset();
    bool closed = false;
    const StateError error = change_room(
        id, {},
        [&](RoomInfo& room, Writes& writes) {
          const StateError removed = lobby_detail::remove_member(room, player, closed);
          if (removed == StateError::none && closed) {
            writes.push_back({"DEL", room_key(id), key("chat:" + number(id))});
            writes.push_back({"ZREM", key("rooms"), number(id)});
            if (room.match_id != 0)
              writes.push_back({"DEL", key("match:" + number(room.match_id))});
          }
          return removed;
        },
        &after);
    if (closed) after.reset();
    return error;
  }
  StateError set_ready(LobbyRoomId id, LobbyPlayerId player, bool ready) override {
    return change_member(id, player, [&](MemberInfo& member) { member.ready = ready; });
  }
  StateError set_connected(LobbyRoomId id, LobbyPlayerId player, bool connected) override {
    return change_member(id, player, [&](MemberInfo& member) { member.connected = connected; });
  }
  StateError start_match(LobbyRoomId id, LobbyPlayerId host, std::uint64_t match_id,
                         const MatchServer& server, std::uint32_t reserved_slots,
                         std::uint64_t now_unix_ms, std::optional<RoomInfo>& started) override {
    started.reset();
    return change_room(
        id, {},
        [&](RoomInfo& room, Writes& writes) {
          const StateError error =
              lobby_detail::begin_match(room, host, match_id, server, reserved_slots, now_unix_ms);
          if (error != StateError::none) return error;
          writes.push_back({"SET", key("match:" + number(match_id)), number(id)});
          return StateError::none;
        },
        &started);
  }
  std::optional<RoomInfo> room_of_match(std::uint64_t match_id) const override {
    const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
    if (!id) return std::nullopt;
    auto found = room(*id);
    if (!found || found->match_id != match_id) return std::nullopt;
    return found;
  }
  bool mark_match_began(std::uint64_t match_id) override {
    const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
    if (!id) return false;
    return change_room(*id, {}, [&](RoomInfo& room, Writes&) {
             if (room.match_id != match_id) return StateError::room_not_found;
             room.match_began = true;
             return StateError::none;
           }) == StateError::none;
  }
  std::optional<RoomInfo> end_match(std::uint64_t match_id) override;

  void append_chat(LobbyRoomId id, ChatEntry entry, std::size_t keep) override {
    if (keep == 0) return;
    // Queued with the broadcasts rather than run here: the lobby's thread does not wait a round
    // trip per chat line, and Redis appends the line before it publishes the line's broadcast
    // (queued after it), so a player who gets the history and then the broadcasts misses none.
    fanout_.write_later({"EVAL", lobby_detail::redis_script::kAppendChat, "2", room_key(id),
                         key("chat:" + number(id)), lobby_detail::encode_chat(entry),
                         number(keep)});
  }
  std::vector<ChatEntry> chat_history(LobbyRoomId id) const override {
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"LRANGE", key("chat:" + number(id)), "0", "-1"});
    std::vector<ChatEntry> out;
    for_each_element(reply.get(), [&](const redisReply* element) {
      if (auto entry = lobby_detail::decode_chat(reply_string(element))) {
        out.push_back(std::move(*entry));
      }
    });
    return out;
  }

  std::uint64_t version() const override {
    // Other processes' room changes show up in the fan-out (presence and match events, not
    // chat) or, for those that publish nothing (a new room), within refresh_ms.
    return writes_.load() + fanout_.room_changes_received() + unix_time_ms() / config_.refresh_ms;
  }

  // --- fan-out -----------------------------------------------------------------------------
  std::uint64_t subscribe(Subscriber deliver) override {
    return fanout_.subscribe(std::move(deliver));
  }
  void unsubscribe(std::uint64_t subscription) override { fanout_.unsubscribe(subscription); }
  void publish(const Broadcast& broadcast) override { fanout_.publish(broadcast); }
  std::uint64_t dropped_broadcasts() const override { return fanout_.dropped_undecodable(); }

  // --- game servers ------------------------------------------------------------------------
  void put_game_server(const GameServerInfo& server) override {
    change_game_server(server.address, /*create=*/true, [&](GameServerInfo& entry) {
      const std::uint32_t players = entry.players;
      const std::uint32_t reserved = entry.reserved;
      entry = server;
      entry.players = players;
      entry.reserved = reserved;
    });
  }
  void set_game_server_load(const std::string& address, std::uint32_t players,
                            std::uint64_t lease_expires_unix_ms) override {
    change_game_server(address, /*create=*/false, [&](GameServerInfo& entry) {
      entry.players = players;
      entry.lease_expires_unix_ms = lease_expires_unix_ms;
    });
  }
  void disconnect_game_server(const std::string& address) override {
    change_game_server(address, /*create=*/false,
                       [](GameServerInfo& entry) { entry.connected = false; });
  }
  void remove_game_server(const std::string& address) override {
    std::lock_guard lock(commands_mutex_);
    commands_.pipeline({{"MULTI"},
                        {"DEL", server_key(address)},
                        {"SREM", key("gss"), address},
                        {"ZREM", key("gsleases"), server_key(address)},
                        {"EXEC"}});
  }
  std::vector<GameServerInfo> take_expired_game_servers(std::uint64_t now_unix_ms) override {
    std::vector<GameServerInfo> out;
    const RedisReply reply = eval(lobby_detail::redis_script::kTakeExpired,
                                  {key("gsleases"), key("gss")}, {number(now_unix_ms), key("gs:")});
    for_each_element(reply.get(), [&](const redisReply* element) {
      if (auto server = lobby_detail::decode_game_server(reply_string(element))) {
        out.push_back(std::move(*server));
      }
    });
    return out;
  }
  std::optional<GameServerInfo> reserve_game_server(std::uint32_t slots) override;
  void release_game_server(const std::string& address, std::uint32_t slots) override {
    change_game_server(address, /*create=*/false, [&](GameServerInfo& entry) {
      entry.reserved -= std::min(entry.reserved, slots);
    });
  }

  std::uint64_t round_trips() const override { return round_trips_.load(); }

 private:
  using Writes = std::vector<RedisCommand>;
  // Reads `read` after WATCHing `watched`, lets `decide` look at the replies and add writes, and
  // commits them with MULTI/EXEC: again from the start when another process changed a watched
  // key meanwhile. `decide`'s error ends it with nothing written.
  template <typename Decide>
  StateError transaction(const std::vector<std::string>& watched,
                         const std::vector<RedisCommand>& read, Decide decide);
  // A transaction on one room: `change` edits it (and may add writes); the room is written back
  // unless it closed (the change deleted it). `after` receives the room as written.
  template <typename Change>
  StateError change_room(LobbyRoomId id, const std::vector<std::string>& also_watched,
                         Change change, std::optional<RoomInfo>* after = nullptr);
  template <typename Change>
  StateError change_member(LobbyRoomId id, LobbyPlayerId player, Change change) {
    return change_room(id, {}, [&](RoomInfo& room, Writes&) {
      const auto member = lobby_detail::find_member(room, player);
      if (member == room.members.end()) return StateError::not_in_room;
      change(*member);
      return StateError::none;
    });
  }
  template <typename Change>
  void change_game_server(const std::string& address, bool create, Change change);

  std::optional<LobbyRoomId> room_id_of_match(std::uint64_t match_id) const {
    if (match_id == 0) return std::nullopt;
    std::lock_guard lock(commands_mutex_);
    const RedisReply reply = commands_.run({"GET", key("match:" + number(match_id))});
    if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
    return parse_id(reply_string(reply.get()));
  }

  RedisReply eval(const char* script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args) const {
    RedisCommand command{"EVAL", script, number(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    std::lock_guard lock(commands_mutex_);
    RedisReply reply = commands_.run(command);
    if (!reply) report(commands_.error());
    return reply;
  }
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
  void report(const std::string& error) const {
    const std::uint64_t now = unix_time_ms();
    if (now < next_report_ms_.load()) return;
    next_report_ms_ = now + 5000;
    log(LogLevel::error, "lobby", "lobby state: " + error);
  }

  const RedisLobbyStateConfig config_;
  const lobby_detail::RedisEndpoint endpoint_;
  mutable std::atomic<std::uint64_t> round_trips_{0};
  mutable std::mutex commands_mutex_;
  mutable RedisConnection commands_;
  std::atomic<std::uint64_t> writes_{0};  // this process's changes (version())
  mutable std::atomic<std::uint64_t> next_report_ms_{0};

  // Declared last: destroyed first, its threads stopped before the rest goes.
  lobby_detail::RedisFanout fanout_;
};

template <typename Decide>
StateError RedisLobbyState::transaction(const std::vector<std::string>& watched,
                                        const std::vector<RedisCommand>& read, Decide decide) {
  std::lock_guard lock(commands_mutex_);
  for (std::uint32_t attempt = 0; attempt < config_.max_transaction_attempts; ++attempt) {
    // WATCH and the reads in one round trip; the writes and EXEC in a second.
    std::vector<RedisCommand> first;
    RedisCommand watch{"WATCH"};
    watch.insert(watch.end(), watched.begin(), watched.end());
    first.push_back(std::move(watch));
    first.insert(first.end(), read.begin(), read.end());
    std::vector<RedisReply> replies = commands_.pipeline(first);
    if (replies.empty()) {
      report(commands_.error());
      return StateError::unavailable;
    }
    replies.erase(replies.begin());  // WATCH's OK
    Writes writes;
    if (const StateError error = decide(replies, writes); error != StateError::none) {
      commands_.run({"UNWATCH"});
      return error;
    }
    std::vector<RedisCommand> second{{"MULTI"}};
    second.insert(second.end(), writes.begin(), writes.end());
    second.push_back({"EXEC"});
    const std::vector<RedisReply> committed = commands_.pipeline(second);
    if (committed.empty()) {
      report(commands_.error());
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

template <typename Change>
StateError RedisLobbyState::change_room(LobbyRoomId id,
                                        const std::vector<std::string>& also_watched, Change change,
                                        std::optional<RoomInfo>* after) {
  const std::string room_key = this->room_key(id);
  std::vector<std::string> watched{room_key};
  watched.insert(watched.end(), also_watched.begin(), also_watched.end());
  return transaction(
      watched, {{"GET", room_key}}, [&](std::vector<RedisReply>& read, Writes& writes) {
        if (lobby_detail::is_nil(read[0].get())) return StateError::room_not_found;
        std::optional<RoomInfo> room = lobby_detail::decode_room(reply_string(read[0].get()));
        if (!room) return StateError::room_not_found;
        if (const StateError error = change(*room, writes); error != StateError::none) {
          return error;
        }
        if (!room->members.empty()) {
          writes.insert(writes.begin(), {"SET", room_key, lobby_detail::encode_room(*room)});
        }
        if (after != nullptr) *after = std::move(room);
        return StateError::none;
      });
}

template <typename Change>
void RedisLobbyState::change_game_server(const std::string& address, bool create, Change change) {
  const std::string server_key = this->server_key(address);
  transaction({server_key}, {{"GET", server_key}},
              [&](std::vector<RedisReply>& read, Writes& writes) {
                std::optional<GameServerInfo> server;
                if (!lobby_detail::is_nil(read[0].get())) {
                  server = lobby_detail::decode_game_server(reply_string(read[0].get()));
                }
                if (!server) {
                  if (!create) return StateError::room_not_found;  // nothing to change
                  server.emplace();
                }
                change(*server);
                server->address = address;
                writes.push_back({"SET", server_key, lobby_detail::encode_game_server(*server)});
                writes.push_back({"SADD", key("gss"), address});
                writes.push_back(
                    {"ZADD", key("gsleases"), score(server->lease_expires_unix_ms), server_key});
                return StateError::none;
              });
}

std::vector<RoomInfo> RedisLobbyState::list_rooms(const RoomFilter& filter) const {
  std::vector<RoomInfo> out;
  // Ids first (the ZSET keeps them in order), then the rooms a batch at a time until the page
  // is full: a filter may pass over many.
  constexpr std::size_t kBatch = 256;
  std::string after = "(" + number(filter.after);
  while (out.size() < filter.limit) {
    std::vector<RedisReply> replies;
    {
      std::lock_guard lock(commands_mutex_);
      replies = commands_.pipeline(
          {{"ZRANGEBYSCORE", key("rooms"), after, "+inf", "LIMIT", "0", number(kBatch)}});
    }
    if (replies.empty() || replies[0]->type != REDIS_REPLY_ARRAY || replies[0]->elements == 0) {
      break;
    }
    RedisCommand get{"MGET"};
    for (std::size_t i = 0; i < replies[0]->elements; ++i)
      get.push_back(key("room:" + reply_string(replies[0]->element[i])));
    after = "(" + reply_string(replies[0]->element[replies[0]->elements - 1]);
    const bool last_batch = replies[0]->elements < kBatch;
    RedisReply rooms;
    {
      std::lock_guard lock(commands_mutex_);
      rooms = commands_.run(get);
    }
    for_each_element(rooms.get(), [&](const redisReply* element) {
      if (out.size() >= filter.limit || lobby_detail::is_nil(element)) return;
      std::optional<RoomInfo> room = lobby_detail::decode_room(reply_string(element));
      if (!room) return;
      if (lobby_detail::passes(filter, *room)) out.push_back(std::move(*room));
    });
    if (last_batch) break;
  }
  return out;
}

std::optional<RoomInfo> RedisLobbyState::end_match(std::uint64_t match_id) {
  const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
  if (!id) return std::nullopt;
  std::optional<RoomInfo> after;
  std::string server;
  std::uint32_t reserved = 0;
  const StateError error = change_room(
      *id, {},
      [&](RoomInfo& room, Writes& writes) {
        if (room.match_id != match_id) return StateError::room_not_found;
        server = room.match_server.address;
        reserved = room.match_reserved_slots;
        lobby_detail::finish_match(room);
        writes.push_back({"DEL", key("match:" + number(match_id))});
        return StateError::none;
      },
      &after);
  if (error != StateError::none) return std::nullopt;
  // The match ended once (the transaction above): its reservation goes back once.
  if (reserved != 0) release_game_server(server, reserved);
  return after;
}

std::optional<GameServerInfo> RedisLobbyState::reserve_game_server(std::uint32_t slots) {
  std::vector<std::string> addresses;
  {
    std::lock_guard lock(commands_mutex_);
    const RedisReply members = commands_.run({"SMEMBERS", key("gss")});
    for_each_element(members.get(), [&](const redisReply* element) {
      addresses.push_back(reply_string(element));
    });
  }
  if (addresses.empty()) return std::nullopt;
  std::vector<std::string> keys;
  RedisCommand get{"MGET"};
  for (const std::string& address : addresses) {
    keys.push_back(server_key(address));
    get.push_back(keys.back());
  }
  std::optional<GameServerInfo> chosen;
  const StateError error =
      transaction(keys, {get}, [&](std::vector<RedisReply>& read, Writes& writes) {
        chosen.reset();
        for_each_element(read[0].get(), [&](const redisReply* element) {
          if (lobby_detail::is_nil(element)) return;
          std::optional<GameServerInfo> server =
              lobby_detail::decode_game_server(reply_string(element));
          if (!server || !server->connected ||
              server->free_slots() < std::max<std::uint32_t>(slots, 1)) {
            return;
          }
          if (!chosen || server->free_slots() > chosen->free_slots()) chosen = std::move(server);
        });
        if (!chosen) return StateError::room_full;
        chosen->reserved += slots;
        writes.push_back(
            {"SET", server_key(chosen->address), lobby_detail::encode_game_server(*chosen)});
        return StateError::none;
      });
  if (error != StateError::none) return std::nullopt;
  return chosen;
}

}  // namespace

Result<std::shared_ptr<LobbyState>> make_redis_lobby_state(const RedisLobbyStateConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  auto state = std::make_shared<RedisLobbyState>(config);
  if (Status status = state->start(); !status.ok()) return status;
  return std::shared_ptr<LobbyState>(std::move(state));
}

}  // namespace tickwire::net
