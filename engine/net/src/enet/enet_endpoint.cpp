#include "enet/enet_endpoint.hpp"

#include "enet/enet_internal.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <utility>

namespace tickwire::net::enet_detail {
namespace {

// Slot index in the low 12 bits of a PeerId (ENet has at most 4095 peers), generation above.
constexpr unsigned kSlotBits = 12;
constexpr std::uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr std::uint32_t kMaxGeneration = (1u << (32 - kSlotBits)) - 1;

thread_local EnetEndpoint* t_servicing = nullptr;

std::mutex g_library_mutex;
int g_library_users = 0;

}  // namespace

EnetEndpoint* servicing_endpoint() {
  return t_servicing;
}

ServicingScope::ServicingScope(EnetEndpoint* endpoint) : previous_(t_servicing) {
  t_servicing = endpoint;
}

ServicingScope::~ServicingScope() {
  t_servicing = previous_;
}

std::uint32_t packet_flags(Delivery delivery) {
  switch (delivery) {
    case Delivery::reliable_ordered:
      return ENET_PACKET_FLAG_RELIABLE;
    case Delivery::unreliable_sequenced:
      // Without this flag ENet silently sends a large unreliable message as reliable fragments.
      return ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
    case Delivery::unreliable:
      return ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
  }
  return ENET_PACKET_FLAG_RELIABLE;
}

void acquire_enet_library() {
  std::lock_guard lock(g_library_mutex);
  if (g_library_users++ == 0) enet_initialize();
}

void release_enet_library() {
  std::lock_guard lock(g_library_mutex);
  if (--g_library_users == 0) enet_deinitialize();
}

std::uint32_t reason_to_wire(DisconnectReason reason) {
  return static_cast<std::uint32_t>(reason);
}

DisconnectReason reason_from_wire(std::uint32_t data) {
  // The low 8 bits; an encrypted session's tag sits above them.
  const std::uint32_t reason = data & 0xFF;
  if (reason > static_cast<std::uint32_t>(DisconnectReason::ticket_rejected)) {
    return DisconnectReason::closed;
  }
  return static_cast<DisconnectReason>(reason);
}

EnetEndpoint::EnetEndpoint(ENetHost* host, const EnetCommonConfig& config, Role role,
                           std::optional<AdmissionPolicy> admission)
    : host_(host), config_(config), role_(role), admission_(admission), slots_(host->peerCount) {
  const bool server_encrypts = admission_ && admission_->security == SessionSecurity::encrypted;
  // A client encrypts when it has keys; begin_connect says so before anything is sent.
  encrypted_ = server_encrypts;
  offers_aes_ = config.use_aes_gcm && session::aes256_gcm_available();
  // Room for the seal around the largest message, whatever the session turns out to be.
  const std::size_t largest_packet = config.max_message_size + session::kSealOverhead;
  inspect_limits_ = InspectLimits{largest_packet, config.channel_count + 1, true};
  host_->intercept = &EnetEndpoint::intercept_hook;
  host_->checksum = &EnetEndpoint::checksum_hook;
  host_->maximumPacketSize = largest_packet;
  host_->maximumWaitingData = config.max_waiting_data;
  // A batch fills one datagram at most. ENet fragments a packet larger than what one fragment
  // carries (the MTU less its header, our tag and a fragment command), even where a send command
  // would leave room for it, so that is the limit, less the seal.
  batch_limit_ = enet_fragment_payload(config.mtu, true) - session::kSealOverhead;
  retransmit_bound_ = {config.resends_without_backoff, config.max_retransmit_timeout_ms};
  for (PeerSlot& slot : slots_)
    slot.batches.resize(config.channel_count + 1);
  if (admission_) {
    if (admission_->tickets) {
      std::optional<GameServerSealKeys> seal;
      if (server_encrypts) seal = admission_->tickets->seal_keys;
      ticket_verifier_.emplace(admission_->tickets->lobby_key, admission_->tickets->server_address,
                               seal);
      ticket_deadline_ms_ = admission_->tickets->deadline_ms;
      ticket_requirement_ = admission_->tickets;
    }
    cookies_.emplace(admission_->cookie_lifetime_ms);
    // Enough addresses to remember every client of a busy server. Only addresses that answered a
    // challenge reach it, so spoofed sources cannot fill it.
    constexpr std::size_t kTrackedAddresses = 4096;
    rate_limiter_.emplace(admission_->connect_burst_per_address,
                          admission_->connect_rate_per_address, kTrackedAddresses);
  }
}

EnetEndpoint::~EnetEndpoint() {
  const ServicingScope scope(this);
  const auto reason = role_ == Role::server ? DisconnectReason::shutdown : DisconnectReason::closed;
  for (std::size_t i = 0; i < host_->peerCount; ++i) {
    ENetPeer& peer = host_->peers[i];
    if (peer.state != ENET_PEER_STATE_DISCONNECTED && peer.state != ENET_PEER_STATE_ZOMBIE) {
      enet_peer_disconnect_now(&peer, disconnect_data_for(&peer, reason));
    }
  }
  // Messages still held by the game keep their ENet packets alive; they are released on their own.
  ready_.clear();
  deferred_.clear();
  enet_host_destroy(host_);
  release_enet_library();
}

std::uint64_t EnetEndpoint::now_ms() const {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - epoch_)
                                        .count());
}

