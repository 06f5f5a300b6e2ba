#pragma once
// What the Arena game-server tests share: the lobby's part of admitting a player (it signs a
// ticket for match 7 and seals its session keys to the game server), a server config that admits
// those tickets on a free port, and the client config a player gets from the lobby; a server
// running on its own thread. (A folder of its own for a test's files: TempDirectory.)

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include <tickwire/net/join_ticket.hpp>

#include "../support/temp_directory.hpp"
#include "arena_client.hpp"
#include "arena_server.hpp"

namespace arena::test {

inline constexpr char kTicketAddress[] = "arena-test:7777";

class TestLobby {
 public:
  // Admits this lobby's tickets, on a port the system picks.
  ServerConfig server_config() const {
    ServerConfig config;
    config.enet.port = 0;
    config.lobby_key = issuer_.public_key();
    config.seal_keys = seal_keys_;
    config.public_address = kTicketAddress;
    return config;
  }
  // A fresh ticket (a new nonce) each time, as the lobby issues one to a returning player.
  // `role`: spectator for a ticket that watches the match (SpectateMatch's).
  tickwire::net::IssuedTicket ticket(
      std::uint64_t player,
      tickwire::net::TicketRole role = tickwire::net::TicketRole::player) const {
    return issuer_.issue_with_keys(player, /*match_id=*/7, kTicketAddress, seal_keys_.public_key,
                                   30'000, role);
  }
  // A player's connection to the server on `port` of 127.0.0.1, as the game's own client makes it.
  ClientConfig client_config(
      std::uint64_t player, std::uint16_t port,
      tickwire::net::TicketRole role = tickwire::net::TicketRole::player) const {
    const tickwire::net::IssuedTicket issued = ticket(player, role);
    ClientConfig config;
    config.server_address = "127.0.0.1:" + std::to_string(port);
    config.ticket = issued.ticket;
    config.session_keys = issued.keys;
    return config;
  }

 private:
  tickwire::net::JoinTicketIssuer issuer_ = tickwire::net::JoinTicketIssuer::generate();
  tickwire::net::GameServerSealKeys seal_keys_ = tickwire::net::GameServerSealKeys::generate();
};

// A server on its own thread until the test is done with it.
class ServerThread {
 public:
  explicit ServerThread(ArenaServer& server)
      : thread_([this, &server] {
          while (!stop_.load())
            server.run_for(std::chrono::milliseconds(20));
        }) {}
  ~ServerThread() {
    stop_ = true;
    thread_.join();
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace arena::test
