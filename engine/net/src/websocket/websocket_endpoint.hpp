#pragma once
// The caller's-thread half of a WebSocket transport, shared by server and client: the peers the
// game has been told about (from their `connected` event to their `disconnected` event), the send
// checks (channel, size, queue cap), and stats. The io-thread half is WebSocketConnection.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tickwire/net/transport.hpp"
#include "websocket/event_queue.hpp"

namespace tickwire::net::websocket_detail {

struct EndpointLimits {
  std::size_t channel_count = 0;
  std::size_t max_message_size = 0;
  std::size_t max_queued_bytes_per_peer = 0;
};

// Hands one frame to several connections with a single hand-off to the io thread (one post, not
// one per peer). Without one, each link gets its own send_frame().
using FrameFanout = std::function<void(std::vector<std::shared_ptr<PeerLink>> links, SharedFrame)>;

class WebSocketEndpoint {
 public:
  WebSocketEndpoint(std::shared_ptr<EventQueue> events, EndpointLimits limits,
                    FrameFanout fanout = nullptr)
      : events_(std::move(events)), limits_(limits), fanout_(std::move(fanout)) {}

  bool poll(Event& event, std::chrono::milliseconds wait);
  // Any thread: ends a poll()'s wait early (EventQueue::wake()).
  void wake() { events_->wake(); }
  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message);
  SendResult broadcast(Channel channel, Delivery delivery, std::span<const std::byte> message);
  // send() of one message to each of `peers`, with one copy of it and one hand-off to the io
  // thread; results[i] is what send() would have said for peers[i] (results.size() ==
  // peers.size()).
  void send_to_many(std::span<const PeerId> peers, Channel channel,
                    std::span<const std::byte> message, std::span<SendResult> results);
  void disconnect(PeerId peer, DisconnectReason reason);
  // disconnect() with an explicit close code; see PeerLink::close_with_code().
  void disconnect_with_code(PeerId peer, DisconnectReason reason, std::uint16_t code,
                            bool after_writes);
  std::optional<ConnectionStats> stats(PeerId peer) const;
  // The peer's IP address (server side), empty if it is not connected.
  std::string peer_address(PeerId peer) const;
  // See PeerLink::admit_full_size_messages(); nothing if the peer is gone.
  void admit_full_size_messages(PeerId peer);
  TransportCounters counters() const;
  std::size_t connected_peers() const { return peers_.size(); }

  // Drops every connection and pending event. Only after the io thread has stopped: the
  // connections' sockets belong to its io_context.
  void clear();

 private:
  struct PeerEntry {
    std::shared_ptr<PeerLink> link;
    bool closing = false;  // the game called disconnect(); no more sends or messages
    ConnectionStats counts;
  };
  SendResult queue_frame(PeerEntry& entry, const SharedFrame& frame);
  // The checks and the counting of queue_frame(), without handing the frame over.
  SendResult admit_frame(PeerEntry& entry, const Frame& frame);
  // Hands `frame` to every link at once.
  void fan_out(std::vector<std::shared_ptr<PeerLink>> links, const SharedFrame& frame);

  std::shared_ptr<EventQueue> events_;
  EndpointLimits limits_;
  FrameFanout fanout_;
  std::unordered_map<PeerId, PeerEntry> peers_;
  std::uint64_t dropped_stale_ = 0;
};

// Forwards the Transport interface, which server and client share, to the endpoint.
template <typename Role>
class EndpointTransport : public Role {
 public:
  explicit EndpointTransport(WebSocketEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    return endpoint_.poll(event, wait);
  }
  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    return endpoint_.send(peer, channel, delivery, message);
  }
  using Role::send;
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    return endpoint_.broadcast(channel, delivery, message);
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    endpoint_.disconnect(peer, reason);
  }
  // Nothing waits for a flush: the io thread starts writing as soon as send() posts a frame.
  void flush() override {}
  std::optional<ConnectionStats> stats(PeerId peer) const override { return endpoint_.stats(peer); }
  TransportCounters counters() const override { return endpoint_.counters(); }
  std::size_t connected_peers() const override { return endpoint_.connected_peers(); }

 protected:
  WebSocketEndpoint endpoint_;
};

}  // namespace tickwire::net::websocket_detail
