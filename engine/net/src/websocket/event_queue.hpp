#pragma once
// What crosses from the io thread to the caller's thread: events, in order, and the transport's
// counters. Also the receive-side backpressure: a connection whose messages pile up unpolled is
// told to stop reading, and poll() tells it to go on once the game has caught up.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

#include "log/log_limiter.hpp"
#include "tickwire/net/event.hpp"
#include "tickwire/net/stats.hpp"
#include "websocket/peer_link.hpp"

namespace tickwire::net::websocket_detail {

// TransportCounters that the io thread increments while the caller's thread reads them.
struct SharedCounters {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> dropped_malformed{0};
  std::atomic<std::uint64_t> dropped_oversize{0};
  std::atomic<std::uint64_t> refused_connections{0};
  std::atomic<std::uint64_t> dropped_rate_limited{0};
  std::atomic<std::uint64_t> peers_disconnected_for_abuse{0};
  // Every connection's socket bytes and message frames, summed.
  const std::shared_ptr<WireCounts> wire = std::make_shared<WireCounts>();

  TransportCounters snapshot() const;
};

struct QueuedEvent {
  Event event;
  // connected: the new connection; message: the connection whose unpolled bytes it holds.
  std::shared_ptr<PeerLink> link;
};

class EventQueue {
 public:
  explicit EventQueue(std::size_t max_unpolled_bytes_per_peer)
      : max_unpolled_bytes_(max_unpolled_bytes_per_peer) {}
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // --- io thread ---
  void push_connected(PeerId peer, std::shared_ptr<PeerLink> link);
  // Returns false when the connection should stop reading: it has max_unpolled_bytes_per_peer
  // waiting. resume_reading() is called on it once poll() has taken half of that.
  [[nodiscard]] bool push_message(std::shared_ptr<PeerLink> link, PeerId peer, Channel channel,
                                  Payload payload);
  void push_disconnected(PeerId peer, DisconnectReason reason);

  // --- caller's thread ---
  // Takes the next event, waiting until `deadline` for one if none is ready, or until wake().
  bool pop(QueuedEvent& out, std::chrono::steady_clock::time_point deadline);
  // --- any thread ---
  // Ends the wait of a pop() (now or the next one) early, with no event: the caller has other
  // work queued for its thread (the lobby: broadcasts from its state's subscriber thread).
  void wake();
  // Drops every event (and with them the connections they hold). After the io thread has stopped.
  void clear();

  SharedCounters counters;
  // --- io thread only (one per transport, so no lock) ---
  // Log lines a peer can trigger, held to a few a second each.
  detail::LogLimiter abuse_log;    // connections closed for abuse
  detail::LogLimiter refusal_log;  // connections turned away (caps, full server)

 private:
  void push(QueuedEvent item);

  const std::size_t max_unpolled_bytes_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<QueuedEvent> events_;
  bool woken_ = false;
};

}  // namespace tickwire::net::websocket_detail
