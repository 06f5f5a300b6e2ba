#pragma once
// A dedicated game server's line to a lobby in another process: registers the server for
// matches (signing the lobby's challenge with the server's identity key, which the lobby's
// allow-list must hold, and naming its seal public key), reports its player count when it changes
// and every second (its heartbeat: the lobby ends the matches of a server it stops
// hearing from), the start and end of every match, and reconnects when the lobby goes away.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tickwire/net/lobby_client.hpp>

#include "lobby_tls.hpp"

namespace arena {

class LobbyLink {
 public:
  LobbyLink(std::string lobby_host, std::uint16_t lobby_port, LobbyTlsOptions lobby_tls,
            tickwire::net::GameServerRegistration registration);

  // Keeps the connection, registration and reports going. Call once per loop.
  void poll(std::uint32_t players);
  void match_began(std::uint64_t match_id) { began_.push_back(match_id); }
  void match_over(std::uint64_t match_id, tickwire::net::MatchEndReason reason) {
    ended_.emplace_back(match_id, reason);
  }
  bool registered() const { return registered_; }
  // Match reports not yet handed to the lobby (it is away, or poll() has not run since).
  bool has_pending_reports() const { return !began_.empty() || !ended_.empty(); }

 private:
  void connect();

  std::string lobby_host_;
  std::uint16_t lobby_port_;
  LobbyTlsOptions lobby_tls_;
  tickwire::net::GameServerRegistration registration_request_;
  std::unique_ptr<tickwire::net::LobbyClient> client_;
  std::uint64_t registration_ = 0;  // the request id of the registration
  bool registered_ = false;
  std::int64_t reported_players_ = -1;
  std::chrono::steady_clock::time_point next_heartbeat_{};
  // Reports not sent yet (kept while the lobby is away).
  std::vector<std::uint64_t> began_;
  std::vector<std::pair<std::uint64_t, tickwire::net::MatchEndReason>> ended_;
  std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace arena
