// RedisLobbyState's game-server registry (lobby/redis_lobby_state.hpp has the class and the key
// layout): each server's record with its load and lease, the set of addresses, the ZSET of lease
// ends that take_expired_game_servers sweeps, and slot reservations for matches. A reservation is
// a transaction over every server's record, so two lobby processes never hand out the same slots.

#include <algorithm>

#include "lobby/redis_lobby_state.hpp"
#include "lobby/redis_records.hpp"
#include "lobby/redis_scripts.hpp"

namespace tickwire::net::lobby_detail {

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

void RedisLobbyState::put_game_server(const GameServerInfo& server) {
  change_game_server(server.address, /*create=*/true, [&](GameServerInfo& entry) {
    const std::uint32_t players = entry.players;
    const std::uint32_t reserved = entry.reserved;
    entry = server;
    entry.players = players;
    entry.reserved = reserved;
  });
}

void RedisLobbyState::set_game_server_load(const std::string& address, std::uint32_t players,
                                           std::uint64_t lease_expires_unix_ms) {
  change_game_server(address, /*create=*/false, [&](GameServerInfo& entry) {
    entry.players = players;
    entry.lease_expires_unix_ms = lease_expires_unix_ms;
  });
}

void RedisLobbyState::disconnect_game_server(const std::string& address) {
  change_game_server(address, /*create=*/false,
                     [](GameServerInfo& entry) { entry.connected = false; });
}

void RedisLobbyState::remove_game_server(const std::string& address) {
  const auto commands = commands_.acquire();
  commands->pipeline({{"MULTI"},
                      {"DEL", server_key(address)},
                      {"SREM", key("gss"), address},
                      {"ZREM", key("gsleases"), server_key(address)},
                      {"EXEC"}});
}

std::vector<GameServerInfo> RedisLobbyState::take_expired_game_servers(std::uint64_t now_unix_ms) {
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

std::optional<GameServerInfo> RedisLobbyState::reserve_game_server(std::uint32_t slots) {
  std::vector<std::string> addresses;
  {
    const auto commands = commands_.acquire();
    const RedisReply members = commands->run({"SMEMBERS", key("gss")});
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

void RedisLobbyState::release_game_server(const std::string& address, std::uint32_t slots) {
  change_game_server(address, /*create=*/false, [&](GameServerInfo& entry) {
    entry.reserved -= std::min(entry.reserved, slots);
  });
}

}  // namespace tickwire::net::lobby_detail
