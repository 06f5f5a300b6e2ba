// The handshake before ENet gives a connection attempt a slot (session/handshake.hpp draws it),
// both sides of it, and the tags ENet's checksum hook puts on every datagram of a session.

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "enet/enet_endpoint.hpp"
#include "enet/enet_internal.hpp"
#include "enet/tag_coverage.hpp"

namespace tickwire::net::enet_detail {
namespace {

// A client sends its HELLO or RESPONSE again this often until the server answers.
constexpr std::uint64_t kResendMs = 250;
// Pending handshakes are swept at most this often.
constexpr std::uint64_t kExpiryIntervalMs = 100;

DisconnectReason reason_for(session::DenyReason deny) {
  switch (deny) {
    case session::DenyReason::server_full:
      return DisconnectReason::server_full;
    case session::DenyReason::ticket_rejected:
      return DisconnectReason::ticket_rejected;
    case session::DenyReason::refused:
      break;
  }
  return DisconnectReason::refused;
}

std::array<std::uint8_t, 16> digest_of(std::span<const std::uint8_t> bytes) {
  std::array<std::uint8_t, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), bytes.data(), bytes.size(), nullptr, 0);
  return digest;
}

}  // namespace

// --- both sides -----------------------------------------------------------------------------

void EnetEndpoint::on_handshake(std::span<const std::uint8_t> datagram) {
  const std::optional<session::HandshakePacket> packet = session::decode_handshake(datagram);
  if (!packet) {
    ++counters_.dropped_malformed;
    return;
  }
  using session::HandshakeType;
  const bool server_bound =
      packet->type == HandshakeType::hello || packet->type == HandshakeType::response;
  if (server_bound != (role_ == Role::server)) {
    ++counters_.dropped_stale;  // a server's answer at a server, or a request at a client
    return;
  }
  switch (packet->type) {
    case HandshakeType::hello:
      return on_hello(*packet);
    case HandshakeType::response:
      return on_response(*packet);
    case HandshakeType::challenge:
      return on_challenge(*packet);
    case HandshakeType::accept:
      return on_accept(*packet);
    case HandshakeType::deny:
      return on_deny(*packet);
  }
}

void EnetEndpoint::send_raw(const ENetAddress& to, std::span<const std::uint8_t> datagram) {
  ENetBuffer buffer;
  buffer.data = const_cast<std::uint8_t*>(datagram.data());
  buffer.dataLength = datagram.size();
  if (enet_socket_send(host_->socket, &to, &buffer, 1) > 0) {
    ++counters_.datagrams_sent;
    counters_.wire_bytes_sent += datagram.size();
  }
}

Session* EnetEndpoint::session_of(const ENetPeer* peer) {
  if (role_ == Role::client) return client_session_.get();
  Session* bound = slots_[slot_of(peer)].session;
  if (bound != nullptr) return bound;
  // Datagrams between the CONNECT and ENet's connect event (the ACK of VERIFY_CONNECT).
  const auto found = sessions_.find(peer->connectID);
  if (found == sessions_.end()) return nullptr;
  Session& session = *found->second;
  if (session.host != peer->address.host || session.port != peer->address.port) return nullptr;
  return &session;
}

// --- the tags on every datagram (ENet's checksum hook) -------------------------------------

enet_uint32 EnetEndpoint::checksum_hook(const ENetBuffer* buffers, std::size_t buffer_count) {
  EnetEndpoint* self = servicing_endpoint();
  if (self == nullptr) return 0;
  if (buffers == self->host_->buffers) return self->tag_outgoing(buffers, buffer_count);
  // ENet checks a received datagram right after our intercept hook verified it.
  return self->verified_data_ == self->host_->receivedData ? self->verified_tag_ : 0;
}

