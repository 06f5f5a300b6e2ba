#pragma once
// Bad networks on demand: latency, jitter, loss, duplication and reordering, per direction and
// seeded, so a failing run can be replayed. Used by the loopback transport in memory and by
// UdpLinkSimulator beneath ENet, where lost datagrams are really retransmitted.

#include <cstdint>

#include "tickwire/net/status.hpp"

namespace tickwire::net {

// What happens to datagrams travelling one way.
struct LinkConditions {
  double latency_ms = 0;  // one-way delay added to every datagram, >= 0
  double jitter_ms = 0;   // each datagram's delay varies uniformly by up to ± this, <= latency_ms
  double loss = 0;        // probability a datagram is dropped, 0..1
  double duplicate = 0;   // probability a datagram is delivered twice, 0..1
  double reorder = 0;     // probability a datagram is held back behind later ones, 0..1

  bool is_perfect() const {
    return latency_ms == 0 && jitter_ms == 0 && loss == 0 && duplicate == 0 && reorder == 0;
  }
  Status validate() const;
};

struct NetworkConditions {
  LinkConditions client_to_server;
  LinkConditions server_to_client;
  // Seeds the random choices. The same seed and the same traffic give the same decisions.
  std::uint64_t seed = 1;

  // The same conditions both ways.
  static NetworkConditions symmetric(const LinkConditions& link, std::uint64_t seed = 1) {
    return {link, link, seed};
  }
  Status validate() const;
};

}  // namespace tickwire::net
