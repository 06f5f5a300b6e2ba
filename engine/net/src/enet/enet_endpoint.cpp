#include "enet/enet_endpoint.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <utility>

namespace tickwire::net::enet_detail {
namespace {

// The game's channel c is ENet channel c + 1 (0 is kControlChannel).
enet_uint8 enet_channel(Channel channel) {
  return static_cast<enet_uint8>(channel + 1);
}

// The server's first message on the control channel. A client reports `connected` only once it
// arrives, so a client that the server turns away (full, wrong protocol) sees a single
// `disconnected` with the reason instead of a brief connection.
constexpr std::byte kWelcome{0x57};
// A client's join ticket on the control channel: this byte, then the ticket.
constexpr std::byte kTicket{0x54};

// Slot index in the low 12 bits of a PeerId (ENet has at most 4095 peers), generation above.
constexpr unsigned kSlotBits = 12;
constexpr std::uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr std::uint32_t kMaxGeneration = (1u << (32 - kSlotBits)) - 1;

// ENet calls its intercept hook with nothing but the host, so the endpoint being serviced is
// found through this. Hosts are serviced only inside poll(), on the caller's thread.
thread_local EnetEndpoint* t_servicing = nullptr;

class ServicingScope {
 public:
  explicit ServicingScope(EnetEndpoint* endpoint) : previous_(t_servicing) {
    t_servicing = endpoint;
  }
  ~ServicingScope() { t_servicing = previous_; }
  ServicingScope(const ServicingScope&) = delete;
  ServicingScope& operator=(const ServicingScope&) = delete;

 private:
  EnetEndpoint* previous_;
};

void destroy_packet(void* packet) {
  enet_packet_destroy(static_cast<ENetPacket*>(packet));
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

std::mutex g_library_mutex;
int g_library_users = 0;

}  // namespace

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
  if (data > static_cast<std::uint32_t>(DisconnectReason::ticket_rejected)) {
    return DisconnectReason::closed;
  }
  return static_cast<DisconnectReason>(data);
}

EnetEndpoint::EnetEndpoint(ENetHost* host, const EnetCommonConfig& config, Role role,
                           std::optional<AdmissionPolicy> admission)
    : host_(host),
      config_(config),
      role_(role),
      admission_(admission),
      inspect_limits_{config.max_message_size, config.channel_count + 1},
      slots_(host->peerCount) {
  host_->intercept = &EnetEndpoint::intercept_hook;
  host_->maximumPacketSize = config.max_message_size;
  host_->maximumWaitingData = config.max_waiting_data;
  if (admission_ && admission_->tickets) {
    ticket_verifier_.emplace(admission_->tickets->lobby_key, admission_->tickets->server_address);
    ticket_deadline_ms_ = admission_->tickets->deadline_ms;
  }
  if (admission_) {
    // Enough addresses to remember every client of a busy server, bounded against spoofing.
    constexpr std::size_t kTrackedAddresses = 4096;
    rate_limiter_.emplace(admission_->connect_burst_per_address,
                          admission_->connect_rate_per_address, kTrackedAddresses);
  }
}

EnetEndpoint::~EnetEndpoint() {
  const auto reason = role_ == Role::server ? DisconnectReason::shutdown : DisconnectReason::closed;
  for (std::size_t i = 0; i < host_->peerCount; ++i) {
    ENetPeer& peer = host_->peers[i];
    if (peer.state != ENET_PEER_STATE_DISCONNECTED && peer.state != ENET_PEER_STATE_ZOMBIE) {
      enet_peer_disconnect_now(&peer, reason_to_wire(reason));
    }
  }
  enet_host_destroy(host_);
  release_enet_library();
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

void EnetEndpoint::begin_connect(ENetPeer* peer, std::uint32_t connect_timeout_ms,
                                 std::vector<std::byte> ticket) {
  client_ticket_ = std::move(ticket);
  // Until the server answers, the connect timeout stands in for the peer timeouts.
  enet_peer_timeout(peer, 0, connect_timeout_ms, connect_timeout_ms);
  client_state_ = ClientState::connecting;
  const std::size_t index = slot_of(peer);
  server_id_ = ((slots_[index].generation + 1) << kSlotBits) | static_cast<std::uint32_t>(index);
}

// --- receive path: the datagram filter -----------------------------------------------------

int EnetEndpoint::intercept_hook(ENetHost* /*host*/, ENetEvent* /*event*/) {
  // 1 tells ENet the datagram was consumed (dropped), 0 lets ENet process it.
  return t_servicing != nullptr ? t_servicing->filter_datagram() : 0;
}

// --- events ---------------------------------------------------------------------------------

bool EnetEndpoint::poll(Event& event, std::chrono::milliseconds wait) {
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
  cap_retransmit_backoff();
  expire_ticket_deadlines();
  const auto timeout = static_cast<enet_uint32>(
      std::clamp<std::int64_t>(wait.count(), 0, std::numeric_limits<enet_uint32>::max()));
  ENetEvent raw;
  int serviced = enet_host_service(host_, &raw, timeout);
  for (;;) {
    punish_pending_abusers();
    if (serviced <= 0) return false;
    if (translate(raw, event)) return true;
    serviced = enet_host_service(host_, &raw, 0);
  }
}

void EnetEndpoint::apply_peer_settings(ENetPeer* peer) const {
  enet_peer_timeout(peer, 0, config_.timeout_min_ms, config_.timeout_max_ms);
  enet_peer_ping_interval(peer, config_.ping_interval_ms);
  enet_peer_throttle_configure(peer, config_.throttle_interval_ms, config_.throttle_acceleration,
                               config_.throttle_deceleration);
}

void EnetEndpoint::cap_retransmit_backoff() {
  const enet_uint32 cap = config_.max_retransmit_timeout_ms;
  const enet_uint32 now = host_->serviceTime;
  constexpr enet_uint32 kIntervalMs = 50;
  if (cap == 0 || now - last_backoff_cap_ms_ < kIntervalMs) return;
  last_backoff_cap_ms_ = now;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].connected) continue;
    ENetPeer& peer = host_->peers[i];
    ENetListIterator first = enet_list_begin(&peer.sentReliableCommands);
    for (ENetListIterator it = first; it != enet_list_end(&peer.sentReliableCommands);
         it = enet_list_next(it)) {
      auto* command = reinterpret_cast<ENetOutgoingCommand*>(it);
      if (command->roundTripTimeout > cap) command->roundTripTimeout = cap;
    }
    // ENet looks at its timers only from nextTimeout on, which it derived from the uncapped wait
    // of the oldest command.
    if (first != enet_list_end(&peer.sentReliableCommands)) {
      const auto* oldest = reinterpret_cast<const ENetOutgoingCommand*>(first);
      const enet_uint32 due = oldest->sentTime + oldest->roundTripTimeout;
      if (ENET_TIME_LESS(due, peer.nextTimeout)) peer.nextTimeout = due;
    }
  }
}

