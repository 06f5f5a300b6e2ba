#pragma once
// What a game server asks of the players it admits, the same on every gameplay transport (ENet and
// WebSocket): a join ticket signed by the lobby, and sessions encrypted with the keys the ticket
// carries. docs/security.md says what this defends against.

#include <cstdint>
#include <string>

#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net {

// Admission by join ticket: a peer must present a ticket signed by the lobby for this server
// within `deadline_ms` of connecting, or it is disconnected with ticket_rejected. Until then the
// game sees no `connected` event for it and nothing it sends.
struct TicketRequirement {
  TicketPublicKey lobby_key{};  // the lobby's public key (JoinTicketIssuer::public_key())
  // This game server as tickets name it, "host:port": the address the lobby hands out for it.
  // A game server listening on several transports (ENet and WebSocket, joined by
  // combine_servers) has one name, its canonical address (by convention its ENet one), and every
  // transport checks tickets against that same string; combine_servers refuses servers that
  // disagree.
  std::string server_address;
  // ENet: how long, in milliseconds, a connection attempt may take from its verified ticket to
  // the ENet CONNECT tagged with the ticket's keys; ENet's own handshake after that has the
  // transport's timeout_max_ms, as any silent peer does. WebSocket: how long a connection may take
  // from its finished upgrade to presenting its ticket. Default 2000.
  std::uint32_t deadline_ms = 2000;
  // This server's sealing key pair: it opens the session keys inside each ticket (the lobby seals
  // them to seal_keys.public_key). Needed when the server encrypts.
  GameServerSealKeys seal_keys{};
  // ENet: how many connection attempts may hold one ticket at once before any of them is admitted
  // (a ticket is used up when its connection is admitted, not when its handshake shows it, so
  // that a client whose UDP answers were lost can still get in over the WebSocket fallback).
  // Further attempts with that ticket go unanswered (counted in dropped_ticket_held) until one
  // ends; they cannot take the table of pending handshakes from other players. Default 2.
  std::uint32_t max_unproven_attempts_per_ticket = 2;
};

// Whether a server's sessions are encrypted. Plaintext exists for development and LAN play tests
// only: every datagram or message can then be read and forged by anyone on the path, and a game
// server should say so loudly when it starts.
enum class SessionSecurity : std::uint8_t {
  encrypted,                  // keys from the join ticket; require_ticket must be set
  plaintext_for_development,  // no keys, no tags, no AEAD; tickets optional
};

}  // namespace tickwire::net
