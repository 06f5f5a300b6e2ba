#pragma once
// Reliable UDP through ENet. Server and client transports with Tickwire's limits applied before
// any byte reaches ENet's protocol code: malformed datagrams are dropped and counted, oversize
// messages get their sender disconnected, and connection attempts are rate-limited per address.
//
// Sessions are authenticated and encrypted with keys from the join ticket (docs/security.md):
// a connection attempt first proves with a stateless cookie that it receives at its source
// address and shows its ticket; only then does ENet give it a slot. From then on every datagram,
// ENet's own control commands included, carries a tag under the session key, and every message
// is sealed with AEAD and checked against replays.
//
// What it does not do: IPv6 (ENet 1.3 is IPv4 only); hide message sizes, timing or ENet's own
// command headers (sequence numbers, acknowledgements) from an observer; or give ENet's control
// commands more than a 32-bit tag (messages get a full 128-bit one) — see docs/security.md.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/session_security.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/transport.hpp"

namespace tickwire::net {

// Settings both ends share.
struct EnetCommonConfig {
  // Channels per connection, 1..254. Both ends must use the same count: a connection between
  // different counts is refused. Default 2.
  std::size_t channel_count = 2;
  // Largest message accepted, in bytes, on send and on receive. A peer that sends a larger one is
  // disconnected with message_too_large. Default 256 KiB (ENet's own default is 32 MB).
  std::size_t max_message_size = 256 * 1024;
  // Bytes a peer may have buffered on our side awaiting delivery (reassembly, out-of-order
  // reliable messages). Default 4 MiB (ENet's own default is 32 MB).
  std::size_t max_waiting_data = 4 * 1024 * 1024;
  // Payload bytes queued to one peer (waiting to be sent or acknowledged) at most; send() returns
  // queue_full beyond it, so a peer that cannot keep up costs bounded memory. Default 4 MiB.
  std::size_t max_queued_bytes_per_peer = 4 * 1024 * 1024;
  // Downstream/upstream bandwidth in bytes per second, 0 = unlimited. Default 0. ENet throttles
  // to these.
  std::uint32_t incoming_bandwidth = 0;
  std::uint32_t outgoing_bandwidth = 0;
  // Encrypted sessions seal with AES-256-GCM when both ends allow it here and both CPUs have
  // AES-NI and PCLMULQDQ (faster there), and with ChaCha20-Poly1305 otherwise. The handshake
  // authenticates the choice. Default true.
  bool use_aes_gcm = true;
  // Largest datagram, in bytes, 576..4096. Default 1400 (no IP fragmentation on the internet).
  // The client's MTU is the connection's: ENet 1.3.17's server adopts what the client asks for.
  std::uint32_t mtu = 1400;
  // A peer whose reliable data has gone unacknowledged this long, in milliseconds, may be timed
  // out after ENet's retry limit; after timeout_max_ms it is timed out in any case.
  // Defaults 5000 and 10000.
  std::uint32_t timeout_min_ms = 5000;
  std::uint32_t timeout_max_ms = 10000;
  // How often an idle connection is pinged, in milliseconds, to measure RTT and keep it alive.
  // Default 500.
  std::uint32_t ping_interval_ms = 500;
  // ENet's congestion throttle. Every throttle_interval_ms it compares RTT with its recent
  // best: when RTT rises by more than twice its variance, ENet shrinks the reliable window and
  // drops that share of unreliable messages at the sender, by throttle_deceleration/32 per step;
  // when RTT falls it grows back by throttle_acceleration/32. Jitter looks like congestion to it:
  // on links with much jitter, throttle_deceleration = 0 keeps the window open. Both 0..32.
  // Defaults are ENet's: 5000, 2, 2.
  std::uint32_t throttle_interval_ms = 5000;
  std::uint32_t throttle_acceleration = 2;
  std::uint32_t throttle_deceleration = 2;
  // Resends of a lost reliable datagram that each come one retransmission timeout (RTO: RTT + 4 x
  // RTT variance, ENet's wait before its first resend) after the previous send. ENet doubles the
  // wait after every loss, so on a lossy link one unlucky datagram holds everything behind it on
  // its channel for many RTTs: its third resend comes 7 RTOs after the first send instead of 3.
  // After these resends ENet's doubling resumes, so a peer that has gone silent is not sent its
  // unacknowledged data every RTO until it times out. 0 = ENet's doubling from the first resend.
  // 0..32, default 4 (at 20 % loss each way about 1 datagram in 3000 is lost five times running).
  std::uint32_t resends_without_backoff = 4;
  // Longest wait, in milliseconds, before a lost reliable datagram is sent again, whatever the RTT
  // and the resends so far. 0 = no cap. Default 1000.
  std::uint32_t max_retransmit_timeout_ms = 1000;
  // Datagrams a peer may have dropped (malformed, not allowed before its admission, or over
  // max_incomplete_messages_per_peer) before it is disconnected with protocol_error. Default 32.
  std::uint32_t max_malformed_per_peer = 32;
  // Fragmented messages a peer may have partly received at once, >= 1. A datagram that would
  // start one more is dropped; the sender's ENet sends it again once earlier messages completed.
  // ENet's own sender, with its 64 KiB window in flight, stays well below it. Default 32.
  std::size_t max_incomplete_messages_per_peer = 32;
  // Protocol id exchanged in the handshake; a server refuses clients with a different one.
  // Change it when your game's messages change incompatibly. Default: Tickwire's own.
  std::uint32_t protocol_id = 0x54570001;

