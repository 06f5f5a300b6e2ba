#include "websocket/websocket_connection.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/error.hpp>
#include <cmath>
#include <string>
#include <utility>

namespace tickwire::net::websocket_detail {
namespace {

namespace websocket = beast::websocket;

// A received message's payload owns the buffer Beast read it into: no copy on the way to the game.
void delete_read_buffer(void* buffer) {
  delete static_cast<beast::flat_buffer*>(buffer);
}

bool is_websocket_protocol_error(beast::error_code ec) {
  return ec.category() == make_error_code(websocket::error::closed).category();
}

}  // namespace

void apply_websocket_timeouts(WebSocketStream& ws, const WebSocketCommonConfig& config) {
  // The socket beneath has no deadline of its own: from here on the WebSocket layer keeps time.
  websocket::stream_base::timeout timeout;
  timeout.handshake_timeout = std::chrono::milliseconds(config.handshake_timeout_ms);
  timeout.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  timeout.keep_alive_pings = true;
  ws.set_option(timeout);
}

WebSocketConnection::WebSocketConnection(WebSocketStream&& ws, PeerId peer,
                                         const WebSocketCommonConfig& config,
                                         std::shared_ptr<EventQueue> events,
                                         FinishedHook on_finished,
                                         std::size_t max_message_size_before_admission)
    : ws_(std::move(ws)),
      strand_(ws_.get_executor()),
      peer_(peer),
      channel_count_(config.channel_count),
      raw_framing_(config.framing == WebSocketFraming::raw),
      ping_interval_(config.ping_interval_ms),
      read_message_max_(config.max_message_size +
                        (config.framing == WebSocketFraming::raw ? 0 : kChannelPrefixBytes)),
      events_(std::move(events)),
      on_finished_(std::move(on_finished)),
      ping_timer_(strand_) {
  // With the default framing the channel byte rides on top of the largest message. Before its
  // admission a peer gets less: Beast refuses a larger frame by its header, before buffering it.
  std::size_t read_max = read_message_max_;
  if (max_message_size_before_admission > 0) {
    read_max = std::min(
        read_max, max_message_size_before_admission + (raw_framing_ ? 0 : kChannelPrefixBytes));
  }
  ws_.read_message_max(read_max);
  ws_.binary(true);
  // One frame per message, so that datagrams_sent counts frames and messages alike.
  ws_.auto_fragment(false);
  ws_.next_layer().set_linger(config.handshake_timeout_ms);
  ws_.next_layer().count_wire_into(events_->counters.wire);
  socket_counts_ = ws_.next_layer().wire_counts();
  wire = socket_counts_;
}

void WebSocketConnection::start() {
  // The stream lives inside this object and calls back only from a read that keeps it alive.
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
    on_control_frame(kind, payload);
  });
  events_->push_connected(peer_, shared_from_this());
  do_read();
  schedule_ping();
}

// --- read path ------------------------------------------------------------------------------

void WebSocketConnection::do_read() {
  // Beast sizes the buffer before it waits for the message: by default 1536 bytes, which every
  // idle connection (most of them, most of the time) would hold while waiting. The first read of
  // a message takes at most kFirstReadBytes; once Beast has the frame header, the rest of a longer
  // message is read into a buffer grown to the length the header gives. Beast checks the message
  // size limit on the frame header either way.
  const std::size_t limit = inbound_.size() == 0 ? kFirstReadBytes : 0;  // 0: as Beast sees fit
  ws_.async_read_some(inbound_, limit,
                      beast::bind_front_handler(&WebSocketConnection::on_read, shared_from_this()));
}

void WebSocketConnection::on_read(beast::error_code ec, std::size_t /*bytes*/) {
  if (finished_) return;
  if (ec) return finish(ec);
  // While our close is under way Beast reads on its own until the peer's close arrives; whatever
  // came before it is for a peer we already let go of.
  if (closing_) return;
  if (!ws_.is_message_done()) return do_read();
  socket_counts_->add_frame_read();
  if (raw_framing_) return deliver_raw();
  if (!ws_.got_binary()) return reject_frame(close_code::unsupported_data);
  if (inbound_.size() < kChannelPrefixBytes) return reject_frame(close_code::protocol_error);
  const auto* data = static_cast<const std::byte*>(inbound_.cdata().data());
  const auto channel = static_cast<Channel>(data[0]);
  if (channel >= channel_count_) return reject_frame(close_code::protocol_error);

  auto* owner = new beast::flat_buffer(std::move(inbound_));
  inbound_ = beast::flat_buffer();
  Payload payload(static_cast<const std::byte*>(owner->cdata().data()) + kChannelPrefixBytes,
                  owner->size() - kChannelPrefixBytes, &delete_read_buffer, owner);
  // When the game has not polled max_unpolled_bytes_per_peer yet, stop reading: TCP then slows
  // the peer down. The event queue calls resume_reading() once poll() has caught up.
  if (events_->push_message(shared_from_this(), peer_, channel, std::move(payload))) do_read();
}