enet_uint32 EnetEndpoint::tag_outgoing(const ENetBuffer* buffers, std::size_t buffer_count) {
  std::size_t size = 0;
  for (std::size_t i = 0; i < buffer_count; ++i)
    size += buffers[i].dataLength;
  // The header's last four bytes hold ENet's seed: the connection's connectID, or 0 on a CONNECT.
  std::uint32_t seed = 0;
  const auto* header = static_cast<const std::uint8_t*>(buffers[0].data);
  std::memcpy(&seed, header + buffers[0].dataLength - sizeof seed, sizeof seed);
  Session* session = nullptr;
  if (role_ == Role::client) {
    session = client_session_.get();
  } else if (const auto found = sessions_.find(seed); found != sessions_.end()) {
    session = found->second.get();
  }
  if (session == nullptr) return 0;
  ++session->datagrams_sent;
  session->wire_bytes_sent += size;
  if (!session->crypto) return 0;
  // ENet gives the header (with the tag field) in the first buffer, then each command in a buffer
  // of its own, followed by a buffer with its data if it carries any.
  const auto bytes_of = [](const ENetBuffer& buffer) {
    return std::span(static_cast<const std::uint8_t*>(buffer.data), buffer.dataLength);
  };
  TagCoverage coverage(scratch_);
  if (!coverage.add(bytes_of(buffers[0]))) return 0;
  for (std::size_t i = 1; i < buffer_count; ++i) {
    const std::span<const std::uint8_t> command = bytes_of(buffers[i]);
    if (command.empty() || !coverage.add(command)) return 0;
    const auto kind = static_cast<EnetCommand>(command[0] & 0x0F);
    if (carries_data(kind) && i + 1 < buffer_count &&
        !coverage.add_data(kind, bytes_of(buffers[++i]))) {
      return 0;
    }
  }
  return session::datagram_tag(session->crypto->send_tag_key, coverage.covered());
}

// --- server side ----------------------------------------------------------------------------

void EnetEndpoint::on_hello(const session::HandshakePacket& packet) {
  const ENetAddress& from = host_->receivedAddress;
  if (packet.protocol_id != config_.protocol_id) {
    // Smaller than the HELLO and sent once per HELLO: nothing to amplify.
    send_raw(from, session::encode_deny(session::DenyReason::refused));
    return;
  }
  // No state: the cookie carries all the server needs to recognise the answer.
  const session::Cookie cookie = cookies_->make(from.host, from.port, packet.protocol_id, now_ms());
  send_raw(from, session::encode_challenge(cookie));
  ++counters_.challenges_sent;
}

void EnetEndpoint::deny(session::DenyReason reason, TicketRefusal refusal) {
  send_raw(host_->receivedAddress, session::encode_deny(reason, refusal));
}

std::string EnetEndpoint::received_from() const {
  const ENetAddress& from = host_->receivedAddress;
  char ip[32] = {};
  if (enet_address_get_host_ip(&from, ip, sizeof ip) != 0) return "?";
  return std::string(ip) + ":" + std::to_string(from.port);
}

std::size_t EnetEndpoint::attempts_from(std::uint32_t host) const {
  std::size_t count = static_cast<std::size_t>(
      std::count_if(pending_joins_.begin(), pending_joins_.end(),
                    [host](const PendingJoin& join) { return join.host == host; }));
  for (std::size_t i = 0; i < host_->peerCount; ++i) {
    const ENetPeer& peer = host_->peers[i];
    if (peer.state != ENET_PEER_STATE_DISCONNECTED && peer.address.host == host) ++count;
  }
  return count;
}

