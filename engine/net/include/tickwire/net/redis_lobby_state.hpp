#pragma once
// A LobbyState kept in Redis, so that several lobby processes (LobbyServers given states made
// here, on the same server and key prefix) serve the same rooms: a player on one sees the rooms
// made on another, chats with its players and starts matches with them.
//
// How: each room, resume record and game server is one record (a key); changes that must check
// what they change (the last seat, a match's start, a nickname, a game server's last slots) are
// Redis transactions (WATCH/MULTI/EXEC, retried on a conflict) or Lua scripts, so two processes
// never both win. Nicknames carry a TTL (PEXPIRE) that their owner renews. Fan-out is Redis
// pub/sub: one channel; publish() only queues, for a publisher connection on a thread of its own
// (what queued meanwhile goes in one round trip), and a subscriber connection on another thread
// hands what arrives to the lobby's thread through the LobbyState subscription.
//
// What it does not do: TLS to Redis (Debian 12's libhiredis-dev 0.14 has no hiredis_ssl; put
// Redis on a private network or loopback, or behind a TLS tunnel), Redis Cluster or Sentinel
// (one server), persistence choices (Redis's own). Calls other than publish() and append_chat()
// are synchronous: each waits for its round trips, at most timeout_ms each (docs/cluster.md
// counts them per request); a LobbyServer makes them on its state workers, never on its own
// thread (may_block()).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tickwire/net/lobby_state.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net {

struct RedisLobbyStateConfig {
  // The Redis server. Defaults "127.0.0.1" and 6379.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  // AUTH password (Redis's requirepass); empty = no AUTH. Never logged. Default empty.
  std::string password;
  // Every key and the fan-out channel start with it: lobbies with the same prefix share rooms,
  // others on the same Redis do not see each other. 1..64 bytes, no spaces. Default
  // "tickwire:lobby:".
  std::string key_prefix = "tickwire:lobby:";
  // Connecting, and each round trip, may take this long, in milliseconds, before the call fails
  // (the lobby answers such a request with "try again"). 10..60000, default 1000.
  std::uint32_t timeout_ms = 1000;
  // A transaction that loses a race (another process changed what it read) is retried this many
  // times before the call fails. 1..1000, default 32.
  std::uint32_t max_transaction_attempts = 32;
  // The lobby's snapshot for /api/rooms follows other processes' changes at least this often,
  // in milliseconds (version() changes with it). 50..60000, default 500.
  std::uint32_t refresh_ms = 500;
  // Command connections, besides the fan-out's two. A call holds one for its round trips, so
  // that calls from several threads (a LobbyServer's state workers, LobbyConfig::state_workers)
  // proceed at once; a call waits while all are in use. Each connects on its first use.
  // 1..64, default 4 (one per state worker, by default).
  std::size_t connections = 4;
  // Broadcasts (chat lines, presence, match starts) waiting for the publisher thread, at most;
  // past it, publish() waits for room (Redis is slower than the lobby). 16..10000000, default
  // 65536.
  std::size_t max_queued_broadcasts = 65'536;

  Status validate() const;
};

// Connects (and authenticates) both connections, checks the server answers, and starts the
// subscriber thread. Fails with what went wrong (the address, AUTH refused, a timeout).
Result<std::shared_ptr<LobbyState>> make_redis_lobby_state(const RedisLobbyStateConfig& config);

}  // namespace tickwire::net