void WebSocketConnection::deliver_raw() {
  // Beast has already checked a text message's UTF-8 (closing with 1007 if it was not).
  const Channel channel = ws_.got_text() ? kRawTextChannel : kRawBinaryChannel;
  auto* owner = new beast::flat_buffer(std::move(inbound_));
  inbound_ = beast::flat_buffer();
  Payload payload(static_cast<const std::byte*>(owner->cdata().data()), owner->size(),
                  &delete_read_buffer, owner);
  if (events_->push_message(shared_from_this(), peer_, channel, std::move(payload))) do_read();
}

void WebSocketConnection::log_abuse(DisconnectReason reason) {
  detail::log_limited(events_->abuse_log, detail::steady_now_ms(), LogLevel::warning, "websocket",
                      [&] {
                        return "peer " + std::to_string(peer_) +
                               " disconnected for abuse: " + std::string(to_string(reason));
                      });
}

void WebSocketConnection::reject_frame(std::uint16_t code) {
  ++events_->counters.dropped_malformed;
  ++events_->counters.peers_disconnected_for_abuse;
  log_abuse(DisconnectReason::protocol_error);
  begin_close(DisconnectReason::protocol_error, {code, to_string(DisconnectReason::protocol_error)},
              /*after_writes=*/false);
}

void WebSocketConnection::resume_reading() {
  asio::post(strand_, [self = shared_from_this()] {
    if (!self->finished_ && !self->closing_) self->do_read();
  });
}

void WebSocketConnection::admit_full_size_messages() {
  // On the strand before any frame posted after this call, so before the admission's answer: a
  // client sends its game messages only after that answer.
  asio::post(strand_,
             [self = shared_from_this()] { self->ws_.read_message_max(self->read_message_max_); });
}

// --- write path -----------------------------------------------------------------------------

void WebSocketConnection::send_frame(SharedFrame frame) {
  asio::post(strand_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
    self->queue_frame(std::move(frame));
  });
}

void WebSocketConnection::queue_frame(SharedFrame frame, bool may_wait) {
  if (finished_ || closing_ || close_after_writes_) {
    release(*frame);
    return;
  }
  outbox_.push_back({std::move(frame), may_wait});
  if (!writing_) do_write();
}

void WebSocketConnection::do_write() {
  writing_ = true;
  const Outgoing& next = outbox_[outbox_head_];
  const Frame& frame = *next.frame;
  ws_.next_layer().set_may_wait(next.may_wait);
  // Raw framing keeps the channel byte in the frame only to pick the frame type.
  const std::size_t skip = raw_framing_ ? kChannelPrefixBytes : 0;
  if (raw_framing_) ws_.text(static_cast<Channel>(frame[0]) == kRawTextChannel);
  ws_.async_write(asio::buffer(frame.data() + skip, frame.size() - skip),
                  beast::bind_front_handler(&WebSocketConnection::on_write, shared_from_this()));
}

void WebSocketConnection::on_write(beast::error_code ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (!ec) socket_counts_->add_frame_written();
  ws_.next_layer().set_may_wait(false);  // Beast's own frames (pongs, close) go at once
  if (finished_) return;                 // finish() released the whole outbox
  release(*outbox_[outbox_head_].frame);
  pop_front();
  if (ec) return finish(ec);
  if (closing_) return;
  if (outbox_head_ < outbox_.size()) return do_write();
  if (close_after_writes_) start_close(*close_after_writes_);
}

void WebSocketConnection::pop_front() {
  outbox_[outbox_head_++].frame.reset();
  if (outbox_head_ < outbox_.size()) return;
  outbox_head_ = 0;
  // Drained: a busy connection keeps a little room, an idle one nothing much.
  if (outbox_.capacity() > kOutboxKeptCapacity) {
    std::vector<Outgoing>().swap(outbox_);
  } else {
    outbox_.clear();
  }
}

void WebSocketConnection::release(const Frame& frame) {
  --messages_queued;
  bytes_queued -= message_size(frame);
}

// --- closing --------------------------------------------------------------------------------

void WebSocketConnection::close(DisconnectReason reason) {
  asio::post(strand_, [self = shared_from_this(), reason] {
    self->begin_close(reason, close_frame_for(reason), /*after_writes=*/true);
  });
}

void WebSocketConnection::close_with_code(DisconnectReason reason, std::uint16_t code,
                                          bool after_writes) {
  asio::post(strand_, [self = shared_from_this(), reason, code, after_writes] {
    // The reason text still names the DisconnectReason, so Tickwire peers recover it exactly.
    self->begin_close(reason, {code, to_string(reason)}, after_writes);
  });
}

