#pragma once
// A dedicated game server's line to a lobby in another process: registers the server for
// matches (with the lobby's game-server secret and the server's seal public key), reports its
// player count when it changes and the end of every match, and reconnects when the lobby goes
// away.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tickwire/net/lobby_client.hpp>

#include "lobby_tls.hpp"

namespace arena {

class LobbyLink {
 public:
  // `seal_key`: the server's sealing public key, or nullopt when it runs without encryption.
  LobbyLink(std::string lobby_host, std::uint16_t lobby_port, LobbyTlsOptions lobby_tls,
            std::string game_address, std::uint32_t capacity, std::string secret,
            std::optional<tickwire::net::ServerSealPublicKey> seal_key);

  // Keeps the connection, registration and reports going. Call once per loop.
  void poll(std::uint32_t players);
  void match_over(std::uint64_t match_id) { ended_.push_back(match_id); }
  bool registered() const { return registered_; }

 private:
  void connect();

  std::string lobby_host_;
  std::uint16_t lobby_port_;
  LobbyTlsOptions lobby_tls_;
  std::string game_address_;
  std::uint32_t capacity_;
  std::string secret_;
  std::optional<tickwire::net::ServerSealPublicKey> seal_key_;
  std::unique_ptr<tickwire::net::LobbyClient> client_;
  std::uint64_t registration_ = 0;  // the request id of the registration
  bool registered_ = false;
  std::int64_t reported_players_ = -1;
  std::vector<std::uint64_t> ended_;  // match ends not yet reported
  std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace arena
