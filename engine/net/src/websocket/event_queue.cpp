#include "websocket/event_queue.hpp"

#include <utility>

namespace tickwire::net::websocket_detail {

TransportCounters SharedCounters::snapshot() const {
  TransportCounters out;
  out.connections_accepted = connections_accepted.load();
  out.dropped_malformed = dropped_malformed.load();
  out.dropped_oversize = dropped_oversize.load();
  out.refused_connections = refused_connections.load();
  out.dropped_rate_limited = dropped_rate_limited.load();
  out.peers_disconnected_for_abuse = peers_disconnected_for_abuse.load();
  out.wire_bytes_received = wire->bytes_read.load();
  out.wire_bytes_sent = wire->bytes_written.load();
  out.datagrams_received = wire->frames_read.load();
  out.datagrams_sent = wire->frames_written.load();
  return out;
}

void EventQueue::push(QueuedEvent item) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(item));
  }
  ready_.notify_one();
}

void EventQueue::push_connected(PeerId peer, std::shared_ptr<PeerLink> link) {
  push({Event{EventType::connected, peer, 0, DisconnectReason::timeout, {}}, std::move(link)});
}

void EventQueue::push_disconnected(PeerId peer, DisconnectReason reason) {
  push({Event{EventType::disconnected, peer, 0, reason, {}}, nullptr});
}

bool EventQueue::push_message(std::shared_ptr<PeerLink> link, PeerId peer, Channel channel,
                              Payload payload) {
  bool keep_reading = true;
  {
    std::lock_guard lock(mutex_);
    link->unpolled_bytes += payload.size();
    if (link->unpolled_bytes >= max_unpolled_bytes_) {
      link->reading_paused = true;
      keep_reading = false;
    }
    events_.push_back(
        {Event{EventType::message, peer, channel, DisconnectReason::timeout, std::move(payload)},
         std::move(link)});
  }
  ready_.notify_one();
  return keep_reading;
}

bool EventQueue::pop(QueuedEvent& out, std::chrono::steady_clock::time_point deadline) {
  std::shared_ptr<PeerLink> to_resume;
  {
    std::unique_lock lock(mutex_);
    if (events_.empty() &&
        !ready_.wait_until(lock, deadline, [&] { return !events_.empty() || woken_; })) {
      return false;
    }
    if (events_.empty()) {  // woken
      woken_ = false;
      return false;
    }
    out = std::move(events_.front());
    events_.pop_front();
    if (out.event.type == EventType::message) {
      PeerLink& link = *out.link;
      link.unpolled_bytes -= out.event.payload.size();
      // Resume at half the cap, not just below it, so a busy connection does not flip between
      // paused and reading on every message.
      if (link.reading_paused && link.unpolled_bytes <= max_unpolled_bytes_ / 2) {
        link.reading_paused = false;
        to_resume = out.link;
      }
    }
  }
  if (to_resume) to_resume->resume_reading();
  return true;
}

void EventQueue::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  ready_.notify_all();
}

void EventQueue::clear() {
  std::deque<QueuedEvent> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(events_);
  }
}

}  // namespace tickwire::net::websocket_detail
