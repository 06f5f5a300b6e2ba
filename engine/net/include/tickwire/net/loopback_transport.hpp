#pragma once
// An in-memory network: one server and any number of clients in the same process, with the same
// Transport interface as ENet. Deterministic: with a manual clock, the same calls give the same
// events every run, which is what simulation tests need.
//
// What it does not do: threads. Every endpoint of one LoopbackNetwork must be used from one thread.
// Reliable messages have no retransmission beneath them, so NetworkConditions give them delay and
// jitter (order kept) but never loss or duplicates; unreliable messages get everything.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tickwire/net/network_conditions.hpp"
#include "tickwire/net/transport.hpp"

namespace tickwire::net {

struct LoopbackConfig {
  // Channels per connection, 1..255. Default 2.
  std::size_t channel_count = 2;
  // Largest message accepted by send(), in bytes. Default 256 KiB.
  std::size_t max_message_size = 256 * 1024;
  // Clients the server accepts at once; further ones get server_full. Default 64.
  std::size_t max_peers = 64;
  NetworkConditions conditions;
  // Current time in microseconds. Empty = the steady clock. Tests pass a clock they advance by
  // hand.
  std::function<std::uint64_t()> clock;

  Status validate() const;
};

class LoopbackNetwork {
 public:
  // Fails (with the field named) if the config is invalid.
  static Result<std::unique_ptr<LoopbackNetwork>> create(LoopbackConfig config = {});
  virtual ~LoopbackNetwork() = default;

  // The network's one server. Created on first call; later calls fail.
  virtual Result<std::unique_ptr<ServerTransport>> make_server() = 0;
  // A client that starts connecting to the server at once.
  virtual std::unique_ptr<ClientTransport> make_client() = 0;
  // Changes the conditions from now on; messages already in flight keep their times.
  virtual void set_conditions(const NetworkConditions& conditions) = 0;
};

}  // namespace tickwire::net