PeerId EnetEndpoint::id_of(std::size_t slot_index) const {
  return (slots_[slot_index].generation << kSlotBits) | static_cast<std::uint32_t>(slot_index);
}

ENetPeer* EnetEndpoint::live_peer(PeerId id) {
  return const_cast<ENetPeer*>(std::as_const(*this).live_peer(id));
}

const ENetPeer* EnetEndpoint::live_peer(PeerId id) const {
  const std::size_t index = id & kSlotMask;
  if (index >= slots_.size()) return nullptr;
  const PeerSlot& slot = slots_[index];
  if (!slot.connected || slot.generation != (id >> kSlotBits)) return nullptr;
  return &host_->peers[index];
}

ENetPeer* EnetEndpoint::peer_from_datagram(std::uint16_t peer_id) const {
  if (peer_id >= host_->peerCount) return nullptr;
  ENetPeer* peer = &host_->peers[peer_id];
  if (peer->state == ENET_PEER_STATE_DISCONNECTED || peer->state == ENET_PEER_STATE_ZOMBIE) {
    return nullptr;
  }
  const ENetAddress& from = host_->receivedAddress;
  if (peer->address.host != from.host || peer->address.port != from.port) return nullptr;
  return peer;
}

void EnetEndpoint::begin_connect(ClientCredentials credentials) {
  credentials_ = std::move(credentials);
  encrypted_ = credentials_.keys.has_value();
  client_state_ = ClientState::connecting;
  server_id_ = ((slots_[0].generation + 1) << kSlotBits);
  stage_ = ClientStage::hello;
  server_may_have_admitted_ = false;
  connect_deadline_ms_ = now_ms() + credentials_.connect_timeout_ms;
  next_resend_ms_ = 0;  // the first HELLO goes out at the first poll
}

// --- receive path: the datagram filter -----------------------------------------------------

int EnetEndpoint::intercept_hook(ENetHost* /*host*/, ENetEvent* /*event*/) {
  // 1 tells ENet the datagram was consumed (dropped), 0 lets ENet process it.
  EnetEndpoint* endpoint = servicing_endpoint();
  return endpoint != nullptr ? endpoint->filter_datagram() : 1;
}

// --- events ---------------------------------------------------------------------------------

