// The client half of WebSocket gameplay sessions (websocket_session.hpp): after the upgrade it
// answers the server's challenge with its ticket and a proof made with its keys, and reports
// `connected` only once the server has proved, by sealing the challenge back, that it opened the
// ticket. From then on messages are sealed and opened with the session keys.

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "session/stream_handshake.hpp"
#include "websocket/websocket_sealing.hpp"
#include "websocket/websocket_session.hpp"

namespace tickwire::net::websocket_detail {
namespace {

namespace stream = session::stream;
using Clock = std::chrono::steady_clock;

class SessionClient final : public ClientTransport {
 public:
  SessionClient(std::unique_ptr<ClientTransport> transport, const WebSocketClientConfig& config)
      : transport_(std::move(transport)),
        ticket_(config.join_ticket),
        handshake_timeout_(config.common.handshake_timeout_ms),
        channel_count_(config.common.channel_count),
        max_message_size_(config.common.max_message_size) {
    if (config.session_keys) sealed_.emplace(SealedSession::for_client(*config.session_keys));
  }

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      const auto now = Clock::now();
      if (in_handshake() && now >= handshake_deadline_) {
        give_up(DisconnectReason::connect_failed);  // the server never answered as one of ours
      }
      // Rounded up: a wait cut to 0 ms would spin instead of sleeping in the transport below.
      auto slice = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      if (slice.count() < 0) slice = std::chrono::milliseconds(0);
      if (in_handshake()) slice = std::min(slice, kDeadlineSlice);
      if (!transport_->poll(event, slice)) {
        if (Clock::now() >= deadline) return false;
        continue;
      }
      if (take(event)) return true;
    }
  }

  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    if (stage_ != Stage::admitted || peer != transport_->server()) return SendResult::unknown_peer;
    if (channel >= channel_count_) return SendResult::invalid_channel;
    if (message.size() > max_message_size_) return SendResult::too_large;
    SendResult result = SendResult::failed;
    try {
      const auto wire = sealed_ ? sealed_->seal(message, channel, scratch_) : message;
      result = transport_->send(peer, channel, delivery, wire);
    } catch (const std::bad_alloc&) {
      return SendResult::failed;
    }
    if (result == SendResult::ok) {
      ++counts_.messages_sent;
      counts_.bytes_sent += message.size();
    }
    return result;
  }
  using ClientTransport::send;
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    if (stage_ != Stage::admitted) return SendResult::ok;  // nobody to send to
    return send(transport_->server(), channel, delivery, message);
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    if (stage_ != Stage::admitted || peer != transport_->server()) return;
    give_up(reason);
  }
  void flush() override { transport_->flush(); }

  std::optional<ConnectionStats> stats(PeerId peer) const override {
    if (stage_ != Stage::admitted || peer != transport_->server()) return std::nullopt;
    auto stats = transport_->stats(peer);
    if (!stats) return std::nullopt;
    stats->messages_sent = counts_.messages_sent;
    stats->bytes_sent = counts_.bytes_sent;
    stats->messages_received = counts_.messages_received;
    stats->bytes_received = counts_.bytes_received;
    return stats;
  }
  TransportCounters counters() const override {
    TransportCounters sum = transport_->counters();
    sum.dropped_malformed += own_.dropped_malformed;
    sum.dropped_forged += own_.dropped_forged;
    sum.dropped_replayed += own_.dropped_replayed;
    sum.dropped_oversize += own_.dropped_oversize;
    return sum;
  }
  std::size_t connected_peers() const override { return stage_ == Stage::admitted ? 1 : 0; }

  ClientState state() const override { return state_; }
  PeerId server() const override {
    return state_ == ClientState::connected ? transport_->server() : kInvalidPeer;
  }

 private:
  enum class Stage : std::uint8_t {
    upgrading,
    awaiting_challenge,
    awaiting_accept,
    admitted,
    over
  };

  bool in_handshake() const {
    return stage_ == Stage::awaiting_challenge || stage_ == Stage::awaiting_accept;
  }

  bool take(Event& event) {
    switch (event.type) {
      case EventType::connected:
        stage_ = Stage::awaiting_challenge;
        handshake_deadline_ = Clock::now() + handshake_timeout_;
        return false;
      case EventType::disconnected:
        if (local_reason_) event.reason = *local_reason_;
        if (event.reason == DisconnectReason::ticket_rejected) event.ticket_refusal = refusal_;
        stage_ = Stage::over;
        state_ = ClientState::disconnected;
        return true;
      case EventType::message:
        break;
    }
    if (in_handshake()) {
      // The server's REFUSAL says why the close that follows refuses our ticket.
      if (const auto refusal = stream::decode_refusal(octets_of(event.payload))) {
        refusal_ = *refusal;
        return false;
      }
    }
    switch (stage_) {
      case Stage::awaiting_challenge:
        on_challenge(octets_of(event.payload));
        return false;
      case Stage::awaiting_accept:
        if (!on_accept(octets_of(event.payload))) return false;
        event.type = EventType::connected;
        event.channel = 0;
        event.payload.reset();
        return true;
      case Stage::admitted:
        return open_message(event);
      case Stage::upgrading:
      case Stage::over:
        return false;
    }
    return false;
  }

  void on_challenge(std::span<const std::uint8_t> message) {
    const auto challenge = stream::decode_challenge(message);
    if (!challenge) {
      ++own_.dropped_malformed;
      return give_up(DisconnectReason::protocol_error);
    }
    challenge_ = *challenge;
    std::optional<stream::Proof> proof;
    if (sealed_) proof = stream::seal_challenge(sealed_->sealer, challenge_);
    const auto hello = stream::encode_hello(ticket_, proof);
    transport_->send(transport_->server(), stream::kHandshakeChannel, Delivery::reliable_ordered,
                     std::as_bytes(std::span(hello)));
    stage_ = Stage::awaiting_accept;
  }

  bool on_accept(std::span<const std::uint8_t> message) {
    const auto accept = stream::decode_accept(message);
    if (!accept) {
      ++own_.dropped_malformed;
      give_up(DisconnectReason::protocol_error);
      return false;
    }
    if (accept->sealed_challenge.has_value() != sealed_.has_value()) {
      // An encrypted server and a client without keys, or a plaintext answer to a client that has
      // keys (which could be an attacker's downgrade): neither may go on.
      give_up(DisconnectReason::refused);
      return false;
    }
    if (sealed_ &&
        !stream::opens_to_challenge(sealed_->opener, *accept->sealed_challenge, challenge_)) {
      // Not the server the lobby sealed our ticket for, or the answer was altered on the way.
      ++own_.dropped_forged;
      give_up(DisconnectReason::refused);
      return false;
    }
    stage_ = Stage::admitted;
    state_ = ClientState::connected;
    return true;
  }

  bool open_message(Event& event) {
    if (sealed_) {
      switch (sealed_->open(event)) {
        case session::OpenResult::ok:
          break;
        case session::OpenResult::malformed:
          ++own_.dropped_malformed;
          give_up(DisconnectReason::protocol_error);
          return false;
        case session::OpenResult::forged:
          ++own_.dropped_forged;
          give_up(DisconnectReason::protocol_error);
          return false;
        case session::OpenResult::replayed:
          ++own_.dropped_replayed;
          give_up(DisconnectReason::protocol_error);
          return false;
      }
    }
    if (event.payload.size() > max_message_size_) {
      ++own_.dropped_oversize;
      give_up(DisconnectReason::message_too_large);
      return false;
    }
    ++counts_.messages_received;
    counts_.bytes_received += event.payload.size();
    return true;
  }

  // Ends the connection; its `disconnected` event, with `reason`, follows from poll().
  void give_up(DisconnectReason reason) {
    if (stage_ == Stage::over || local_reason_) return;
    local_reason_ = reason;
    stage_ = Stage::over;
    transport_->disconnect(transport_->server(), reason);
  }

  std::unique_ptr<ClientTransport> transport_;
  std::vector<std::byte> ticket_;
  std::chrono::milliseconds handshake_timeout_;
  std::size_t channel_count_;
  std::size_t max_message_size_;
  std::optional<SealedSession> sealed_;  // absent without session keys (plaintext servers)
  Stage stage_ = Stage::upgrading;
  ClientState state_ = ClientState::connecting;
  Clock::time_point handshake_deadline_;
  stream::Challenge challenge_{};
  std::optional<DisconnectReason> local_reason_;
  TicketRefusal refusal_ = TicketRefusal::none;  // from the server's REFUSAL, if it sent one
  ConnectionStats counts_;
  TransportCounters own_;
  std::vector<std::uint8_t> scratch_;
};

}  // namespace

bool wants_sessions(const WebSocketClientConfig& config) {
  return !config.join_ticket.empty();
}

WebSocketClientConfig transport_config_for_sessions(const WebSocketClientConfig& config) {
  WebSocketClientConfig transport = config;
  WebSocketCommonConfig& common = transport.common;
  common.max_message_size =
      std::max(config.common.max_message_size + session::kSealOverhead, stream::kMaxHelloBytes);
  common.max_queued_bytes_per_peer =
      std::max(config.common.max_queued_bytes_per_peer, common.max_message_size);
  transport.join_ticket.clear();
  transport.session_keys.reset();
  return transport;
}

std::unique_ptr<ClientTransport> make_session_client(std::unique_ptr<ClientTransport> transport,
                                                     const WebSocketClientConfig& config) {
  return std::make_unique<SessionClient>(std::move(transport), config);
}

}  // namespace tickwire::net::websocket_detail
