#pragma once
// The one narrow interface the transport benchmark drives, so that Tickwire's ENet transport,
// raw ENet and raw UDP are measured by the very same code: same message pattern, same waits, same
// flushes. Only connection set-up and the calls beneath these three functions differ.
//
// Each endpoint has exactly one peer (the server talks to the one client that connected) and,
// like the transports under test, is used only from the thread that created it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tickwire/net/status.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::bench {

// What one end has put on the wire so far: UDP payload bytes (protocol headers, acknowledgements
// and retransmissions included; the 28 bytes of IP and UDP header per datagram are not, for any
// transport) and datagrams.
struct WireTotals {
  std::uint64_t bytes = 0;
  std::uint64_t datagrams = 0;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // Queues `message` for the peer. False when the transport will not take it now (raw UDP with
  // a full socket buffer, or no peer yet); the caller decides whether to retry.
  virtual bool send(net::Channel channel, net::Delivery delivery,
                    std::span<const std::byte> message) = 0;
  // Puts everything queued on the wire now rather than at the next receive().
  virtual void flush() = 0;
  // The next message from the peer, waiting up to `wait` for one. The bytes stay valid until the
  // next call. Connection events are handled inside and never returned.
  virtual std::optional<std::span<const std::byte>> receive(std::chrono::milliseconds wait) = 0;
  // Everything this end has sent since it was made, handshake included. Cheap: read as often as
  // needed.
  virtual WireTotals wire_sent() const = 0;
};

class ServerEndpoint : public Endpoint {
 public:
  virtual std::uint16_t port() const = 0;
};

// How to make both ends of one transport. The server listens on 127.0.0.1 (any free port); the
// client connects to it there and returns once connected, so make_client needs the server to be
// serviced on another thread meanwhile.
struct TransportUnderTest {
  std::string name;
  net::Result<std::unique_ptr<ServerEndpoint>> (*make_server)();
  net::Result<std::unique_ptr<Endpoint>> (*make_client)(std::uint16_t port);
};

// Tickwire with encrypted sessions (the default), and with plaintext_for_development.
TransportUnderTest tickwire_enet_transport();
TransportUnderTest tickwire_plaintext_transport();
// Tickwire's WebSocket transport with gameplay sessions (ticket, sealed messages) and without.
TransportUnderTest tickwire_websocket_transport();
TransportUnderTest tickwire_websocket_plaintext_transport();
TransportUnderTest raw_enet_transport();
TransportUnderTest raw_udp_transport();

// How long a client waits for its connection before giving up.
inline constexpr std::chrono::seconds kConnectTimeout{5};

}  // namespace tickwire::bench