  Status validate() const;
};

struct EnetServerConfig {
  // IPv4 address to bind, "0.0.0.0" for all. Default "127.0.0.1" (opt in to the network).
  std::string bind_address = "127.0.0.1";
  // UDP port, 0 = any free port (read it back with ServerTransport::port()). Default 7777.
  std::uint16_t port = 7777;
  // Connected players at most, 1..4000. Further attempts get server_full. Default 64.
  std::size_t max_peers = 64;
  // Connections from one IP address at most. Default 8 (several players behind one NAT).
  std::size_t max_peers_per_address = 8;
  // Connection attempts one IP address may make: a token bucket holding this many, refilled at
  // this rate per second. Attempts beyond it are dropped unanswered and counted.
  // Defaults 16 and 4.
  std::uint32_t connect_burst_per_address = 16;
  double connect_rate_per_address = 4.0;
  // Half-open handshakes at once; beyond this new attempts are dropped, so a flood of CONNECTs
  // from many addresses cannot take every slot. Default 32.
  std::size_t max_pending_handshakes = 32;
  // Set to admit only peers with a valid join ticket. Default: none required (then security must
  // be plaintext_for_development).
  std::optional<TicketRequirement> require_ticket;
  // Default encrypted: every session needs a ticket carrying keys sealed to this server.
  SessionSecurity security = SessionSecurity::encrypted;
  // How long, in milliseconds, the stateless cookie of a connection attempt's challenge stays
  // valid: the client must answer the challenge within it. Default 10000.
  std::uint32_t cookie_lifetime_ms = 10'000;
  EnetCommonConfig common;

  Status validate() const;
};

struct EnetClientConfig {
  // Server host name or IPv4 address. Default "127.0.0.1".
  std::string server_host = "127.0.0.1";
  // Server UDP port. Default 7777.
  std::uint16_t server_port = 7777;
  // A connection attempt the server does not answer fails after this long, in milliseconds, with
  // connect_failed. Once the server has answered, the rest of the handshake may take up to
  // common.timeout_max_ms more; it fails with connect_failed too while the server cannot have
  // admitted it (its ticket is then still good for the WebSocket fallback), and with timeout once
  // it may have (ENet connected, the welcome not yet read). Default 5000.
  std::uint32_t connect_timeout_ms = 5000;
  // The join ticket from the lobby, presented on connecting (servers that require one).
  std::vector<std::byte> join_ticket;
  // The session keys the lobby handed out with the ticket (LobbyEvent::match.session_keys).
  // Without them the client can only join a server that runs plaintext_for_development.
  std::optional<SessionKeys> session_keys;
  EnetCommonConfig common;

  Status validate() const;
};

// Creates a server listening as configured. Fails with a message if the config is invalid or
// the address cannot be bound.
Result<std::unique_ptr<ServerTransport>> make_enet_server(const EnetServerConfig& config);
// Creates a client and starts connecting; a `connected` (or `disconnected` with connect_failed)
// event follows from poll().
Result<std::unique_ptr<ClientTransport>> make_enet_client(const EnetClientConfig& config);

}  // namespace tickwire::net
