#pragma once
// One ENet host and everything Tickwire adds around it: stable peer ids, the handshake before ENet
// gives an attempt a slot, the datagram filter and tags (ENet's intercept and checksum hooks),
// messages batched and sealed per channel, event translation and stats. The server and client
// transports are thin roles over it.

#include <enet/enet.h>
#include <enet/time.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "enet/connect_rate_limiter.hpp"
#include "enet/datagram_inspector.hpp"
#include "enet/enet_session.hpp"
#include "enet/loss_meter.hpp"
#include "enet/message_batch.hpp"
#include "enet/retransmit_bound.hpp"
#include "log/log_limiter.hpp"
#include "tickwire/net/enet_transport.hpp"

namespace tickwire::net::enet_detail {

// Admission rules only a server applies.
struct AdmissionPolicy {
  std::size_t max_peers = 0;
  std::size_t max_peers_per_address = 0;
  std::size_t max_pending_handshakes = 0;
  std::uint32_t connect_burst_per_address = 0;
  double connect_rate_per_address = 0;
  std::optional<TicketRequirement> tickets;
  SessionSecurity security = SessionSecurity::encrypted;
  std::uint32_t cookie_lifetime_ms = 10'000;
};

// What a client brings to the handshake.
struct ClientCredentials {
  ENetAddress server{};
  std::uint32_t connect_timeout_ms = 0;
  std::vector<std::byte> ticket;
  std::optional<SessionKeys> keys;
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
  void flush();
  std::optional<ConnectionStats> stats(PeerId peer) const;
  TransportCounters counters() const {
    TransportCounters counters = counters_;
    counters.datagrams_sent += host_->totalSentPackets;
    counters.wire_bytes_sent += host_->totalSentData;
    return counters;
  }
  std::size_t connected_peers() const { return connected_count_; }

  ENetHost* host() const { return host_; }
  // Client only: starts the handshake with the server; ENet connects once the server accepts.
  void begin_connect(ClientCredentials credentials);
  std::optional<JoinTicket> ticket_of(PeerId peer) const;
  // Server: what tickets are checked against, and the verifier checking them (null without).
  const std::optional<TicketRequirement>& ticket_requirement() const { return ticket_requirement_; }
  JoinTicketVerifier* ticket_verifier() { return ticket_verifier_ ? &*ticket_verifier_ : nullptr; }
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
    Session* session = nullptr;  // keys and ticket, from the ENet connect on (server: in sessions_)
    std::vector<OpenBatch> batches;    // per ENet channel: messages not yet handed to ENet
    bool in_open_batch_slots = false;  // listed in open_batch_slots_
    ConnectionStats counts;
    LossMeter loss;
    // ENet's count of timed-out commands (and its interval) when the retransmission bound last
    // looked: a change means ENet doubled some wait since.
    std::uint32_t lost_seen = 0;
    std::uint32_t loss_epoch_seen = 0;
  };

  // ENet releases a packet we queued (sent, acknowledged, or dropped with its peer).
  static void on_packet_released(ENetPacket* packet);
  void count_delivery(PeerSlot& slot, std::size_t size);
  // True if `peer` agreed to every channel we have (ENet settles on the lower count of the two).
  bool has_all_channels(const ENetPeer* peer) const;

  // Around the first service of a poll: resend timers that ran out while nobody polled wait until
  // what arrived meanwhile is read (retransmit_bound.hpp). True if any timer was held. Looks at
  // the peers at most once per millisecond of ENet's clock: a server polls once per message it
  // takes, and no timer can run out within the millisecond it was last looked at.
  bool hold_due_resends();
  void release_held_resends();

  static int intercept_hook(ENetHost* host, ENetEvent* event);
  static enet_uint32 checksum_hook(const ENetBuffer* buffers, std::size_t buffer_count);
  int filter_datagram();
  // A datagram for a peer with a session: its tag is checked (encrypted sessions). Counts what it
  // drops.
  bool authenticate_datagram(Session& session, std::span<std::uint8_t> datagram,
                             std::size_t tag_offset, std::uint32_t seed);
  // After authenticate_datagram and every other check: the whole sealed packets it carries pass
  // their AEAD (decrypted in place for ENet) and the datagram is not a replay. Counts what it
  // drops.
  bool open_sealed_packets(Session& session, std::span<std::uint8_t> datagram);
  enet_uint32 tag_outgoing(const ENetBuffer* buffers, std::size_t buffer_count);
  bool admit_connect(std::span<std::uint8_t> datagram, std::size_t tag_offset);
  std::size_t pending_handshakes() const;
  std::uint64_t now_ms() const;

  // The handshake (enet_handshake.cpp).
  void on_handshake(std::span<const std::uint8_t> datagram);
  void on_hello(const session::HandshakePacket& packet);
  void on_response(const session::HandshakePacket& packet);
  void on_challenge(const session::HandshakePacket& packet);
  void on_accept(const session::HandshakePacket& packet);
  void on_deny(const session::HandshakePacket& packet);
  void send_raw(const ENetAddress& to, std::span<const std::uint8_t> datagram);
  void deny(session::DenyReason reason, TicketRefusal refusal = TicketRefusal::none);
  // "a.b.c.d:port" of the datagram being handled, for log lines.
  std::string received_from() const;
  std::size_t attempts_from(std::uint32_t host) const;
  Session* session_of(const ENetPeer* peer);
  void expire_handshakes();
  void client_handshake_tick();
  void fail_client(DisconnectReason reason, TicketRefusal refusal = TicketRefusal::none);
  bool from_server() const;