bool EnetEndpoint::poll(Event& event, std::chrono::milliseconds wait) {
  if (!ready_.empty()) {
    event = std::move(ready_.front());
    ready_.pop_front();
    if (event.type == EventType::message)
      count_delivery(slots_[event.peer & kSlotMask], event.payload.size());
    return true;
  }
  if (!deferred_.empty() && client_state_ != ClientState::connecting) {
    event = std::move(deferred_.front());
    deferred_.pop_front();
    count_delivery(slots_[event.peer & kSlotMask], event.payload.size());
    return true;
  }
  const ServicingScope scope(this);
  // ENet keeps its send totals in 32 bits (they wrap at 4 GiB): move them into ours each poll.
  counters_.datagrams_sent += std::exchange(host_->totalSentPackets, 0);
  counters_.wire_bytes_sent += std::exchange(host_->totalSentData, 0);
  seal_all_batches();
  tend_reliable_commands();
  if (role_ == Role::client) {
    client_handshake_tick();
  } else {
    expire_handshakes();
  }
  if (!ready_.empty()) return poll(event, std::chrono::milliseconds{0});
  const auto timeout = static_cast<enet_uint32>(
      std::clamp<std::int64_t>(wait.count(), 0, std::numeric_limits<enet_uint32>::max()));
  ENetEvent raw;
  int serviced = 0;
  if (hold_due_resends()) {
    // Read what arrived while nobody polled before any resend timer runs out
    // (retransmit_bound.hpp).
    serviced = enet_host_service(host_, &raw, 0);
    release_held_resends();
    if (serviced == 0) serviced = enet_host_service(host_, &raw, timeout);
  } else {
    serviced = enet_host_service(host_, &raw, timeout);
  }
  for (;;) {
    punish_pending_abusers();
    if (serviced > 0 && translate(raw, event)) return true;
    // Further messages of a batch, or a handshake's end found while servicing.
    if (!ready_.empty()) return poll(event, std::chrono::milliseconds{0});
    if (serviced <= 0) return false;
    serviced = enet_host_service(host_, &raw, 0);
  }
}

void EnetEndpoint::flush() {
  const ServicingScope scope(this);
  seal_all_batches();
  enet_host_flush(host_);
}

void EnetEndpoint::apply_peer_settings(ENetPeer* peer) const {
  enet_peer_timeout(peer, 0, config_.timeout_min_ms, config_.timeout_max_ms);
  enet_peer_ping_interval(peer, config_.ping_interval_ms);
  enet_peer_throttle_configure(peer, config_.throttle_interval_ms, config_.throttle_acceleration,
                               config_.throttle_deceleration);
}

void EnetEndpoint::tend_reliable_commands() {
  // ENet doubles a wait in the service that resends the command; bounding it within a few
  // milliseconds keeps it well inside any RTO over a real network. On loopback, where the RTO is a
  // millisecond or two, a resend may come a few milliseconds late.
  constexpr enet_uint32 kBoundIntervalMs = 5;
  constexpr enet_uint32 kLossSampleIntervalMs = 50;
  const enet_uint32 now = host_->serviceTime;
  const bool bound = retransmit_bound_.active() && now - last_bounded_ms_ >= kBoundIntervalMs;
  const bool sample = now - last_loss_sample_ms_ >= kLossSampleIntervalMs;
  if (!bound && !sample) return;
  if (bound) last_bounded_ms_ = now;
  if (sample) last_loss_sample_ms_ = now;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    PeerSlot& slot = slots_[i];
    if (!slot.connected) continue;
    ENetPeer& peer = host_->peers[i];
    if (sample) slot.loss.sample(peer.packetsSent, peer.packetsLost, peer.packetLossEpoch, now);
    // New commands start with ENet's RTO, within the bound; only a timeout (counted in
    // packetsLost) doubles a wait or makes a resend. Peers without one since the last look are
    // skipped until the next loss sample, when every peer's waits follow its RTT estimate.
    const bool timed_out =
        peer.packetsLost != slot.lost_seen || peer.packetLossEpoch != slot.loss_epoch_seen;
    if (!retransmit_bound_.active() || !(sample || (bound && timed_out))) continue;
    slot.lost_seen = peer.packetsLost;
    slot.loss_epoch_seen = peer.packetLossEpoch;
    (void)apply_retransmit_bound(peer, retransmit_bound_);
  }
}

bool EnetEndpoint::hold_due_resends() {
  const enet_uint32 now = enet_time_get();
  // A timer due now was due at the last look too, which held it or let ENet resend it.
  if (last_resend_look_ms_ == now) return false;
  last_resend_look_ms_ = now;
  bool held = false;
  for (std::size_t i = 0; i < host_->peerCount; ++i) {
    if (enet_detail::hold_due_resends(host_->peers[i], now)) held = true;
  }
  return held;
}

