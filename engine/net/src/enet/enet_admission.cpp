// What an ENet endpoint lets in: the datagram filter behind ENet's intercept hook (handshake
// datagrams, tags and replays, the inspector's verdict), the ENet CONNECT that follows a verified
// handshake, and punishment of abusive peers.

#include <algorithm>
#include <cstring>

#include "enet/datagram_inspector.hpp"
#include "enet/enet_endpoint.hpp"
#include "enet/enet_internal.hpp"
#include "enet/reassembly_limit.hpp"
#include "enet/tag_coverage.hpp"

namespace tickwire::net::enet_detail {
namespace {

// Where a CONNECT command keeps ENet's connectID, from the command's start (enet/protocol.h).
constexpr std::size_t kConnectIdOffset = 40;
constexpr std::size_t kTagBytes = 4;

}  // namespace

int EnetEndpoint::filter_datagram() {
  ++counters_.datagrams_received;
  counters_.wire_bytes_received += host_->receivedDataLength;
  const std::span<std::uint8_t> datagram(host_->receivedData, host_->receivedDataLength);
  verified_data_ = nullptr;
  if (session::is_handshake(datagram)) {
    on_handshake(datagram);
    return 1;
  }
  if (datagram.size() < 2 + kTagBytes) {
    ++counters_.dropped_malformed;
    return 1;
  }
  const std::uint16_t peer_id = datagram_peer_id(datagram);
  const std::size_t tag_offset = datagram_checksum_offset(datagram);
  ENetPeer* peer = nullptr;
  Session* authenticated = nullptr;
  if (peer_id != kUnassignedPeerId) {
    peer = peer_from_datagram(peer_id);
    if (peer == nullptr) {
      ++counters_.dropped_stale;
      return 1;
    }
    // The tag first: what fails it is nobody's doing we can name, so it is dropped without
    // counting against the peer whose address it carries.
    Session* session = session_of(peer);
    if (session == nullptr) {
      ++counters_.dropped_unauthenticated;
      return 1;
    }
    if (!authenticate_datagram(*session, datagram, tag_offset, peer->connectID)) return 1;
    authenticated = session;
  }

  InspectLimits limits = inspect_limits_;
  // A known peer's fragments must be cut exactly for the MTU it settled on.
  if (peer != nullptr) limits.fragment_payload = enet_fragment_payload(peer->mtu, true);
  const DatagramInfo info = inspect_datagram(datagram, limits);
  switch (info.verdict) {
    case DatagramVerdict::malformed:
      ++counters_.dropped_malformed;
      count_against(peer);
      return 1;
    case DatagramVerdict::oversize:
      ++counters_.dropped_oversize;
      if (peer != nullptr) abusers_.emplace_back(peer, DisconnectReason::message_too_large);
      return 1;
    case DatagramVerdict::ok:
      break;
  }
  if (info.has_connect) return admit_connect(datagram, tag_offset) ? 0 : 1;
  if (peer == nullptr) {
    ++counters_.dropped_stale;
    return 1;
  }
  if (info.has_disconnect && !disconnect_is_authentic(peer, info.disconnect_data)) {
    ++counters_.dropped_forged_disconnects;
    return 1;
  }
  PeerSlot& slot = slots_[slot_of(peer)];
  // A peer with a session but not yet admitted (ENet may report it connected in the middle of a
  // datagram, before on_connect ran) may send only ENet's housekeeping.
  if (role_ == Role::server && !slot.connected &&
      !allowed_before_admission(datagram, limits.has_checksum)) {
    ++counters_.dropped_before_admission;
    count_against(peer);
    return 1;
  }
  if (starts_messages_over_limit(*peer, datagram, limits.has_checksum,
                                 config_.max_incomplete_messages_per_peer)) {
    ++counters_.dropped_reassembly_limit;
    count_against(peer);
    return 1;
  }
  if (authenticated != nullptr && !open_sealed_packets(*authenticated, datagram)) return 1;
  ++slot.counts.datagrams_received;
  slot.counts.wire_bytes_received += datagram.size();
  return 0;
}

bool EnetEndpoint::authenticate_datagram(Session& session, std::span<std::uint8_t> datagram,
                                         std::size_t tag_offset, std::uint32_t seed) {
  if (!session.crypto) return true;  // a plaintext session: the tag is ENet's seed, unchecked
  if (datagram.size() < tag_offset + kTagBytes) {
    ++counters_.dropped_malformed;
    return false;
  }
  // ENet computes the checksum with its field holding the connection's seed; so does the sender.
  std::uint8_t* field = datagram.data() + tag_offset;
  std::uint32_t carried = 0;
  std::memcpy(&carried, field, kTagBytes);
  std::memcpy(field, &seed, kTagBytes);
  const std::span<const std::uint8_t> covered = covered_by_tag(datagram, scratch_);
  std::memcpy(field, &carried, kTagBytes);
  // A datagram that does not walk as ENet commands cannot be what the sender tagged.
  if (covered.empty() ||
      session::datagram_tag(session.crypto->receive_tag_key, covered) != carried) {
    ++counters_.dropped_forged;
    return false;
  }
  // Replays go before any other check, so that one never counts against the peer it copies.
  if (session.crypto->recent_tags.seen(carried)) {
    ++counters_.dropped_replayed;
    return false;
  }
  verified_tag_ = carried;
  return true;
}

bool EnetEndpoint::open_sealed_packets(Session& session, std::span<std::uint8_t> datagram) {
  if (!session.crypto) return true;
  // The tag left the ciphertext of whole sealed packets to their AEAD: checked (and decrypted in
  // place, for ENet to copy) before ENet reads the datagram, so an altered one is dropped here and
  // resent, rather than acknowledged and lost. Last of the checks, so that a datagram dropped for
  // what it is costs no AEAD.
  CommandWalker walker(datagram, true);
  WireCommand command;
  while (walker.next(command)) {
    if (!carries_whole_packet(command.command)) continue;
    const auto sealed = datagram.subspan(command.offset + command.header_size, command.data_length);
    if (!session.crypto->opener.decrypt_in_place(sealed, command.channel,
                                                 command.command == EnetCommand::send_reliable)) {
      ++counters_.dropped_forged;
      return false;
    }
  }
  // Remembered only now: a copy with altered ciphertext carries the same tag as the real
  // datagram, and must not make the real one look like a replay.
  session.crypto->recent_tags.insert(verified_tag_);
  verified_data_ = host_->receivedData;
  return true;
}

bool EnetEndpoint::admit_connect(std::span<std::uint8_t> datagram, std::size_t tag_offset) {
  if (!admission_) {
    ++counters_.dropped_stale;  // clients accept no connections
    return false;
  }
  // The inspector let through a lone CONNECT after the header and tag.
  const std::size_t command_at = tag_offset + kTagBytes;
  std::uint32_t connect_id = 0;
  std::memcpy(&connect_id, datagram.data() + command_at + kConnectIdOffset, sizeof connect_id);
  const ENetAddress& from = host_->receivedAddress;

  // ENet sends its CONNECT again until the server's answer arrives: the session exists then.
  if (const auto found = sessions_.find(connect_id); found != sessions_.end()) {
    Session& session = *found->second;
    if (session.host != from.host || session.port != from.port) {
      ++counters_.dropped_unauthenticated;  // another address reusing a live connectID
      return false;
    }
    return authenticate_datagram(session, datagram, tag_offset, 0) &&
           open_sealed_packets(session, datagram);
  }
  const auto pending = std::find_if(
      pending_joins_.begin(), pending_joins_.end(),
      [&](const PendingJoin& join) { return join.host == from.host && join.port == from.port; });
  if (pending == pending_joins_.end()) {
    // No verified handshake from this address: ENet never sees it, so it gets no slot.
    ++counters_.dropped_unauthenticated;
    return false;
  }
  auto session = std::make_unique<Session>();
  session->connect_id = connect_id;
  session->host = from.host;
  session->port = from.port;
  session->ticket = pending->ticket;
  session->crypto = make_session_crypto(pending->keys, true, pending->cipher);
  // From here ENet runs the rest of the handshake (VERIFY_CONNECT and its acknowledgement), with
  // its own resends: on a lossy link with a long round trip that can take longer than the
  // ticket's deadline, which only bounds how long the key holder may take to send this CONNECT.
  // The session waits as long as ENet itself would for the peer (timeout_max_ms).
  session->expires_ms = std::max(pending->expires_ms, now_ms() + config_.timeout_max_ms);
  if (!authenticate_datagram(*session, datagram, tag_offset, 0) ||
      !open_sealed_packets(*session, datagram)) {
    return false;
  }
  session->ticket_hold = std::move(pending->ticket_hold);
  sessions_.emplace(connect_id, std::move(session));
  pending_joins_.erase(pending);
  return true;
}

std::size_t EnetEndpoint::pending_handshakes() const {
  const auto unbound = std::count_if(sessions_.begin(), sessions_.end(),
                                     [](const auto& entry) { return !entry.second->bound; });
  return pending_joins_.size() + static_cast<std::size_t>(unbound);
}

void EnetEndpoint::count_against(ENetPeer* peer) {
  if (peer != nullptr && ++slots_[slot_of(peer)].malformed == config_.max_malformed_per_peer + 1) {
    abusers_.emplace_back(peer, DisconnectReason::protocol_error);
  }
}

void EnetEndpoint::punish_pending_abusers() {
  for (const auto& abuser : abusers_) {
    // Named copies, not structured bindings: a lambda below uses them, which clang 14 refuses.
    ENetPeer* const peer = abuser.first;
    const DisconnectReason reason = abuser.second;
    PeerSlot& slot = slots_[slot_of(peer)];
    if (slot.closing) continue;
    if (slot.connected) {
      ++counters_.peers_disconnected_for_abuse;
      detail::log_limited(abuse_log_, now_ms(), LogLevel::warning, "enet", [&] {
        char ip[32] = {};
        enet_address_get_host_ip(&peer->address, ip, sizeof ip);
        return "peer " + std::to_string(id_of(slot_of(peer))) + " (" + ip + ":" +
               std::to_string(peer->address.port) +
               ") disconnected for abuse: " + std::string(to_string(reason));
      });
    }
    slot.closing = true;
    slot.local_reason = reason;
    enet_peer_disconnect(peer, disconnect_data_for(peer, reason));
  }
  abusers_.clear();
}

std::optional<JoinTicket> EnetEndpoint::ticket_of(PeerId id) const {
  const ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return std::nullopt;
  const Session* session = slots_[slot_of(peer)].session;
  return session != nullptr ? session->ticket : std::nullopt;
}

std::uint32_t EnetEndpoint::disconnect_data_for(ENetPeer* peer, DisconnectReason reason) {
  const Session* session = session_of(peer);
  if (session == nullptr || !session->crypto) return reason_to_wire(reason);
  return session::disconnect_data(session->crypto->send_tag_key, peer->connectID,
                                  static_cast<std::uint8_t>(reason_to_wire(reason)));
}

bool EnetEndpoint::disconnect_is_authentic(ENetPeer* peer, std::uint32_t data) {
  const Session* session = session_of(peer);
  if (session == nullptr || !session->crypto) return true;
  return data == session::disconnect_data(session->crypto->receive_tag_key, peer->connectID,
                                          static_cast<std::uint8_t>(data & 0xFF));
}

void EnetEndpoint::refuse(ENetPeer* peer, DisconnectReason reason) {
  ++counters_.refused_connections;
  PeerSlot& slot = slots_[slot_of(peer)];
  slot.closing = true;
  slot.local_reason = reason;
  enet_peer_disconnect(peer, disconnect_data_for(peer, reason));
}

}  // namespace tickwire::net::enet_detail
