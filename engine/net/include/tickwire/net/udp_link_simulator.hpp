#pragma once
// A UDP relay that applies NetworkConditions to every datagram between clients and a server.
// Clients connect to the relay's port instead of the server's; each client gets its own upstream
// socket, so the server still sees one address per client. Because it works on datagrams beneath
// the protocol, ENet's reliability is really exercised: lost datagrams are retransmitted.
//
// It runs on its own thread (so latency is honoured while the game thread is busy) and sends
// only to the target address it was given. Meant for tests, benchmarks and play tests, not for
// production traffic.

#include <cstdint>
#include <memory>
#include <string>

#include "tickwire/net/network_conditions.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net {

struct UdpLinkSimulatorConfig {
  // Where clients send to. Port 0 = any free port (read it back with port()).
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 0;
  // The server datagrams are relayed to.
  std::string target_address = "127.0.0.1";
  std::uint16_t target_port = 0;
  NetworkConditions conditions;
  // Distinct client addresses relayed at once; datagrams from further ones are dropped. Default
  // 256.
  std::uint32_t max_clients = 256;
  // Datagrams held for later delivery at once; beyond this new ones are dropped. Default 65536.
  std::uint32_t max_held_datagrams = 65536;

  Status validate() const;
};

struct UdpLinkSimulatorCounters {
  std::uint64_t forwarded_to_server = 0;
  std::uint64_t forwarded_to_clients = 0;
  std::uint64_t dropped = 0;     // lost on purpose
  std::uint64_t duplicated = 0;  // sent twice on purpose
  std::uint64_t reordered = 0;   // held back on purpose
  std::uint64_t overflowed = 0;  // dropped because max_clients or max_held_datagrams was reached
};

class UdpLinkSimulator {
 public:
  static Result<std::unique_ptr<UdpLinkSimulator>> start(const UdpLinkSimulatorConfig& config);
  virtual ~UdpLinkSimulator() = default;

  virtual std::uint16_t port() const = 0;
  // Changes the conditions from now on (thread-safe). Datagrams already held keep their times.
  virtual void set_conditions(const NetworkConditions& conditions) = 0;
  virtual UdpLinkSimulatorCounters counters() const = 0;
};

}  // namespace tickwire::net