void EnetEndpoint::release_held_resends() {
  for (std::size_t i = 0; i < host_->peerCount; ++i) {
    enet_detail::release_held_resends(host_->peers[i]);
  }
}

bool EnetEndpoint::translate(ENetEvent& in, Event& out) {
  switch (in.type) {
    case ENET_EVENT_TYPE_CONNECT:
      // The client waits for the welcome before it reports `connected`. The server admits (and
      // uses the ticket up) once it hears we read its VERIFY_CONNECT: from now on it may have.
      if (role_ == Role::client) {
        server_may_have_admitted_ = true;
        return false;
      }
      apply_peer_settings(in.peer);
      return on_connect(in.peer, in.data, out);
    case ENET_EVENT_TYPE_RECEIVE:
      return on_receive(in.peer, in.packet, in.channelID, out);
    case ENET_EVENT_TYPE_DISCONNECT:
      return on_disconnect(in.peer, in.data, out);
    case ENET_EVENT_TYPE_NONE:
      break;
  }
  return false;
}

bool EnetEndpoint::on_connect(ENetPeer* peer, std::uint32_t data, Event& out) {
  // Only a CONNECT that followed a verified handshake reaches ENet, so its session exists.
  Session* session = session_of(peer);
  if (session == nullptr) {
    refuse(peer, DisconnectReason::refused);
    return false;
  }
  session->bound = true;
  slots_[slot_of(peer)].session = session;
  if (data != config_.protocol_id || !has_all_channels(peer)) {
    refuse(peer, DisconnectReason::refused);
    return false;
  }
  if (connected_count_ >= admission_->max_peers) {
    refuse(peer, DisconnectReason::server_full);
    return false;
  }
  if (session->ticket && ticket_verifier_) {
    // Used up only now: the CONNECT carried the ticket's keys (only their holder has them) and
    // the client read our VERIFY_CONNECT, so it will not fall back to WebSocket. Another attempt
    // with this ticket (the WebSocket fallback) may have been admitted first: that one plays.
    const bool first = ticket_verifier_->use(*session->ticket, unix_time_ms());
    session->ticket_hold.release();
    if (!first) {
      ++counters_.rejected_tickets;
      refuse(peer, DisconnectReason::ticket_rejected);
      return false;
    }
  }
  return admit(peer, out);
}

bool EnetEndpoint::admit(ENetPeer* peer, Event& out) {
  const std::size_t index = slot_of(peer);
  if (queue_message(index, kControlChannel, Delivery::reliable_ordered, std::span(&kWelcome, 1)) !=
      SendResult::ok) {
    enet_peer_reset(peer);
    return false;
  }
  seal_batch(index, kControlChannel);
  ++counters_.connections_accepted;
  report_connected(index, out);
  return true;
}

bool EnetEndpoint::has_all_channels(const ENetPeer* peer) const {
  return peer->channelCount >= config_.channel_count + 1;
}

void EnetEndpoint::report_connected(std::size_t slot_index, Event& out) {
  PeerSlot& slot = slots_[slot_index];
  slot.generation = slot.generation == kMaxGeneration ? 1 : slot.generation + 1;
  slot.connected = true;
  slot.closing = false;
  slot.local_reason.reset();
  slot.malformed = 0;
  slot.counts = {};
  slot.loss = {};
  ++connected_count_;
  out = Event{EventType::connected, id_of(slot_index), 0, DisconnectReason::timeout, {}};
}

