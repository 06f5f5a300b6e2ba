#pragma once
// The vocabulary every transport shares: who a peer is, how a message is delivered, and why a
// connection ended.

#include <cstdint>
#include <string_view>

namespace tickwire::net {

// Identifies one connection for as long as it lives. An id is not handed out again while the host
// lives (it carries a generation), so a stale id held by the game can never reach a newer peer.
using PeerId = std::uint32_t;
inline constexpr PeerId kInvalidPeer = 0;

// A transport channel. Ordering and sequencing hold per channel, so independent streams (chat,
// state, events) do not wait on each other.
using Channel = std::uint8_t;

enum class Delivery : std::uint8_t {
  // Arrives exactly once, in the order sent on its channel; retransmitted until acknowledged.
  reliable_ordered,
  // May be lost; never delivered after a newer message of the same channel was delivered.
  unreliable_sequenced,
  // May be lost, duplicated by nobody, and arrive in any order.
  unreliable,
};

// Why a connection ended. Sent across the wire when a side closes deliberately, so the other
// side learns the reason too.
enum class DisconnectReason : std::uint8_t {
  timeout = 0,            // the peer stopped answering (no reason crossed the wire)
  closed = 1,             // the other side closed the connection normally
  kicked = 2,             // the server removed the peer
  refused = 3,            // the server refused the connection (wrong protocol, not allowed)
  server_full = 4,        // every slot on the server is taken
  protocol_error = 5,     // the peer kept sending malformed data
  message_too_large = 6,  // the peer sent a message over the receiver's size limit
  rate_limited = 7,       // the peer sent faster than the receiver allows
  shutdown = 8,           // the host shut down
  connect_failed = 9,     // the server never answered the connection attempt
  ticket_rejected = 10,   // no valid join ticket in time (missing, forged, expired, reused)
  tls_failed = 11,        // the TLS handshake failed: the server's certificate did not verify
                          // (unknown CA, wrong host name, expired), or the server speaks no TLS
};

// Why a server refused a join ticket: the detail of a ticket_rejected disconnect, sent to the
// refused client (on ENet in the handshake's DENY, on WebSocket in a refusal message before the
// close). The client holds the ticket, so telling it why reveals nothing it could not work out.
enum class TicketRefusal : std::uint8_t {
  none = 0,           // not a ticket refusal, or the server gave no detail
  missing = 1,        // no ticket arrived before the server's deadline
  malformed = 2,      // not a ticket, or over the size limit
  bad_signature = 3,  // not signed by the lobby's key (tampered, forged, or another lobby's)
  expired = 4,        // past its expiry: ask the lobby for a fresh one
  wrong_server = 5,   // issued for another game server
  reused = 6,         // already used (replayed): each ticket admits one connection
  no_keys = 7,        // carries no session keys this server can open (sealed for another server)
  bad_proof = 8,      // the client did not prove it holds the ticket's session keys
};
inline constexpr auto kLastTicketRefusal = TicketRefusal::bad_proof;

// Why a match ended, as the game server reports it to the lobby and the lobby tells the room's
// players (the values are those of lobby.fbs's MatchEndReason).
enum class MatchEndReason : std::uint8_t {
  finished = 0,       // played to its end
  abandoned = 1,      // every player left the game server and none came back in time
  nobody_joined = 2,  // no player reached the game server before the lobby's join deadline
  server_lost = 3,    // the game server stopped reporting to the lobby past its lease
};

// Where a lobby chat line goes (lobby.fbs's ChatScope, same values).
enum class ChatScope : std::uint8_t { room = 0, global = 1, whisper = 2 };

std::string_view to_string(Delivery delivery);
std::string_view to_string(DisconnectReason reason);
std::string_view to_string(MatchEndReason reason);
std::string_view to_string(TicketRefusal refusal);

}  // namespace tickwire::net