bool EnetEndpoint::translate(ENetEvent& in, Event& out) {
  switch (in.type) {
    case ENET_EVENT_TYPE_CONNECT:
      if (role_ == Role::client) {
        // The client waits for the welcome; a server that requires a ticket waits for ours.
        if (!client_ticket_.empty()) {
          std::vector<std::byte> message{kTicket};
          message.insert(message.end(), client_ticket_.begin(), client_ticket_.end());
          ENetPacket* packet =
              enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE);
          if (packet != nullptr && enet_peer_send(in.peer, kControlChannel, packet) < 0) {
            enet_packet_destroy(packet);
          }
        }
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
  if (data != config_.protocol_id || !has_all_channels(peer)) {
    refuse(peer, DisconnectReason::refused);
    return false;
  }
  if (connected_count_ + awaiting_tickets_ >= admission_->max_peers) {
    refuse(peer, DisconnectReason::server_full);
    return false;
  }
  if (ticket_verifier_) {
    PeerSlot& slot = slots_[slot_of(peer)];
    slot.awaiting_ticket = true;
    slot.ticket_deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(ticket_deadline_ms_);
    ++awaiting_tickets_;
    return false;
  }
  return admit(peer, out);
}

bool EnetEndpoint::admit(ENetPeer* peer, Event& out) {
  ENetPacket* welcome = enet_packet_create(&kWelcome, 1, ENET_PACKET_FLAG_RELIABLE);
  if (welcome == nullptr || enet_peer_send(peer, kControlChannel, welcome) < 0) {
    if (welcome != nullptr) enet_packet_destroy(welcome);
    enet_peer_reset(peer);
    return false;
  }
  ++counters_.connections_accepted;
  report_connected(slot_of(peer), out);
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
  ++connected_count_;
  out = Event{EventType::connected, id_of(slot_index), 0, DisconnectReason::timeout, {}};
}

bool EnetEndpoint::on_receive(ENetPeer* peer, ENetPacket* packet, std::uint8_t channel,
                              Event& out) {
  const std::size_t index = slot_of(peer);
  PeerSlot& slot = slots_[index];
  if (channel == kControlChannel && slot.awaiting_ticket) {
    const std::span<const std::byte> message(reinterpret_cast<const std::byte*>(packet->data),
                                             packet->dataLength);
    const bool is_ticket = !message.empty() && message[0] == kTicket;
    const bool admitted = is_ticket && on_ticket(peer, message.subspan(1), out);
    enet_packet_destroy(packet);
    if (!is_ticket) {
      ++counters_.dropped_unauthenticated;
    }
    return admitted;
  }
  if (channel == kControlChannel) {
    const bool is_welcome = role_ == Role::client && client_state_ == ClientState::connecting &&
                            packet->dataLength == 1 && std::byte{packet->data[0]} == kWelcome;
    enet_packet_destroy(packet);
    if (!is_welcome) {
      ++counters_.dropped_malformed;
      return false;
    }
    if (!has_all_channels(peer)) {
      // The server has fewer channels than we do: some of our channels would not exist.
      client_state_ = ClientState::disconnected;
      deferred_.clear();
      enet_peer_disconnect(peer, reason_to_wire(DisconnectReason::refused));
      out = Event{EventType::disconnected, server_id_, 0, DisconnectReason::refused, {}};
      return true;
    }
    apply_peer_settings(peer);
    client_state_ = ClientState::connected;
    report_connected(index, out);
    return true;
  }
  const auto user_channel = static_cast<Channel>(channel - 1);
  Payload payload(reinterpret_cast<const std::byte*>(packet->data), packet->dataLength,
                  &destroy_packet, packet);
  if (role_ == Role::client && client_state_ == ClientState::connecting) {
    // A message overtook the welcome (they travel on different channels): keep it for later.
    deferred_.push_back(Event{EventType::message, server_id_, user_channel,
                              DisconnectReason::timeout, std::move(payload)});
    return false;
  }
  if (slot.awaiting_ticket) {
    ++counters_.dropped_unauthenticated;  // nothing counts before the ticket
    return false;
  }
  if (!slot.connected || slot.closing) {
    ++counters_.dropped_stale;
    return false;
  }
  count_delivery(slot, payload.size());
  out.type = EventType::message;
  out.peer = id_of(index);
  out.channel = user_channel;
  out.payload = std::move(payload);
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
  if (slot.awaiting_ticket) {
    slot.awaiting_ticket = false;
    --awaiting_tickets_;
  }
  slot.ticket.reset();
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
    // Never connected: silence means nobody answered, anything else is the server's reason.
    client_state_ = ClientState::disconnected;
    deferred_.clear();
    out = Event{EventType::disconnected,
                server_id_,
                0,
                data == 0 ? DisconnectReason::connect_failed : reason_from_wire(data),
                {}};
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
  ENetPacket* packet = enet_packet_create(bytes.data(), bytes.size(), packet_flags(delivery));
  if (packet == nullptr) return SendResult::failed;
  packet->userData = &slot;
  packet->freeCallback = &EnetEndpoint::on_packet_released;
  ++slot.queued_messages;
  slot.queued_bytes += bytes.size();
  if (enet_peer_send(peer, enet_channel(channel), packet) < 0) {
    enet_packet_destroy(packet);  // releases it from the queue counts again
    return SendResult::failed;
  }
  ++slot.counts.messages_sent;
  slot.counts.bytes_sent += bytes.size();
  return SendResult::ok;
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
  // One packet per peer rather than one shared: each peer's queue is capped on its own, and a
  // slow peer cannot hold memory on behalf of the fast ones.
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
  slot.closing = true;
  slot.local_reason = reason;
  enet_peer_disconnect_later(peer, reason_to_wire(reason));
}

std::optional<ConnectionStats> EnetEndpoint::stats(PeerId id) const {
  const ENetPeer* peer = live_peer(id);
  if (peer == nullptr) return std::nullopt;
  const PeerSlot& slot = slots_[slot_of(peer)];
  ConnectionStats stats = slot.counts;
  stats.rtt_ms = peer->roundTripTime;
  stats.rtt_variance_ms = peer->roundTripTimeVariance;
  // ENet refreshes packetLoss only every 10 s; blend in the current interval's counts so the
  // figure moves within a second or two, weighting the last full interval like 32 datagrams.
  constexpr double kHistoryWeight = 32;
  const double history =
      static_cast<double>(peer->packetLoss) / double{ENET_PEER_PACKET_LOSS_SCALE};
  stats.packet_loss = (history * kHistoryWeight + peer->packetsLost) /
                      (kHistoryWeight + static_cast<double>(peer->packetsSent));
  stats.messages_queued = slot.queued_messages;
  stats.bytes_queued = slot.queued_bytes;
  stats.mtu = peer->mtu;
  return stats;
}

}  // namespace tickwire::net::enet_detail
