// What an ENet endpoint lets in: the datagram filter behind ENet's intercept hook, connection
// admission (rate limits, pending handshakes), punishment of abusive peers, and join tickets.

#include <algorithm>

#include "enet/enet_endpoint.hpp"
#include "enet/reassembly_limit.hpp"

namespace tickwire::net::enet_detail {

int EnetEndpoint::filter_datagram() {
  ++counters_.datagrams_received;
  const std::span<const std::uint8_t> datagram(host_->receivedData, host_->receivedDataLength);
  ENetPeer* peer = peer_from_datagram(datagram_peer_id(datagram));
  InspectLimits limits = inspect_limits_;
  // A known peer's fragments must be cut exactly for the MTU it settled on.
  if (peer != nullptr) limits.fragment_payload = enet_fragment_payload(peer->mtu);
  const DatagramInfo info = inspect_datagram(datagram, limits);
  // Every datagram a peer has dropped for what it is counts toward one budget.
  const auto strike = [this](ENetPeer* offender) {
    if (offender != nullptr &&
        ++slots_[slot_of(offender)].malformed == config_.max_malformed_per_peer + 1) {
      abusers_.emplace_back(offender, DisconnectReason::protocol_error);
    }
  };

  switch (info.verdict) {
    case DatagramVerdict::malformed:
      ++counters_.dropped_malformed;
      strike(peer);
      return 1;
    case DatagramVerdict::oversize:
      ++counters_.dropped_oversize;
      if (peer != nullptr) abusers_.emplace_back(peer, DisconnectReason::message_too_large);
      return 1;
    case DatagramVerdict::ok:
      break;
  }
  if (info.has_connect) return admit_connect_attempt() ? 0 : 1;
  if (peer == nullptr) {
    ++counters_.dropped_stale;
    return 1;
  }
  PeerSlot& slot = slots_[slot_of(peer)];
  // Until a server has admitted a peer (ENet may report it connected in the middle of a datagram,
  // before on_connect ran), the peer may send only its ticket.
  if (role_ == Role::server && !slot.connected &&
      !allowed_before_admission(datagram, kControlChannel, kMaxTicketMessage)) {
    ++counters_.dropped_before_admission;
    strike(peer);
    return 1;
  }
  if (starts_messages_over_limit(*peer, datagram, config_.max_incomplete_messages_per_peer)) {
    ++counters_.dropped_reassembly_limit;
    strike(peer);
    return 1;
  }
  ++slot.counts.datagrams_received;
  slot.counts.wire_bytes_received += datagram.size();
  return 0;
}

bool EnetEndpoint::admit_connect_attempt() {
  if (!admission_) {
    ++counters_.dropped_stale;  // clients accept no connections
    return false;
  }
  const auto now_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - epoch_)
                                     .count());
  if (!rate_limiter_->allow(host_->receivedAddress.host, now_ms) ||
      pending_handshakes() >= admission_->max_pending_handshakes) {
    ++counters_.dropped_rate_limited;
    return false;
  }
  return true;
}

std::size_t EnetEndpoint::pending_handshakes() const {
  return static_cast<std::size_t>(
      std::count_if(host_->peers, host_->peers + host_->peerCount, [](const ENetPeer& peer) {
        return peer.state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT ||
               peer.state == ENET_PEER_STATE_CONNECTION_PENDING ||
               peer.state == ENET_PEER_STATE_CONNECTION_SUCCEEDED;
      }));
}

void EnetEndpoint::punish_pending_abusers() {
  for (const auto& [peer, reason] : abusers_) {
    PeerSlot& slot = slots_[slot_of(peer)];
    if (slot.closing) continue;
    if (slot.connected) ++counters_.peers_disconnected_for_abuse;
    slot.closing = true;
    slot.local_reason = reason;
    enet_peer_disconnect(peer, reason_to_wire(reason));
  }
  abusers_.clear();
}

bool EnetEndpoint::on_ticket(ENetPeer* peer, std::span<const std::byte> ticket, Event& out) {
  PeerSlot& slot = slots_[slot_of(peer)];
  slot.awaiting_ticket = false;
  --awaiting_tickets_;
  const TicketCheck check = ticket_verifier_->verify(ticket, unix_time_ms());
  if (!check.ok) {
    ++counters_.rejected_tickets;
    refuse(peer, DisconnectReason::ticket_rejected);
    return false;
  }
  slot.ticket = check.ticket;
  return admit(peer, out);
}

void EnetEndpoint::expire_ticket_deadlines() {
  if (awaiting_tickets_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    PeerSlot& slot = slots_[i];
    // A peer already being disconnected (for abuse) is not refused a second time.
    if (!slot.awaiting_ticket || slot.closing || now < slot.ticket_deadline) continue;
    slot.awaiting_ticket = false;
    --awaiting_tickets_;
    ++counters_.rejected_tickets;
    refuse(&host_->peers[i], DisconnectReason::ticket_rejected);
  }
}

std::optional<JoinTicket> EnetEndpoint::ticket_of(PeerId id) const {
  const ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return std::nullopt;
  return slots_[slot_of(peer)].ticket;
}

void EnetEndpoint::refuse(ENetPeer* peer, DisconnectReason reason) {
  ++counters_.refused_connections;
  PeerSlot& slot = slots_[slot_of(peer)];
  slot.closing = true;
  slot.local_reason = reason;
  enet_peer_disconnect(peer, reason_to_wire(reason));
}

}  // namespace tickwire::net::enet_detail