void EnetEndpoint::on_response(const session::HandshakePacket& packet) {
  const ENetAddress& from = host_->receivedAddress;
  const std::uint64_t now = now_ms();
  if (!cookies_->check(packet.cookie, from.host, from.port, packet.protocol_id, now)) {
    // Not an answer to our challenge at this address: a spoofed or stale source. No reply.
    ++counters_.dropped_unauthenticated;
    return;
  }
  // The source is verified from here on; every answer is still smaller than the RESPONSE.
  const std::array<std::uint8_t, 16> digest = digest_of(packet.ticket);
  for (const PendingJoin& join : pending_joins_) {
    if (join.host == from.host && join.port == from.port && join.ticket_digest == digest) {
      send_raw(from, join.accept);  // our ACCEPT was lost: the same answer again
      return;
    }
  }
  if (!rate_limiter_->allow(from.host, now)) {
    ++counters_.dropped_rate_limited;
    return;
  }
  if (pending_handshakes() >= admission_->max_pending_handshakes ||
      attempts_from(from.host) >= admission_->max_peers_per_address ||
      connected_count_ + pending_handshakes() >= admission_->max_peers) {
    ++counters_.refused_connections;
    detail::log_limited(full_log_, now, LogLevel::warning, "enet", [&] {
      return "connection attempt from " + received_from() +
             " refused: server_full (server, pending-handshake or per-address cap reached)";
    });
    return deny(session::DenyReason::server_full);
  }
  PendingJoin join;
  join.host = from.host;
  join.port = from.port;
  join.ticket_digest = digest;
  join.expires_ms = now + ticket_deadline_ms_;
  if (ticket_verifier_) {
    // Checked and held, not used: anyone who copied the ticket off the wire can send this
    // RESPONSE, and the client may yet lose our ACCEPT and fall back to WebSocket with the same
    // ticket. It is used up when the connection is admitted (on_connect), which takes a CONNECT
    // tagged with the ticket's keys.
    const std::uint64_t unix_now = unix_time_ms();
    TicketCheck check = ticket_verifier_->check(std::as_bytes(packet.ticket), unix_now);
    if (check.ok) {
      join.ticket_hold = ticket_verifier_->hold(
          check.ticket, unix_now, ticket_requirement_->max_unproven_attempts_per_ticket);
      if (join.ticket_hold.outcome() == TicketHold::Outcome::busy) {
        // Unanswered: a DENY would end the attempt of a player whose ticket someone replays; this
        // way the player's client falls back to WebSocket, where its proof gets it in.
        ++counters_.dropped_ticket_held;
        return;
      }
      if (join.ticket_hold.outcome() == TicketHold::Outcome::used) {
        check.ok = false;
        check.error = TicketError::reused;
      }
    }
    if (!check.ok) {
      ++counters_.rejected_tickets;
      const TicketRefusal refusal = refusal_for(check.error);
      detail::log_limited(refusal_log_[static_cast<std::size_t>(refusal)], now, LogLevel::warning,
                          "tickets", [&] {
                            return "enet: ticket from " + received_from() +
                                   " refused: " + std::string(to_string(refusal));
                          });
      return deny(session::DenyReason::ticket_rejected, refusal);
    }
    join.ticket = check.ticket;
    join.keys = check.keys;
  }
  std::array<std::uint8_t, session::kAcceptTagBytes> tag{};
  std::optional<session::Cipher> cipher;
  if (join.keys) {
    join.cipher = session::choose_cipher(packet.offers_aes, offers_aes_);
    cipher = join.cipher;
    tag = session::accept_tag(session::DirectionKeys::derive(join.keys->server_to_client).tag,
                              packet.cookie, packet.offers_aes, join.cipher);
  }
  join.accept = session::encode_accept(cipher, tag);
  send_raw(from, join.accept);
  pending_joins_.push_back(std::move(join));
}