  // Messages in batches (enet_messages.cpp).
  SendResult queue_message(std::size_t slot_index, enet_uint8 enet_channel, Delivery delivery,
                           std::span<const std::byte> bytes);
  void seal_batch(std::size_t slot_index, enet_uint8 enet_channel);
  void seal_all_batches();
  bool hand_to_enet(std::size_t slot_index, enet_uint8 enet_channel, Delivery delivery,
                    std::span<const std::uint8_t> body, bool several);
  enum class Opening : std::uint8_t { ok, bad, replayed };
  // Opens a received ENet packet into its messages, counting what it refuses: `bad` when it is
  // not authentic or does not frame, `replayed` when it is authentic but seen before (which an
  // attacker on the path can cause by replaying an old datagram, so it counts against nobody).
  Opening open_packet(PeerSlot& slot, ENetPacket* packet, std::uint8_t channel,
                      std::vector<std::span<const std::byte>>& messages);
  // Timeouts, ping interval and throttle from the config, once a peer is connected.
  void apply_peer_settings(ENetPeer* peer) const;
  bool translate(ENetEvent& in, Event& out);
  bool on_connect(ENetPeer* peer, std::uint32_t data, Event& out);
  bool on_receive(ENetPeer* peer, ENetPacket* packet, std::uint8_t channel, Event& out);
  bool on_disconnect(ENetPeer* peer, std::uint32_t data, Event& out);
  void punish_pending_abusers();
  // Every few milliseconds: bounds the retransmission waits of each peer that has timed out a
  // command since (retransmit_bound.hpp); every 50 ms: those of every peer, and samples each
  // peer's loss.
  void tend_reliable_commands();
  void report_connected(std::size_t slot_index, Event& out);
  void refuse(ENetPeer* peer, DisconnectReason reason);
  // ENet's DISCONNECT data for `reason`: tagged in an encrypted session (session::disconnect_data),
  // and the check of a received one.
  std::uint32_t disconnect_data_for(ENetPeer* peer, DisconnectReason reason);
  bool disconnect_is_authentic(ENetPeer* peer, std::uint32_t data);
  // Sends the welcome and reports the peer connected.
  bool admit(ENetPeer* peer, Event& out);
  // A datagram or message with a valid tag dropped for what it is: only the peer (or its keys)
  // can have sent it, so it counts towards max_malformed_per_peer. No peer: nobody to count.
  void count_against(ENetPeer* peer);

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
  // Slots that had a message batched since the last seal_all_batches(): poll() runs once per
  // event, and walking every slot (as many as max peers) each time was a few percent of a
  // 256-player server's tick.
  std::vector<std::uint32_t> open_batch_slots_;
  std::vector<std::pair<ENetPeer*, DisconnectReason>>
      abusers_;                 // found in the hook, punished after it
  std::deque<Event> deferred_;  // events held back until the client's `connected` is reported
  std::deque<Event> ready_;     // further messages of a batch already opened (counted)
  std::vector<std::span<const std::byte>> opened_;  // scratch: the messages of one packet
  TransportCounters counters_;
  std::size_t connected_count_ = 0;
  ClientState client_state_ = ClientState::disconnected;
  PeerId server_id_ = kInvalidPeer;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  RetransmitBound retransmit_bound_;
  enet_uint32 last_bounded_ms_ = 0;
  enet_uint32 last_loss_sample_ms_ = 0;
  std::optional<enet_uint32> last_resend_look_ms_;     // hold_due_resends()
  std::optional<JoinTicketVerifier> ticket_verifier_;  // servers that require tickets
  std::optional<TicketRequirement> ticket_requirement_;
  std::uint32_t ticket_deadline_ms_ = 2000;
  bool encrypted_ = false;       // server: sessions must be encrypted; client: it has keys
  bool offers_aes_ = false;      // this end may seal with AES-256-GCM (config and CPU allow it)
  std::size_t batch_limit_ = 0;  // bytes of framed messages one batch may hold

  // Server side of the handshake.
  std::optional<session::CookieJar> cookies_;
  std::vector<PendingJoin> pending_joins_;
  std::unordered_map<std::uint32_t, std::unique_ptr<Session>> sessions_;  // by connectID
  std::uint64_t last_expiry_ms_ = 0;
  // Log lines a peer can trigger, held to a few a second each (one limiter per kind of line).
  std::array<detail::LogLimiter, static_cast<std::size_t>(kLastTicketRefusal) + 1> refusal_log_;
  detail::LogLimiter full_log_;   // attempts refused for a full server or address cap
  detail::LogLimiter abuse_log_;  // peers disconnected for abuse
  // What intercept verified, for ENet's checksum call on the same datagram right after.
  const enet_uint8* verified_data_ = nullptr;
  enet_uint32 verified_tag_ = 0;
  std::array<std::uint8_t, 4096> scratch_{};  // a datagram gathered from ENet's buffers

  // Client side of the handshake.
  enum class ClientStage : std::uint8_t { hello, response, connecting, done };
  ClientCredentials credentials_;
  ClientStage stage_ = ClientStage::done;
  session::Cookie cookie_{};
  std::uint64_t connect_deadline_ms_ = 0;
  std::uint64_t next_resend_ms_ = 0;
  // ENet connected (we read the server's VERIFY_CONNECT) but the welcome has not come: the server
  // may have admitted us and used the ticket up, so a failure now is no case for the fallback.
  bool server_may_have_admitted_ = false;
  std::unique_ptr<Session> client_session_;
};

// Keeps ENet's library initialised while any host exists.
void acquire_enet_library();
void release_enet_library();

// Tickwire's wire value for a disconnect reason, and back (the low 8 bits of ENet's data; unknown
// values read as `closed`).
std::uint32_t reason_to_wire(DisconnectReason reason);
DisconnectReason reason_from_wire(std::uint32_t data);

}  // namespace tickwire::net::enet_detail
