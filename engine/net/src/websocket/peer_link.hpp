#pragma once
// One WebSocket connection as the caller's thread sees it. The socket lives on the io thread; the
// caller only posts work to it (send, close, resume reading) and reads its gauges. Beast-free, so
// the caller-side code (WebSocketEndpoint, EventQueue) compiles no Asio template.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tickwire/net/types.hpp"
#include "websocket/wire_counts.hpp"

namespace tickwire::net::websocket_detail {

// One binary WebSocket message as it goes on the wire: the channel byte, then the message.
// Shared so that a broadcast queues one copy for every peer.
using Frame = std::vector<std::byte>;
using SharedFrame = std::shared_ptr<const Frame>;
// Frames keep the channel byte even with WebSocketFraming::raw, where it only picks the frame
// type and is not written: these channels.
inline constexpr std::size_t kChannelPrefixBytes = 1;
inline constexpr Channel kRawBinaryChannel = 0;
inline constexpr Channel kRawTextChannel = 1;

inline SharedFrame make_frame(Channel channel, std::span<const std::byte> message) {
  auto frame = std::make_shared<Frame>(kChannelPrefixBytes + message.size());
  (*frame)[0] = static_cast<std::byte>(channel);
  std::copy(message.begin(), message.end(), frame->begin() + kChannelPrefixBytes);
  return frame;
}

// Message payload bytes of a frame (what send() was given).
inline std::size_t message_size(const Frame& frame) {
  return frame.size() - kChannelPrefixBytes;
}

class PeerLink {
 public:
  virtual ~PeerLink() = default;
  PeerLink() = default;
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // Each posts to the connection's strand and returns at once; callable from any thread.
  // The caller has already counted the frame in messages_queued/bytes_queued.
  virtual void send_frame(SharedFrame frame) = 0;
  // Closes after the frames already sent, with a close frame that carries `reason`.
  virtual void close(DisconnectReason reason) = 0;
  // Closes with an explicit close code (1003, 1007, 1008...), after the frames already sent when
  // `after_writes`, else at once (for a peer that does not read, whose writes never finish).
  virtual void close_with_code(DisconnectReason reason, std::uint16_t code, bool after_writes) = 0;
  // Reading stopped at max_unpolled_bytes_per_peer; poll() has made room again.
  virtual void resume_reading() = 0;
  // Lifts the limit on a peer's messages before its admission to max_message_size, before any
  // frame sent after this call.
  virtual void admit_full_size_messages() = 0;

  // The peer's IP address on a server (what admission counts it as), empty on a client. Set
  // before the link is shared, read-only after.
  std::string remote_address;

  // Gauges: written on either thread, read on the caller's.
  std::atomic<bool> open{true};  // false once the connection has ended on the io thread
  std::atomic<std::uint32_t> messages_queued{0};
  std::atomic<std::uint64_t> bytes_queued{0};  // message bytes, the channel byte not counted
  std::atomic<double> rtt_ms{0};
  std::atomic<double> rtt_variance_ms{0};
  // What the connection moved on its socket (set before the link is shared).
  std::shared_ptr<const WireCounts> wire;

  // Guarded by the EventQueue's mutex: received message bytes not yet handed out by poll(), and
  // whether the connection stopped reading because of them.
  std::size_t unpolled_bytes = 0;
  bool reading_paused = false;
};

}  // namespace tickwire::net::websocket_detail