void EnetEndpoint::expire_handshakes() {
  const std::uint64_t now = now_ms();
  if (now - last_expiry_ms_ < kExpiryIntervalMs) return;
  last_expiry_ms_ = now;
  std::erase_if(pending_joins_, [now](const PendingJoin& join) { return join.expires_ms <= now; });
  // A session whose CONNECT never became a connection (ENet resets such peers silently).
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (!it->second->bound && it->second->expires_ms <= now) {
      ++counters_.rejected_tickets;
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

// --- client side ----------------------------------------------------------------------------

void EnetEndpoint::client_handshake_tick() {
  if (stage_ == ClientStage::done) return;
  const std::uint64_t now = now_ms();
  if (now >= connect_deadline_ms_ && stage_ != ClientStage::connecting) {
    // connect_failed, on which a gameplay client falls back to WebSocket: whether or not the
    // server read our ticket, it only holds it until a connection is admitted with it, and none
    // was (that takes our CONNECT), so the fallback can show the ticket again.
    return fail_client(DisconnectReason::connect_failed);
  }
  if (now < next_resend_ms_) return;
  next_resend_ms_ = now + kResendMs;
  if (stage_ == ClientStage::hello) {
    send_raw(credentials_.server, session::encode_hello(config_.protocol_id));
  } else if (stage_ == ClientStage::response) {
    send_raw(credentials_.server, session::encode_response(config_.protocol_id, cookie_,
                                                           offers_aes_, credentials_.ticket));
  }
}

void EnetEndpoint::fail_client(DisconnectReason reason, TicketRefusal refusal) {
  stage_ = ClientStage::done;
  client_state_ = ClientState::disconnected;
  deferred_.clear();
  ready_.push_back(Event{EventType::disconnected, server_id_, 0, reason, {}, refusal});
}

bool EnetEndpoint::from_server() const {
  const ENetAddress& from = host_->receivedAddress;
  return from.host == credentials_.server.host && from.port == credentials_.server.port;
}

void EnetEndpoint::on_challenge(const session::HandshakePacket& packet) {
  if (!from_server() || (stage_ != ClientStage::hello && stage_ != ClientStage::response)) {
    ++counters_.dropped_stale;
    return;
  }
  if (stage_ == ClientStage::hello) {
    // The server answers over UDP. connect_timeout_ms is how long UDP may go unanswered (the
    // gameplay client's fallback wait, often short); from here on the handshake is slow, not
    // blocked, and gets as long as a silent peer does (timeout_max_ms) before the fallback.
    connect_deadline_ms_ = std::max(connect_deadline_ms_, now_ms() + config_.timeout_max_ms);
  }
  cookie_ = packet.cookie;
  stage_ = ClientStage::response;
  next_resend_ms_ = 0;
  client_handshake_tick();
}

void EnetEndpoint::on_accept(const session::HandshakePacket& packet) {
  if (!from_server() || stage_ != ClientStage::response) {
    ++counters_.dropped_stale;
    return;
  }
  if (packet.encrypted != credentials_.keys.has_value()) {
    // An encrypted server and a client without keys, or a plaintext answer to a client that has
    // keys (which could be an attacker's downgrade): neither may go on.
    return fail_client(DisconnectReason::refused);
  }
  if (credentials_.keys) {
    // The tag covers the offer this client made and the server's pick: an ACCEPT whose pick this
    // client cannot use, or that answers an altered offer, does not match.
    const auto expected =
        session::accept_tag(session::DirectionKeys::derive(credentials_.keys->server_to_client).tag,
                            cookie_, offers_aes_, packet.cipher);
    if ((packet.cipher == session::Cipher::aes256_gcm && !offers_aes_) ||
        sodium_memcmp(expected.data(), packet.accept_tag.data(), expected.size()) != 0) {
      ++counters_.dropped_forged;
      return;
    }
  }
  client_session_ = std::make_unique<Session>();
  client_session_->host = credentials_.server.host;
  client_session_->port = credentials_.server.port;
  client_session_->crypto = make_session_crypto(credentials_.keys, false, packet.cipher);
  client_session_->bound = true;
  // ENet's connectID is the seed of every tag: make it unpredictable.
  randombytes_buf(&host_->randomSeed, sizeof host_->randomSeed);
  ENetPeer* peer = enet_host_connect(host_, &credentials_.server, config_.channel_count + 1,
                                     config_.protocol_id);
  if (peer == nullptr) return fail_client(DisconnectReason::connect_failed);
  const std::uint64_t now = now_ms();
  const auto remaining =
      static_cast<enet_uint32>(connect_deadline_ms_ > now ? connect_deadline_ms_ - now : 1);
  // Until the server welcomes us, what is left of the connect timeout stands in for the peer's.
  enet_peer_timeout(peer, 0, remaining, remaining);
  client_session_->connect_id = peer->connectID;
  slots_[slot_of(peer)].session = client_session_.get();
  stage_ = ClientStage::connecting;
}

void EnetEndpoint::on_deny(const session::HandshakePacket& packet) {
  // Unauthenticated, so taken only from the server's address while an answer is awaited.
  if (!from_server() || (stage_ != ClientStage::hello && stage_ != ClientStage::response)) {
    ++counters_.dropped_stale;
    return;
  }
  fail_client(reason_for(packet.deny), packet.refusal);
}

}  // namespace tickwire::net::enet_detail
