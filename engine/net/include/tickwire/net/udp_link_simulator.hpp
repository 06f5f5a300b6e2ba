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
  // Distinct clients (IP address and port) relayed at once; datagrams from further ones are
  // dropped. Default 256.
  std::uint32_t max_clients = 256;
  // Clients from one IP address at most: a new port of an address that has this many takes the
  // place of its client heard least recently, so one host sending from many ports cannot fill
  // the table and shut others out. Default 16.
  std::uint32_t max_clients_per_address = 16;
  // A client that has sent nothing for this long is forgotten and its upstream socket closed, so
  // a few datagrams from spoofed sources hold the table only this long. A connected ENet peer
  // pings every 500 ms. Milliseconds, default 10000.
  std::uint32_t idle_timeout_ms = 10'000;
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
  std::uint64_t idle_clients_forgotten = 0;  // silent for idle_timeout_ms
  std::uint64_t clients_replaced = 0;  // by a new port of an address at max_clients_per_address
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