bool EnetEndpoint::on_receive(ENetPeer* peer, ENetPacket* packet, std::uint8_t channel,
                              Event& out) {
  const std::size_t index = slot_of(peer);
  PeerSlot& slot = slots_[index];
  const Opening opening = open_packet(slot, packet, channel, opened_);
  if (opening != Opening::ok) {
    enet_packet_destroy(packet);
    if (opening == Opening::bad) count_against(peer);
    return false;
  }
  if (channel == kControlChannel) {
    const bool is_welcome = role_ == Role::client && client_state_ == ClientState::connecting &&
                            opened_.size() == 1 && opened_[0].size() == 1 &&
                            opened_[0][0] == kWelcome;
    enet_packet_destroy(packet);
    if (!is_welcome) {
      ++counters_.dropped_malformed;
      return false;
    }
    if (!has_all_channels(peer)) {
      // The server has fewer channels than we do: some of our channels would not exist.
      client_state_ = ClientState::disconnected;
      deferred_.clear();
      enet_peer_disconnect(peer, disconnect_data_for(peer, DisconnectReason::refused));
      out = Event{EventType::disconnected, server_id_, 0, DisconnectReason::refused, {}};
      return true;
    }
    apply_peer_settings(peer);
    client_state_ = ClientState::connected;
    stage_ = ClientStage::done;
    report_connected(index, out);
    return true;
  }
  const auto user_channel = static_cast<Channel>(channel - 1);
  if (role_ == Role::server && (!slot.connected || slot.closing)) {
    enet_packet_destroy(packet);
    ++counters_.dropped_stale;
    return false;
  }
  // Each message holds the packet; the last one released destroys it.
  packet->userData = reinterpret_cast<void*>(static_cast<std::uintptr_t>(opened_.size()));
  const auto release = [](void* owner) {
    auto* shared = static_cast<ENetPacket*>(owner);
    auto holders = reinterpret_cast<std::uintptr_t>(shared->userData);
    shared->userData = reinterpret_cast<void*>(--holders);
    if (holders == 0) enet_packet_destroy(shared);
  };
  const bool before_welcome = role_ == Role::client && client_state_ == ClientState::connecting;
  const PeerId from = before_welcome ? server_id_ : id_of(index);
  for (std::size_t i = 0; i < opened_.size(); ++i) {
    Event message{EventType::message, from, user_channel, DisconnectReason::timeout,
                  Payload(opened_[i].data(), opened_[i].size(), release, packet)};
    if (before_welcome) {
      // A message overtook the welcome (they travel on different channels): keep it for later.
      deferred_.push_back(std::move(message));
    } else if (i == 0) {
      out = std::move(message);
    } else {
      ready_.push_back(std::move(message));
    }
  }
  if (before_welcome) return false;
  count_delivery(slot, out.payload.size());
  return true;
}

void EnetEndpoint::count_delivery(PeerSlot& slot, std::size_t size) {
  ++slot.counts.messages_received;
  slot.counts.bytes_received += size;
}

bool EnetEndpoint::on_disconnect(ENetPeer* peer, std::uint32_t data, Event& out) {
  const std::size_t index = slot_of(peer);
  PeerSlot& slot = slots_[index];
  const bool was_connected = slot.connected;
  if (slot.session != nullptr && role_ == Role::server) sessions_.erase(slot.session->connect_id);
  slot.session = nullptr;
  for (OpenBatch& batch : slot.batches)
    batch.clear();
  const std::optional<DisconnectReason> local_reason = slot.local_reason;
  slot.connected = false;
  slot.closing = false;
  slot.local_reason.reset();
  slot.malformed = 0;

  if (was_connected) {
    --connected_count_;
    if (role_ == Role::client) client_state_ = ClientState::disconnected;
    out = Event{EventType::disconnected,
                id_of(index),
                0,
                local_reason.value_or(reason_from_wire(data)),
                {}};
    return true;
  }
  if (role_ == Role::client && client_state_ == ClientState::connecting) {
    // Never connected: silence means nobody answered (connect_failed, on which a gameplay client
    // falls back to WebSocket), unless the server may have admitted us and used our ticket up:
    // then it is `timeout`, as for a connection that drops. Anything else is the server's reason.
    client_state_ = ClientState::disconnected;
    stage_ = ClientStage::done;
    deferred_.clear();
    const DisconnectReason silence =
        server_may_have_admitted_ ? DisconnectReason::timeout : DisconnectReason::connect_failed;
    out = Event{
        EventType::disconnected, server_id_, 0, data == 0 ? silence : reason_from_wire(data), {}};
    return true;
  }
  return false;  // a peer we refused, or a handshake that never completed
}