void WebSocketConnection::begin_close(DisconnectReason reason, CloseFrame frame,
                                      bool after_writes) {
  if (finished_ || closing_) return;
  if (!local_reason_) local_reason_ = reason;
  if (after_writes && writing_) {
    if (!close_after_writes_) close_after_writes_ = frame;
    return;
  }
  start_close(frame);
}

void WebSocketConnection::start_close(CloseFrame frame) {
  closing_ = true;
  close_after_writes_.reset();
  // Frames not yet handed to Beast will never be; the one being written finishes first (Beast
  // queues the close behind it) and is released by on_write().
  while (outbox_.size() > outbox_head_ + (writing_ ? 1u : 0u)) {
    release(*outbox_.back().frame);
    outbox_.pop_back();
  }
  ping_timer_.cancel();
  websocket::close_reason reason;
  reason.code = frame.code;
  reason.reason.assign(frame.reason.data(), frame.reason.size());
  ws_.async_close(reason, [self = shared_from_this()](beast::error_code ec) { self->finish(ec); });
}

void WebSocketConnection::finish(beast::error_code ec) {
  if (finished_) return;
  finished_ = true;
  open = false;
  const DisconnectReason reason = local_reason_ ? *local_reason_ : reason_from_error(ec);
  ping_timer_.cancel();
  for (std::size_t i = outbox_head_; i < outbox_.size(); ++i)
    release(*outbox_[i].frame);
  std::vector<Outgoing>().swap(outbox_);
  outbox_head_ = 0;
  // Beast has torn the connection down after a close handshake; after an error it may not have.
  // Closing the socket ends any operation still pending, so this object goes soon.
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
  events_->push_disconnected(peer_, reason);
  if (on_finished_) std::exchange(on_finished_, nullptr)();
}

DisconnectReason WebSocketConnection::reason_from_error(beast::error_code ec) {
  // The peer's close frame says why, even when the TCP teardown after it failed (a client's
  // shutdown() fails once the server has already closed, and Beast reports that error instead).
  const websocket::close_reason& frame = ws_.reason();
  if (ec == websocket::error::closed || frame.code != websocket::close_code::none) {
    return reason_from_close(frame.code, {frame.reason.data(), frame.reason.size()});
  }
  if (ec == websocket::error::message_too_big) {
    // Beast has already sent close 1009 and dropped the rest of the message unread.
    ++events_->counters.dropped_oversize;
    ++events_->counters.peers_disconnected_for_abuse;
    log_abuse(DisconnectReason::message_too_large);
    return DisconnectReason::message_too_large;
  }
  if (is_websocket_protocol_error(ec)) {
    // Bad framing (unmasked, reserved bits, bad opcode...): Beast has sent close 1002.
    ++events_->counters.dropped_malformed;
    ++events_->counters.peers_disconnected_for_abuse;
    log_abuse(DisconnectReason::protocol_error);
    return DisconnectReason::protocol_error;
  }
  // The idle timeout, or the connection dropped without a close frame: no reason crossed the
  // wire, which is what `timeout` stands for.
  return DisconnectReason::timeout;
}

// --- round-trip time ------------------------------------------------------------------------

void WebSocketConnection::schedule_ping() {
  ping_timer_.expires_after(ping_interval_);
  ping_timer_.async_wait(
      beast::bind_front_handler(&WebSocketConnection::on_ping_timer, shared_from_this()));
}

void WebSocketConnection::on_ping_timer(beast::error_code ec) {
  if (ec || finished_ || closing_) return;
  // Beast allows one ping write at a time; a ping stuck behind a large write just waits.
  if (!ping_writing_) {
    ping_writing_ = true;
    awaiting_pong_ = true;
    ++ping_sequence_;
    ping_sent_at_ = std::chrono::steady_clock::now();
    const std::string sequence = std::to_string(ping_sequence_);
    websocket::ping_data payload;
    payload.assign(sequence.data(), sequence.size());
    ws_.async_ping(payload,
                   [self = shared_from_this()](beast::error_code) { self->ping_writing_ = false; });
  }
  schedule_ping();
}

void WebSocketConnection::on_control_frame(websocket::frame_type kind, beast::string_view payload) {
  // Pongs to Beast's idle pings, and late pongs to our earlier pings, carry another payload.
  if (kind != websocket::frame_type::pong || !awaiting_pong_ ||
      payload != std::to_string(ping_sequence_)) {
    return;
  }
  awaiting_pong_ = false;
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - ping_sent_at_;
  const double sample = elapsed.count();
  // Smoothed like TCP's SRTT/RTTVAR (RFC 6298).
  if (!rtt_measured_) {
    rtt_measured_ = true;
    rtt_ms = sample;
    rtt_variance_ms = sample / 2;
    return;
  }
  const double rtt = rtt_ms.load();
  rtt_variance_ms = 0.75 * rtt_variance_ms.load() + 0.25 * std::abs(sample - rtt);
  rtt_ms = 0.875 * rtt + 0.125 * sample;
}

}  // namespace tickwire::net::websocket_detail
