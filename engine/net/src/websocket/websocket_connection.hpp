#pragma once
// One open WebSocket connection on the io thread, after the handshake, the same for server and
// client: a read loop that checks every frame, a write queue, RTT pings, and the close handshake.
// Everything runs on the connection's strand (the stream's executor); the caller's thread reaches
// it only through PeerLink, which posts there.

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tickwire/net/websocket_transport.hpp"
#include "websocket/close_codes.hpp"
#include "websocket/coalescing_stream.hpp"
#include "websocket/event_queue.hpp"
#include "websocket/peer_link.hpp"

namespace tickwire::net::websocket_detail {

namespace beast = boost::beast;
namespace asio = boost::asio;

// permessage-deflate stays off (see the public header), so its support is not even compiled.
// Beneath it, CoalescingStream gathers the frames written in one turn of the io thread into one
// socket write.
using WebSocketStream = beast::websocket::stream<CoalescingStream, /*deflateSupported=*/false>;

// The connection's timing, kept by the WebSocket layer: handshake timeout, then idle pings and the
// idle timeout. Call before the opening handshake.
void apply_websocket_timeouts(WebSocketStream& ws, const WebSocketCommonConfig& config);

class WebSocketConnection final : public PeerLink,
                                  public std::enable_shared_from_this<WebSocketConnection> {
 public:
  // Runs once, on the strand, after the `disconnected` event was queued.
  using FinishedHook = std::function<void()>;

  // `ws` has finished its opening handshake. `max_message_size_before_admission` > 0: the peer's
  // messages may be at most that large until admit_full_size_messages().
  WebSocketConnection(WebSocketStream&& ws, PeerId peer, const WebSocketCommonConfig& config,
                      std::shared_ptr<EventQueue> events, FinishedHook on_finished,
                      std::size_t max_message_size_before_admission = 0);

  // On the strand: queues `connected`, then starts reading and pinging.
  void start();

  void send_frame(SharedFrame frame) override;
  // send_frame() for a caller already on the connection's executor (a broadcast hand-off).
  // `may_wait`: the frame may wait for the stream's flush round, to share a write with others.
  void queue_frame(SharedFrame frame, bool may_wait = false);
  void close(DisconnectReason reason) override;
  void close_with_code(DisconnectReason reason, std::uint16_t code, bool after_writes) override;
  void resume_reading() override;
  void admit_full_size_messages() override;

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void deliver_raw();
  void reject_frame(std::uint16_t code);

  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void pop_front();
  void release(const Frame& frame);

  // Closes with `frame`, after the queued writes when `after_writes`, else at once.
  void begin_close(DisconnectReason reason, CloseFrame frame, bool after_writes);
  void start_close(CloseFrame frame);

  void schedule_ping();
  void on_ping_timer(beast::error_code ec);
  void on_control_frame(beast::websocket::frame_type kind, beast::string_view payload);

  void finish(beast::error_code ec);
  DisconnectReason reason_from_error(beast::error_code ec);
  // A line in the log for a connection closed for abuse (rate-limited: a peer can cause it).
  void log_abuse(DisconnectReason reason);

  WebSocketStream ws_;
  // The stream's strand, copied so that other threads can post to it without touching ws_.
  const asio::any_io_executor strand_;
  const PeerId peer_;
  const std::size_t channel_count_;
  const bool raw_framing_;  // WebSocketFraming::raw
  const std::chrono::milliseconds ping_interval_;
  const std::size_t read_message_max_;  // once admitted, the channel byte included
  std::shared_ptr<EventQueue> events_;
  FinishedHook on_finished_;

  std::shared_ptr<WireCounts> socket_counts_;  // the stream's, which also go to the transport's

  // The message being read; handed over with it (see do_read() for how it is sized).
  static constexpr std::size_t kFirstReadBytes = 128;
  beast::flat_buffer inbound_;
  // A FIFO: outbox_[outbox_head_] is being written while writing_. A vector and not a deque,
  // whose empty self already costs ~600 bytes, on every idle connection; freed when drained.
  static constexpr std::size_t kOutboxKeptCapacity = 16;
  struct Outgoing {
    SharedFrame frame;
    bool may_wait = false;
  };
  std::vector<Outgoing> outbox_;
  std::size_t outbox_head_ = 0;
  bool writing_ = false;
  std::optional<CloseFrame> close_after_writes_;
  bool closing_ = false;  // async_close started: no more reads, writes or pings
  bool finished_ = false;
  std::optional<DisconnectReason> local_reason_;  // why we closed, if we did

  asio::steady_timer ping_timer_;
  bool ping_writing_ = false;
  bool awaiting_pong_ = false;  // for ping number ping_sequence_
  std::uint64_t ping_sequence_ = 0;
  std::chrono::steady_clock::time_point ping_sent_at_;
  bool rtt_measured_ = false;
};

}  // namespace tickwire::net::websocket_detail
