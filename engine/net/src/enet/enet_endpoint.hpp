#pragma once
// One ENet host and everything Tickwire adds around it: stable peer ids, the datagram filter
// (ENet's intercept hook), connection admission, event translation and stats. The server and
// client transports are thin roles over it.

#include <enet/enet.h>
#include <enet/time.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "enet/connect_rate_limiter.hpp"
#include "enet/datagram_inspector.hpp"
#include "tickwire/net/enet_transport.hpp"

namespace tickwire::net::enet_detail {

// ENet channel 0 is Tickwire's own control channel (welcome, join ticket). It exists whatever
// channel counts the two ends were configured with, so a mismatch can be detected and refused
// instead of hanging the handshake.
inline constexpr enet_uint8 kControlChannel = 0;

// Admission rules only a server applies.
struct AdmissionPolicy {
  std::size_t max_peers = 0;
  std::size_t max_pending_handshakes = 0;
  std::uint32_t connect_burst_per_address = 0;
  double connect_rate_per_address = 0;
  std::optional<TicketRequirement> tickets;
};

class EnetEndpoint {
 public:
  enum class Role : std::uint8_t { server, client };

  // Takes ownership of `host`. A server passes its admission policy; a client passes none.
  EnetEndpoint(ENetHost* host, const EnetCommonConfig& config, Role role,
               std::optional<AdmissionPolicy> admission);
  ~EnetEndpoint();
  EnetEndpoint(const EnetEndpoint&) = delete;
  EnetEndpoint& operator=(const EnetEndpoint&) = delete;

  bool poll(Event& event, std::chrono::milliseconds wait);
  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> bytes);
  SendResult broadcast(Channel channel, Delivery delivery, std::span<const std::byte> bytes);
  void disconnect(PeerId peer, DisconnectReason reason);
  void flush() { enet_host_flush(host_); }
  std::optional<ConnectionStats> stats(PeerId peer) const;
  TransportCounters counters() const {
    TransportCounters counters = counters_;
    counters.datagrams_sent += host_->totalSentPackets;
    counters.wire_bytes_sent += host_->totalSentData;
    return counters;
  }
  std::size_t connected_peers() const { return connected_count_; }

  ENetHost* host() const { return host_; }
  // Client only: the connection attempt to the server was started on `peer`; `ticket` (may be
  // empty) is presented once the server answers.
  void begin_connect(ENetPeer* peer, std::uint32_t connect_timeout_ms,
                     std::vector<std::byte> ticket);
  std::optional<JoinTicket> ticket_of(PeerId peer) const;
  ClientState client_state() const { return client_state_; }
  PeerId server_peer() const {
    return client_state_ == ClientState::connected ? server_id_ : kInvalidPeer;
  }

 private:
  struct PeerSlot {
    std::uint32_t generation = 0;
    bool connected = false;  // `connected` was reported and `disconnected` not yet
    bool closing = false;    // we asked for the disconnect; no more sends
    std::optional<DisconnectReason> local_reason;
    std::uint32_t malformed = 0;
    std::uint32_t queued_messages = 0;  // handed to ENet and not yet released by it
    std::size_t queued_bytes = 0;
    bool awaiting_ticket = false;  // connected at the ENet level, not yet admitted
    std::chrono::steady_clock::time_point ticket_deadline;
    std::optional<JoinTicket> ticket;  // the ticket it was admitted with
    ConnectionStats counts;
  };

  // ENet releases a packet we queued (sent, acknowledged, or dropped with its peer).
  static void on_packet_released(ENetPacket* packet);
  void count_delivery(PeerSlot& slot, std::size_t size);
  // True if `peer` agreed to every channel we have (ENet settles on the lower count of the two).
  bool has_all_channels(const ENetPeer* peer) const;

  static int intercept_hook(ENetHost* host, ENetEvent* event);
  int filter_datagram();
  bool admit_connect_attempt();
  std::size_t pending_handshakes() const;
  // Timeouts, ping interval and throttle from the config, once a peer is connected.
  void apply_peer_settings(ENetPeer* peer) const;
  bool translate(ENetEvent& in, Event& out);
  bool on_connect(ENetPeer* peer, std::uint32_t data, Event& out);
  bool on_receive(ENetPeer* peer, ENetPacket* packet, std::uint8_t channel, Event& out);
  bool on_disconnect(ENetPeer* peer, std::uint32_t data, Event& out);
  void punish_pending_abusers();
  // Applies max_retransmit_timeout_ms to every reliable command in flight (at most every 50 ms).
  void cap_retransmit_backoff();
  void report_connected(std::size_t slot_index, Event& out);
  void refuse(ENetPeer* peer, DisconnectReason reason);
  // Sends the welcome and reports the peer connected.
  bool admit(ENetPeer* peer, Event& out);
  bool on_ticket(ENetPeer* peer, std::span<const std::byte> ticket, Event& out);
  void expire_ticket_deadlines();

  std::size_t slot_of(const ENetPeer* peer) const {
    return static_cast<std::size_t>(peer - host_->peers);
  }
  PeerId id_of(std::size_t slot_index) const;
  ENetPeer* live_peer(PeerId id);
  const ENetPeer* live_peer(PeerId id) const;
  ENetPeer* peer_from_datagram(std::uint16_t peer_id) const;

  ENetHost* host_;
  EnetCommonConfig config_;
  Role role_;
  std::optional<AdmissionPolicy> admission_;
  std::optional<ConnectRateLimiter> rate_limiter_;
  InspectLimits inspect_limits_;
  std::vector<PeerSlot> slots_;
  std::vector<std::pair<ENetPeer*, DisconnectReason>>
      abusers_;                 // found in the hook, punished after it
  std::deque<Event> deferred_;  // events held back until the client's `connected` is reported
  TransportCounters counters_;
  std::size_t connected_count_ = 0;
  ClientState client_state_ = ClientState::disconnected;
  PeerId server_id_ = kInvalidPeer;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  enet_uint32 last_backoff_cap_ms_ = 0;
  std::optional<JoinTicketVerifier> ticket_verifier_;  // servers that require tickets
  std::uint32_t ticket_deadline_ms_ = 0;
  std::size_t awaiting_tickets_ = 0;
  std::vector<std::byte> client_ticket_;
};

// Keeps ENet's library initialised while any host exists.
void acquire_enet_library();
void release_enet_library();

// Tickwire's wire value for a disconnect reason, and back (unknown values read as `closed`).
std::uint32_t reason_to_wire(DisconnectReason reason);
DisconnectReason reason_from_wire(std::uint32_t data);

}  // namespace tickwire::net::enet_detail
