#pragma once
// The one interface every transport implements (ENet over UDP, WebSocket over TCP, and an
// in-memory loopback). Game code written against it does not change when the transport does.
//
// A transport belongs to the thread that polls it: call every method from that thread. Events
// come out of poll() there, whatever the implementation does inside.
//
// The interface says nothing about security: the ENet and WebSocket transports admit players by
// join ticket and encrypt and authenticate their sessions with the ticket's keys
// (session_security.hpp, enet_transport.hpp, websocket_transport.hpp); the loopback transport does
// neither. No transport interprets messages: schemas and the simulation layer sit above it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tickwire/net/event.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/stats.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net {

enum class SendResult : std::uint8_t {
  ok,
  unknown_peer,     // no connected peer has this id (it may have just disconnected)
  too_large,        // the message is over the transport's max_message_size
  invalid_channel,  // the channel is not below the configured channel count
  queue_full,       // the peer's send queue is at its cap: it is not keeping up; send less
  failed,           // the transport could not queue the message (out of memory)
};
std::string_view to_string(SendResult result);

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends what is queued, takes in what has arrived, and hands out the next event, if any.
  // Returns false when there is nothing to report. With `wait` > 0 it blocks at most that long
  // for network input when no event is ready. Call it until it returns false once per frame.
  virtual bool poll(Event& event,
                    std::chrono::milliseconds wait = std::chrono::milliseconds{0}) = 0;

  // Queues a message to one peer. The bytes are copied; they may be reused on return.
  virtual SendResult send(PeerId peer, Channel channel, Delivery delivery,
                          std::span<const std::byte> message) = 0;
  // Queues a message to every connected peer.
  virtual SendResult broadcast(Channel channel, Delivery delivery,
                               std::span<const std::byte> message) = 0;
  // Starts a graceful disconnect: queued reliable messages go out first, then the peer is told
  // the reason. A `disconnected` event for the peer follows from poll().
  virtual void disconnect(PeerId peer, DisconnectReason reason) = 0;
  // Sends everything queued now instead of at the next poll().
  virtual void flush() = 0;

  // Stats of one connected peer, or nothing if no peer has that id.
  virtual std::optional<ConnectionStats> stats(PeerId peer) const = 0;
  virtual TransportCounters counters() const = 0;
  virtual std::size_t connected_peers() const = 0;
};

// A transport that accepts connections.
class ServerTransport : public Transport {
 public:
  // The port it listens on (useful when it was asked to bind port 0).
  virtual std::uint16_t port() const = 0;
  // The join ticket a peer was admitted with, on a server that requires tickets.
  virtual std::optional<JoinTicket> ticket_of(PeerId /*peer*/) const { return std::nullopt; }
};

enum class ClientState : std::uint8_t { connecting, connected, disconnected };

// A transport with exactly one peer: the server it connects to from creation on. It connects
// once; to reconnect after a `disconnected` event, make a new client.
class ClientTransport : public Transport {
 public:
  virtual ClientState state() const = 0;
  // The id of the server; valid from the `connected` event on.
  virtual PeerId server() const = 0;

  SendResult send(Channel channel, Delivery delivery, std::span<const std::byte> message) {
    return send(server(), channel, delivery, message);
  }
  using Transport::send;
};

}  // namespace tickwire::net
