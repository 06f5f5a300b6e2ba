// --serve lobby (and lobby-tls): the Tickwire LobbyServer, configured for the benchmark, until
// stdin closes. Over TLS with a certificate made at start, as the tests make theirs.

#include <unistd.h>

#include <cstdio>

#include "../../tests/support/test_certificates.hpp"
#include "server_process.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::bench {

int serve_tickwire_lobby(bool tls, std::uint16_t redis_port) {
  const test::TestCertificates certificates;
  net::LobbyConfig config;
  if (tls) {
    config.websocket.tls.certificate_chain_file = certificates.chain_file();
    config.websocket.tls.private_key_file = certificates.key_file();
  } else {
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  }
  config.websocket.port = 0;
  // Every client is on 127.0.0.1: the per-address limits must fit all of them.
  config.websocket.max_connections = 20000;
  config.websocket.max_connections_per_address = 20000;
  config.websocket.max_pending_handshakes = 1024;
  config.websocket.connection_burst_per_address = 1'000'000;
  config.websocket.connections_per_address_per_second = 1e9;
  config.max_players_per_room = 10000;
  config.max_nicknames_per_address = 20000;
  // The idle reading puts the connections in rooms (of 8 by default, of one at the least), all
  // from here.
  config.max_rooms = 20000;
  config.max_rooms_per_address = 20000;
  // A full room's reply to JoinRoom must fit in one message (validate() checks): 10000 members
  // take about 1 MiB as JSON.
  config.websocket.common.max_message_size = 2 * 1024 * 1024;
  // The benchmark chats far faster than a person: lift the rate limits out of the way.
  config.chat_burst = 1'000'000;
  config.chat_lines_per_second = 1e9;
  config.request_burst = 1'000'000;
  config.requests_per_second = 1e9;
  // Handshake runs connect and leave thousands of players: forget them at once.
  config.resume_grace_ms = 0;
  // One node of a cluster: its state in the redis-server the benchmark started (every node on it
  // serves the same rooms). Otherwise the default, this process's memory.
  std::shared_ptr<net::LobbyState> state = net::make_in_memory_lobby_state();
  if (redis_port != 0) {
    net::RedisLobbyStateConfig redis;
    redis.port = redis_port;
    // Generous: the machine running the benchmark may be loaded.
    redis.timeout_ms = 5000;
    auto made = net::make_redis_lobby_state(redis);
    if (!made.ok()) {
      std::fprintf(stderr, "lobby: %s\n", made.error().c_str());
      return 1;
    }
    state = std::move(made.value());
  }
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate(), std::move(state));
  if (const net::Status status = lobby.start(); !status.ok()) {
    std::fprintf(stderr, "lobby: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>(lobby.port()));
  std::fflush(stdout);
  char byte = 0;
  while (read(STDIN_FILENO, &byte, 1) > 0) {
  }
  lobby.stop();
  return 0;
}

}  // namespace tickwire::bench
