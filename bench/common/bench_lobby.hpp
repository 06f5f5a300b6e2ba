#pragma once
// The benchmarks play the lobby: one ticket issuer and one game-server key pair for the whole run,
// and every connection presents a fresh ticket with its own session keys, as a game's would.

#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/session_security.hpp>

namespace tickwire::bench {

class BenchLobby {
 public:
  static const BenchLobby& get() {
    static const BenchLobby lobby;
    return lobby;
  }
  // What a benchmark's server requires: this lobby's tickets, naming it "bench".
  net::TicketRequirement requirement() const {
    return net::TicketRequirement{issuer_.public_key(), kServerName, 2000, seal_};
  }
  // A fresh ticket and session keys for a benchmark's client.
  net::IssuedTicket ticket() const {
    return issuer_.issue_with_keys(1, 1, kServerName, seal_.public_key);
  }

 private:
  static constexpr const char* kServerName = "bench";
  const net::JoinTicketIssuer issuer_ = net::JoinTicketIssuer::generate();
  const net::GameServerSealKeys seal_ = net::GameServerSealKeys::generate();
};

}  // namespace tickwire::bench
