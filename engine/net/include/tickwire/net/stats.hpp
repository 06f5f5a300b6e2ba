#pragma once
// What a game (and its net graph) can read about a connection and about a whole transport.

#include <cstdint>

namespace tickwire::net {

// One connection, readable at any time with Transport::stats().
struct ConnectionStats {
  double rtt_ms = 0;           // smoothed round-trip time
  double rtt_variance_ms = 0;  // smoothed variation of the round-trip time
  // Round-trip loss, 0..1: the fraction of reliable datagrams (pings included) whose
  // acknowledgement did not come back within their retransmission timeout, over the last few
  // seconds (a time constant of 5 s). A datagram lost on its way out and an acknowledgement lost
  // on its way back count alike: with 5 % lost each way it reads about 1 - 0.95^2 = 9.75 %. 0 on
  // WebSocket, where TCP hides loss.
  double packet_loss = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_sent = 0;      // message payload bytes handed to send()
  std::uint64_t bytes_received = 0;  // message payload bytes delivered by poll()
  // Whole datagrams from and to this peer, and their size with protocol headers, acknowledgements
  // and retransmissions included: what the connection costs on the wire (UDP/IP headers not
  // counted). On WebSocket a "datagram" is a message frame (Tickwire sends each message as one
  // frame; a peer's fragmented message counts once), and the wire bytes are every byte read from
  // or written to the TCP socket: the upgrade, frame headers, control frames (pings, close) and,
  // with TLS, the TLS records and handshake. 0 on loopback.
  std::uint64_t datagrams_received = 0;
  std::uint64_t wire_bytes_received = 0;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t wire_bytes_sent = 0;
  // Batches of messages waiting to be sent or acknowledged (on ENet, the messages of a channel
  // sent between two polls travel as one batch; a large message is a batch of its own).
  std::uint32_t messages_queued = 0;
  // Their bytes, framing and seal included (capped by max_queued_bytes_per_peer).
  std::uint64_t bytes_queued = 0;
  // Of those, the reliable bytes on the wire and not yet acknowledged, and how many the transport
  // lets be so before it holds the rest back in its queue (its send window): what a bulk sender
  // such as FileTransfer paces itself against, so that it does not park data in the queue ahead
  // of gameplay messages sent later. ENet: reliableDataInTransit, and ENet's window (64 KiB at
  // most) scaled by its packet throttle, at least one MTU. Loopback: reliable bytes not yet
  // delivered, and a window of 64 KiB (ENet's largest), as it has no bandwidth of its own to
  // pace against. WebSocket: 0 and 0, as TCP's window is the kernel's (bytes_queued is what has
  // not yet been written to the socket).
  std::uint64_t reliable_bytes_in_flight = 0;
  std::uint64_t send_window_bytes = 0;
  std::uint32_t mtu = 0;  // largest datagram used for this peer, bytes
  // How a message too large for one datagram is split: every datagram carries up to
  // fragment_payload_bytes of it, after the transport has added message_overhead_bytes to it (the
  // seal), so a message of n bytes takes ceil((n + message_overhead_bytes) /
  // fragment_payload_bytes) datagrams. A bulk sender sizes its messages to fill whole datagrams
  // with them (FileTransfer does). ENet: ENet's fragment payload at this peer's MTU; 0 and 0 on
  // WebSocket and loopback, which do not split messages into datagrams.
  std::uint32_t fragment_payload_bytes = 0;
  std::uint32_t message_overhead_bytes = 0;
};

// Counters for a whole transport. Every reason a datagram or message is thrown away has its own
// counter: they are what abuse tests check and what /metrics exports.
struct TransportCounters {
  std::uint64_t datagrams_received = 0;
  std::uint64_t wire_bytes_received = 0;  // their size, protocol headers included
  // What went out on the wire, protocol headers, acknowledgements and retransmissions included
  // (on WebSocket: message frames and socket bytes, as ConnectionStats counts them): what a
  // bandwidth bill or a net graph counts.
  std::uint64_t datagrams_sent = 0;
  std::uint64_t wire_bytes_sent = 0;
  std::uint64_t connections_accepted = 0;
  std::uint64_t dropped_malformed = 0;     // datagrams that do not parse as the protocol
  std::uint64_t dropped_oversize = 0;      // messages over max_message_size
  std::uint64_t dropped_stale = 0;         // datagrams for no live peer, or from the wrong address
  std::uint64_t dropped_rate_limited = 0;  // connection attempts over the per-address rate
  std::uint64_t refused_connections = 0;   // attempts turned away (server full, wrong protocol)
  std::uint64_t peers_disconnected_for_abuse = 0;  // oversize, or too many datagrams dropped
  std::uint64_t rejected_tickets = 0;              // join tickets missing, invalid or too late
  // Datagrams or connection attempts from nobody we admitted: an ENet CONNECT without a verified
  // handshake, a handshake answer with a bad cookie, a datagram for a peer without a session.
  std::uint64_t dropped_unauthenticated = 0;
  std::uint64_t dropped_forged = 0;    // failed the session's tag or seal: forged or altered
  std::uint64_t dropped_replayed = 0;  // authentic but seen before: a replay or a duplicate
  std::uint64_t challenges_sent = 0;   // handshake challenges (each answers one HELLO)
  // ENet DISCONNECTs in an encrypted session whose reason does not carry the session's
  // disconnect tag: dropped (a forged datagram tag alone cannot end a session).
  std::uint64_t dropped_forged_disconnects = 0;
  // Datagrams from a peer that passed the handshake but whose connection has not been admitted yet
  // carrying more than ENet's own control commands (acknowledgements, pings, disconnect,
  // bandwidth and throttle): any message, a fragment, too many commands. Dropped before ENet reads
  // them, so they cost no memory.
  std::uint64_t dropped_before_admission = 0;
  // Datagrams that would start a fragmented message while the peer already has
  // max_incomplete_messages_per_peer of them incomplete.
  std::uint64_t dropped_reassembly_limit = 0;
  // ENet handshakes left unanswered because max_unproven_attempts_per_ticket other attempts hold
  // their ticket, none of them admitted yet (a ticket replayed from elsewhere, or a flood of one).
  std::uint64_t dropped_ticket_held = 0;
};

}  // namespace tickwire::net
