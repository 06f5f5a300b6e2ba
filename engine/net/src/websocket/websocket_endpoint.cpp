#include "websocket/websocket_endpoint.hpp"

#include <algorithm>
#include <new>

namespace tickwire::net::websocket_detail {

bool WebSocketEndpoint::poll(Event& event, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  QueuedEvent item;
  while (events_->pop(item, deadline)) {
    const PeerId peer = item.event.peer;
    switch (item.event.type) {
      case EventType::connected:
        peers_[peer] = PeerEntry{std::move(item.link), false, {}};
        break;
      case EventType::disconnected:
        peers_.erase(peer);
        break;
      case EventType::message: {
        const auto it = peers_.find(peer);
        if (it == peers_.end() || it->second.closing) {
          ++dropped_stale_;  // the game already let go of this peer
          continue;
        }
        ++it->second.counts.messages_received;
        it->second.counts.bytes_received += item.event.payload.size();
        break;
      }
    }
    event = std::move(item.event);
    return true;
  }
  return false;
}

SendResult WebSocketEndpoint::admit_frame(PeerEntry& entry, const Frame& frame) {
  PeerLink& link = *entry.link;
  if (!link.open.load()) return SendResult::unknown_peer;  // its `disconnected` is on the way
  const std::size_t size = message_size(frame);
  // Only this thread adds to bytes_queued, so the check cannot be overtaken by another send.
  if (link.bytes_queued.load() + size > limits_.max_queued_bytes_per_peer) {
    return SendResult::queue_full;
  }
  link.bytes_queued += size;
  ++link.messages_queued;
  ++entry.counts.messages_sent;
  entry.counts.bytes_sent += size;
  return SendResult::ok;
}

SendResult WebSocketEndpoint::queue_frame(PeerEntry& entry, const SharedFrame& frame) {
  const SendResult result = admit_frame(entry, *frame);
  if (result == SendResult::ok) entry.link->send_frame(frame);
  return result;
}

void WebSocketEndpoint::fan_out(std::vector<std::shared_ptr<PeerLink>> links,
                                const SharedFrame& frame) {
  if (links.empty()) return;
  if (fanout_) return fanout_(std::move(links), frame);  // all or nothing
  // A client has one link, so this is all or nothing too.
  for (const auto& link : links)
    link->send_frame(frame);
}

SendResult WebSocketEndpoint::send(PeerId peer, Channel channel, Delivery /*delivery*/,
                                   std::span<const std::byte> message) {
  // Every Delivery kind travels the same way: WebSocket has only one ordered, reliable stream.
  const auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.closing) return SendResult::unknown_peer;
  if (channel >= limits_.channel_count) return SendResult::invalid_channel;
  if (message.size() > limits_.max_message_size) return SendResult::too_large;
  try {
    return queue_frame(it->second, make_frame(channel, message));
  } catch (const std::bad_alloc&) {
    return SendResult::failed;
  }
}

SendResult WebSocketEndpoint::broadcast(Channel channel, Delivery /*delivery*/,
                                        std::span<const std::byte> message) {
  if (channel >= limits_.channel_count) return SendResult::invalid_channel;
  if (message.size() > limits_.max_message_size) return SendResult::too_large;
  try {
    // One frame shared by every peer; each peer's queue cap still counts it in full, so a slow
    // peer cannot hold more than its own share.
    const SharedFrame frame = make_frame(channel, message);
    std::vector<std::shared_ptr<PeerLink>> links;
    links.reserve(peers_.size());
    for (auto& [peer, entry] : peers_) {
      if (!entry.closing && admit_frame(entry, *frame) == SendResult::ok) {
        links.push_back(entry.link);
      }
    }
    fan_out(std::move(links), frame);
  } catch (const std::bad_alloc&) {
    return SendResult::failed;
  }
  return SendResult::ok;
}

void WebSocketEndpoint::send_to_many(std::span<const PeerId> peers, Channel channel,
                                     std::span<const std::byte> message,
                                     std::span<SendResult> results) {
  const auto fill = [&](SendResult result) { std::fill(results.begin(), results.end(), result); };
  if (channel >= limits_.channel_count) return fill(SendResult::invalid_channel);
  if (message.size() > limits_.max_message_size) return fill(SendResult::too_large);
  SharedFrame frame;
  std::vector<std::shared_ptr<PeerLink>> links;
  try {
    frame = make_frame(channel, message);
    links.reserve(peers.size());
  } catch (const std::bad_alloc&) {
    return fill(SendResult::failed);
  }
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const auto it = peers_.find(peers[i]);
    if (it == peers_.end() || it->second.closing) {
      results[i] = SendResult::unknown_peer;
      continue;
    }
    results[i] = admit_frame(it->second, *frame);
    if (results[i] == SendResult::ok) links.push_back(it->second.link);
  }
  try {
    fan_out(std::move(links), frame);
  } catch (const std::bad_alloc&) {
    // Nothing was handed over: take back what admit_frame() counted.
    const std::size_t size = message_size(*frame);
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (results[i] != SendResult::ok) continue;
      results[i] = SendResult::failed;
      PeerEntry& entry = peers_.find(peers[i])->second;
      entry.link->bytes_queued -= size;
      --entry.link->messages_queued;
      --entry.counts.messages_sent;
      entry.counts.bytes_sent -= size;
    }
  }
}

void WebSocketEndpoint::disconnect(PeerId peer, DisconnectReason reason) {
  const auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.closing) return;
  it->second.closing = true;
  it->second.link->close(reason);
}

void WebSocketEndpoint::disconnect_with_code(PeerId peer, DisconnectReason reason,
                                             std::uint16_t code, bool after_writes) {
  const auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.closing) return;
  it->second.closing = true;
  it->second.link->close_with_code(reason, code, after_writes);
}

std::string WebSocketEndpoint::peer_address(PeerId peer) const {
  const auto it = peers_.find(peer);
  return it == peers_.end() ? std::string{} : it->second.link->remote_address;
}

void WebSocketEndpoint::admit_full_size_messages(PeerId peer) {
  const auto it = peers_.find(peer);
  if (it != peers_.end()) it->second.link->admit_full_size_messages();
}

std::optional<ConnectionStats> WebSocketEndpoint::stats(PeerId peer) const {
  const auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  const PeerLink& link = *it->second.link;
  ConnectionStats stats = it->second.counts;
  stats.rtt_ms = link.rtt_ms.load();
  stats.rtt_variance_ms = link.rtt_variance_ms.load();
  if (link.wire) {
    stats.wire_bytes_received = link.wire->bytes_read.load();
    stats.wire_bytes_sent = link.wire->bytes_written.load();
    stats.datagrams_received = link.wire->frames_read.load();
    stats.datagrams_sent = link.wire->frames_written.load();
  }
  stats.messages_queued = link.messages_queued.load();
  stats.bytes_queued = link.bytes_queued.load();
  return stats;
}

TransportCounters WebSocketEndpoint::counters() const {
  TransportCounters counters = events_->counters.snapshot();
  counters.dropped_stale = dropped_stale_;
  return counters;
}

void WebSocketEndpoint::clear() {
  peers_.clear();
  events_->clear();
}

}  // namespace tickwire::net::websocket_detail
