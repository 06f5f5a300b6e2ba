// The server half of WebSocket gameplay sessions (websocket_session.hpp): a connection is held
// back from the game until it has shown a valid ticket and proved it holds the ticket's keys;
// from then on its messages are opened, and ours sealed, with them.

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "log/log_limiter.hpp"
#include "session/stream_handshake.hpp"
#include "ticket_gate.hpp"
#include "websocket/websocket_sealing.hpp"
#include "websocket/websocket_session.hpp"

namespace tickwire::net::websocket_detail {
namespace {

namespace stream = session::stream;
using Clock = std::chrono::steady_clock;

std::span<const std::byte> bytes_of(const std::vector<std::uint8_t>& bytes) {
  return std::as_bytes(std::span(bytes));
}

class SessionServer final : public ServerTransport, public detail::TicketGate {
 public:
  SessionServer(std::unique_ptr<WebSocketServerTransport> transport,
                const WebSocketServerConfig& config)
      : transport_(std::move(transport)),
        requirement_(config.require_ticket),
        encrypted_(config.security == SessionSecurity::encrypted),
        channel_count_(config.common.channel_count),
        max_message_size_(config.common.max_message_size) {
    // wants_sessions() made sure there is a requirement.
    std::optional<GameServerSealKeys> seal;
    if (encrypted_) seal = requirement_->seal_keys;
    verifier_.emplace(requirement_->lobby_key, requirement_->server_address, seal);
  }

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      const auto now = Clock::now();
      expire_handshakes(now);
      // Rounded up: a wait cut to 0 ms would spin instead of sleeping in the transport below.
      auto slice = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      if (slice.count() < 0) slice = std::chrono::milliseconds(0);
      if (waiting_ > 0) slice = std::min(slice, kDeadlineSlice);
      if (!transport_->poll(event, slice)) {
        if (Clock::now() >= deadline) return false;
        continue;
      }
      if (take(event)) return true;
    }
  }

  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    const auto found = peers_.find(peer);
    if (found == peers_.end() || !found->second.admitted || found->second.closing) {
      return SendResult::unknown_peer;
    }
    return send_to(peer, found->second, channel, delivery, message);
  }

  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    if (channel >= channel_count_) return SendResult::invalid_channel;
    if (message.size() > max_message_size_) return SendResult::too_large;
    // Each peer has its own keys: one seal each. A peer whose queue is full misses this one, as
    // with the plain transport's broadcast.
    SendResult result = SendResult::ok;
    for (auto& [id, peer] : peers_) {
      if (!peer.admitted || peer.closing) continue;
      if (send_to(id, peer, channel, delivery, message) == SendResult::failed) {
        result = SendResult::failed;
      }
    }
    return result;
  }

  void disconnect(PeerId peer, DisconnectReason reason) override {
    const auto found = peers_.find(peer);
    if (found == peers_.end() || !found->second.admitted || found->second.closing) return;
    found->second.closing = true;
    transport_->disconnect(peer, reason);
  }
  void flush() override { transport_->flush(); }

  std::optional<ConnectionStats> stats(PeerId peer) const override {
    const auto found = peers_.find(peer);
    if (found == peers_.end() || !found->second.admitted) return std::nullopt;
    auto stats = transport_->stats(peer);
    if (!stats) return std::nullopt;
    // What the game sent and received, not the seals and the handshake.
    stats->messages_sent = found->second.counts.messages_sent;
    stats->bytes_sent = found->second.counts.bytes_sent;
    stats->messages_received = found->second.counts.messages_received;
    stats->bytes_received = found->second.counts.bytes_received;
    return stats;
  }

  TransportCounters counters() const override {
    TransportCounters sum = transport_->counters();
    // Admitted players, as on ENet; the upgrades below include those turned away.
    sum.connections_accepted = own_.connections_accepted;
    sum.rejected_tickets += own_.rejected_tickets;
    sum.refused_connections += own_.refused_connections;
    sum.dropped_malformed += own_.dropped_malformed;
    sum.dropped_oversize += own_.dropped_oversize;
    sum.dropped_forged += own_.dropped_forged;
    sum.dropped_replayed += own_.dropped_replayed;
    sum.dropped_before_admission += own_.dropped_before_admission;
    sum.peers_disconnected_for_abuse += own_.peers_disconnected_for_abuse;
    return sum;
  }
  std::size_t connected_peers() const override { return admitted_; }
  std::uint16_t port() const override { return transport_->port(); }
  std::optional<JoinTicket> ticket_of(PeerId peer) const override {
    const auto found = peers_.find(peer);
    if (found == peers_.end() || !found->second.admitted) return std::nullopt;
    return found->second.ticket;
  }

  const std::optional<TicketRequirement>& ticket_requirement() const override {
    return requirement_;
  }
  JoinTicketVerifier* ticket_verifier() override { return verifier_ ? &*verifier_ : nullptr; }

 private:
  struct Peer {
    bool admitted = false;  // reported `connected` to the game
    bool closing = false;   // disconnected by us; its `disconnected` event is on the way
    Clock::time_point deadline;
    stream::Challenge challenge{};
    std::optional<JoinTicket> ticket;
    std::optional<SealedSession> sealed;  // absent in plaintext sessions
    ConnectionStats counts;
  };

  // Handles one event of the transport below; true if it is now one for the game.
  bool take(Event& event) {
    switch (event.type) {
      case EventType::connected:
        on_connected(event.peer);
        return false;
      case EventType::disconnected: {
        const auto found = peers_.find(event.peer);
        if (found == peers_.end()) return false;
        const bool admitted = found->second.admitted;
        if (admitted) {
          --admitted_;
        } else if (!found->second.closing) {
          --waiting_;
        }
        peers_.erase(found);
        return admitted;  // the game never heard of a peer that was not admitted
      }
      case EventType::message:
        break;
    }
    const auto found = peers_.find(event.peer);
    if (found == peers_.end()) return false;
    Peer& peer = found->second;
    if (peer.closing) {
      ++own_.dropped_before_admission;  // after its rejection, or after the game let go of it
      return false;
    }
    if (!peer.admitted) {
      if (!on_hello(event.peer, peer, octets_of(event.payload))) return false;
      event.type = EventType::connected;
      event.channel = 0;
      event.payload.reset();
      return true;
    }
    return open_message(event, peer);
  }

  void on_connected(PeerId id) {
    Peer peer;
    peer.deadline = Clock::now() + std::chrono::milliseconds(requirement_->deadline_ms);
    randombytes_buf(peer.challenge.data(), peer.challenge.size());
    const auto challenge = stream::encode_challenge(peer.challenge);
    ++waiting_;
    peers_.insert_or_assign(id, std::move(peer));
    transport_->send(id, stream::kHandshakeChannel, Delivery::reliable_ordered,
                     bytes_of(challenge));
  }

  // Checks a connection's first message, its HELLO; admits it or turns it away.
  bool on_hello(PeerId id, Peer& peer, std::span<const std::uint8_t> message) {
    const auto hello = stream::decode_hello(message);
    if (!hello) {
      ++own_.dropped_malformed;
      return refuse_ticket(id, peer, TicketRefusal::malformed);
    }
    if (encrypted_ && !hello->proof) {
      // A client without session keys cannot talk to an encrypted server.
      ++own_.refused_connections;
      return reject(id, peer, DisconnectReason::refused);
    }
    const std::uint64_t now = unix_time_ms();
    const TicketCheck check = verifier_->check(std::as_bytes(hello->ticket), now);
    if (!check.ok) return refuse_ticket(id, peer, refusal_for(check.error));
    if (encrypted_) {
      peer.sealed.emplace(SealedSession::for_server(*check.keys));
      // The proof before the ticket is used up: a ticket copied off the wire, without its keys,
      // must not burn the player's ticket.
      if (!stream::opens_to_challenge(peer.sealed->opener, *hello->proof, peer.challenge)) {
        ++own_.dropped_forged;
        return refuse_ticket(id, peer, TicketRefusal::bad_proof);
      }
    }
    if (!verifier_->use(check.ticket, now)) return refuse_ticket(id, peer, TicketRefusal::reused);
    peer.ticket = check.ticket;
    std::optional<stream::Proof> sealed_challenge;
    if (peer.sealed) sealed_challenge = stream::seal_challenge(peer.sealed->sealer, peer.challenge);
    const auto accept = stream::encode_accept(sealed_challenge);
    // Before the answer, after which the client sends game messages up to max_message_size.
    transport_->admit_full_size_messages(id);
    transport_->send(id, stream::kHandshakeChannel, Delivery::reliable_ordered, bytes_of(accept));
    peer.admitted = true;
    --waiting_;
    ++admitted_;
    ++own_.connections_accepted;
    return true;
  }

  // Tells the client why its ticket was refused (a REFUSAL before the close), and the log.
  bool refuse_ticket(PeerId id, Peer& peer, TicketRefusal refusal) {
    detail::log_limited(refusal_log_[static_cast<std::size_t>(refusal)], detail::steady_now_ms(),
                        LogLevel::warning, "tickets", [&] {
                          return "websocket: ticket from peer " + std::to_string(id) +
                                 " refused: " + std::string(to_string(refusal));
                        });
    const auto message = stream::encode_refusal(refusal);
    transport_->send(id, stream::kHandshakeChannel, Delivery::reliable_ordered, bytes_of(message));
    return reject(id, peer, DisconnectReason::ticket_rejected);
  }

  bool reject(PeerId id, Peer& peer, DisconnectReason reason) {
    if (reason == DisconnectReason::ticket_rejected) ++own_.rejected_tickets;
    peer.closing = true;
    peer.sealed.reset();
    --waiting_;
    transport_->disconnect(id, reason);
    return false;
  }

  bool open_message(Event& event, Peer& peer) {
    if (peer.sealed) {
      switch (peer.sealed->open(event)) {
        case session::OpenResult::ok:
          break;
        case session::OpenResult::malformed:
          ++own_.dropped_malformed;
          return punish(event.peer, peer, DisconnectReason::protocol_error);
        case session::OpenResult::forged:
          ++own_.dropped_forged;
          return punish(event.peer, peer, DisconnectReason::protocol_error);
        case session::OpenResult::replayed:
          ++own_.dropped_replayed;
          return punish(event.peer, peer, DisconnectReason::protocol_error);
      }
    }
    if (event.payload.size() > max_message_size_) {
      // Possible in a plaintext session only, where the transport below admits a HELLO's size.
      ++own_.dropped_oversize;
      return punish(event.peer, peer, DisconnectReason::message_too_large);
    }
    ++peer.counts.messages_received;
    peer.counts.bytes_received += event.payload.size();
    return true;
  }

  bool punish(PeerId id, Peer& peer, DisconnectReason reason) {
    ++own_.peers_disconnected_for_abuse;
    detail::log_limited(abuse_log_, detail::steady_now_ms(), LogLevel::warning, "websocket", [&] {
      return "peer " + std::to_string(id) +
             " disconnected for abuse: " + std::string(to_string(reason));
    });
    peer.closing = true;
    transport_->disconnect(id, reason);
    return false;
  }

  SendResult send_to(PeerId id, Peer& peer, Channel channel, Delivery delivery,
                     std::span<const std::byte> message) {
    if (channel >= channel_count_) return SendResult::invalid_channel;
    if (message.size() > max_message_size_) return SendResult::too_large;
    SendResult result = SendResult::failed;
    try {
      const auto wire = peer.sealed ? peer.sealed->seal(message, channel, scratch_) : message;
      result = transport_->send(id, channel, delivery, wire);
    } catch (const std::bad_alloc&) {
      return SendResult::failed;
    }
    if (result == SendResult::ok) {
      ++peer.counts.messages_sent;
      peer.counts.bytes_sent += message.size();
    }
    return result;
  }

  void expire_handshakes(Clock::time_point now) {
    if (waiting_ == 0) return;
    for (auto& [id, peer] : peers_) {
      if (!peer.admitted && !peer.closing && peer.deadline <= now) {
        refuse_ticket(id, peer, TicketRefusal::missing);
      }
    }
  }

  std::unique_ptr<WebSocketServerTransport> transport_;
  std::optional<TicketRequirement> requirement_;
  std::optional<JoinTicketVerifier> verifier_;
  bool encrypted_;
  std::size_t channel_count_;
  std::size_t max_message_size_;
  std::unordered_map<PeerId, Peer> peers_;
  std::size_t waiting_ = 0;   // connections that have not shown their ticket yet
  std::size_t admitted_ = 0;  // connections the game knows
  TransportCounters own_;
  std::vector<std::uint8_t> scratch_;
  // Log lines a peer can trigger, held to a few a second each.
  std::array<detail::LogLimiter, static_cast<std::size_t>(kLastTicketRefusal) + 1> refusal_log_;
  detail::LogLimiter abuse_log_;
};

}  // namespace

bool wants_sessions(const WebSocketServerConfig& config) {
  // validate() refuses encryption without a ticket requirement.
  return config.require_ticket.has_value();
}

WebSocketServerConfig transport_config_for_sessions(const WebSocketServerConfig& config) {
  WebSocketServerConfig transport = config;
  WebSocketCommonConfig& common = transport.common;
  common.max_message_size =
      std::max(config.common.max_message_size + session::kSealOverhead, stream::kMaxHelloBytes);
  common.max_queued_bytes_per_peer =
      std::max(config.common.max_queued_bytes_per_peer, common.max_message_size);
  // The plain transport below validates its own config: it has no sessions of its own.
  transport.require_ticket.reset();
  transport.security = SessionSecurity::plaintext_for_development;
  return transport;
}

std::unique_ptr<ServerTransport> make_session_server(
    std::unique_ptr<WebSocketServerTransport> transport, const WebSocketServerConfig& config) {
  return std::make_unique<SessionServer>(std::move(transport), config);
}

}  // namespace tickwire::net::websocket_detail