// --- send path ------------------------------------------------------------------------------

SendResult EnetEndpoint::send(PeerId id, Channel channel, Delivery delivery,
                              std::span<const std::byte> bytes) {
  ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return SendResult::unknown_peer;
  PeerSlot& slot = slots_[slot_of(peer)];
  if (slot.closing) return SendResult::unknown_peer;
  if (channel >= config_.channel_count) return SendResult::invalid_channel;
  if (bytes.size() > config_.max_message_size) return SendResult::too_large;
  if (slot.queued_bytes + bytes.size() > config_.max_queued_bytes_per_peer) {
    return SendResult::queue_full;
  }
  const SendResult result = queue_message(slot_of(peer), enet_channel(channel), delivery, bytes);
  if (result == SendResult::ok) {
    ++slot.counts.messages_sent;
    slot.counts.bytes_sent += bytes.size();
  }
  return result;
}

void EnetEndpoint::on_packet_released(ENetPacket* packet) {
  // slots_ never reallocates, and ENet releases a peer's packets when it resets the peer, before
  // the slot can serve another connection.
  auto* slot = static_cast<PeerSlot*>(packet->userData);
  --slot->queued_messages;
  slot->queued_bytes -= packet->dataLength;
}

SendResult EnetEndpoint::broadcast(Channel channel, Delivery delivery,
                                   std::span<const std::byte> bytes) {
  if (channel >= config_.channel_count) return SendResult::invalid_channel;
  if (bytes.size() > config_.max_message_size) return SendResult::too_large;
  // Sent to each peer on its own: each peer's queue is capped on its own, and each session has
  // its own keys.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].connected && !slots_[i].closing) (void)send(id_of(i), channel, delivery, bytes);
  }
  return SendResult::ok;
}

void EnetEndpoint::disconnect(PeerId id, DisconnectReason reason) {
  ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return;
  PeerSlot& slot = slots_[slot_of(peer)];
  if (slot.closing) return;
  // What the game queued before goes out before the disconnect.
  for (std::size_t channel = 0; channel < slot.batches.size(); ++channel)
    seal_batch(slot_of(peer), static_cast<enet_uint8>(channel));
  slot.closing = true;
  slot.local_reason = reason;
  enet_peer_disconnect_later(peer, disconnect_data_for(peer, reason));
}

std::optional<ConnectionStats> EnetEndpoint::stats(PeerId id) const {
  const ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return std::nullopt;
  const PeerSlot& slot = slots_[slot_of(peer)];
  ConnectionStats stats = slot.counts;
  stats.rtt_ms = peer->roundTripTime;
  stats.rtt_variance_ms = peer->roundTripTimeVariance;
  stats.packet_loss = slot.loss.loss(peer->packetsSent, peer->packetsLost, peer->packetLossEpoch);
  stats.messages_queued = slot.queued_messages;
  stats.bytes_queued = slot.queued_bytes;
  stats.reliable_bytes_in_flight = peer->reliableDataInTransit;
  // The bytes ENet puts on the wire unacknowledged before it holds further reliable commands
  // back: its window scaled by the throttle, but never below one MTU (enet_protocol_check_-
  // outgoing_commands in ENet 1.3.17).
  stats.send_window_bytes = std::max<std::uint64_t>(
      std::uint64_t{peer->windowSize} * peer->packetThrottle / ENET_PEER_PACKET_THROTTLE_SCALE,
      peer->mtu);
  stats.mtu = peer->mtu;
  stats.fragment_payload_bytes =
      static_cast<std::uint32_t>(enet_fragment_payload(peer->mtu, /*has_checksum=*/true));
  // A message too large to share a datagram goes alone, sealed or framed (hand_to_enet).
  stats.message_overhead_bytes = static_cast<std::uint32_t>(
      slot.session != nullptr && slot.session->crypto ? session::kSealOverhead : kPlainHeaderBytes);
  if (slot.session != nullptr) {
    stats.datagrams_sent = slot.session->datagrams_sent;
    stats.wire_bytes_sent = slot.session->wire_bytes_sent;
  }
  return stats;
}

}  // namespace tickwire::net::enet_detail
