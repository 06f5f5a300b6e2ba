#pragma once
// Tickwire's session handshake over an ordered, reliable stream (the WebSocket gameplay path),
// the counterpart of handshake.hpp for ENet. A stream has no spoofed sources and no amplification
// to fear (TCP's own handshake proved the address), so no cookie; what it needs is that a ticket
// copied off the wire is worth nothing on another connection. Every message goes on channel 0:
//
//   client                                   server
//   (upgrade done)                           CHALLENGE: 16 random bytes for this connection
//   HELLO: the join ticket, and a PROOF: ──► the ticket checked (signature, expiry, server, not
//     the challenge sealed with the            used), its session keys opened, the PROOF opened
//     client-to-server key (counter 0)         with them: only then is the ticket used up and the
//                                              peer reported `connected`
//                                       ◄──  ACCEPT: the challenge sealed with the server-to-client
//                                              key (counter 0), so the client knows this server
//                                              opened its ticket; or REFUSAL (why the ticket was
//                                              refused) and a close with ticket_rejected (a close
//                                              with refused for a client without keys)
//   then every message, both ways, sealed with the direction's key (counters 1, 2, ...).
//
// In a plaintext_for_development session HELLO carries no PROOF and ACCEPT nothing sealed.
// Every handshake message starts with kMagic and a version. This file encodes and decodes them;
// it is pure and fuzzed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "session/handshake.hpp"
#include "session/session_crypto.hpp"

namespace tickwire::net::session::stream {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kChallengeBytes = 16;
inline constexpr std::size_t kProofBytes = kChallengeBytes + kSealOverhead;
inline constexpr std::size_t kHeaderBytes = 4;  // magic, version, type
// The largest HELLO: header, flags, ticket length, ticket, proof.
inline constexpr std::size_t kMaxHelloBytes = kHeaderBytes + 3 + kMaxTicketBytes + kProofBytes;
// The channel the handshake uses, and the one the PROOF and ACCEPT are sealed for.
inline constexpr std::uint8_t kHandshakeChannel = 0;

using Challenge = std::array<std::uint8_t, kChallengeBytes>;
using Proof = std::array<std::uint8_t, kProofBytes>;

enum class MessageType : std::uint8_t { challenge = 1, hello = 2, accept = 3, refusal = 4 };

struct Hello {
  std::span<const std::uint8_t> ticket;  // points into the decoded message
  std::optional<Proof> proof;            // absent from a client without session keys
};

struct Accept {
  std::optional<Proof> sealed_challenge;  // absent from a plaintext server
};

std::vector<std::uint8_t> encode_challenge(const Challenge& challenge);
std::optional<Challenge> decode_challenge(std::span<const std::uint8_t> message);

std::vector<std::uint8_t> encode_hello(std::span<const std::byte> ticket,
                                       const std::optional<Proof>& proof);
std::optional<Hello> decode_hello(std::span<const std::uint8_t> message);

std::vector<std::uint8_t> encode_accept(const std::optional<Proof>& sealed_challenge);
std::optional<Accept> decode_accept(std::span<const std::uint8_t> message);

// REFUSAL: one byte, the TicketRefusal. Not sealed: the server may not have the ticket's keys, and
// the client learns only why its own ticket was refused. A detail this side does not know reads
// as TicketRefusal::none.
std::vector<std::uint8_t> encode_refusal(TicketRefusal refusal);
std::optional<TicketRefusal> decode_refusal(std::span<const std::uint8_t> message);

// The challenge sealed as the first message (counter 0) of `sealer`'s direction, on the handshake
// channel, reliable.
Proof seal_challenge(MessageSealer& sealer, const Challenge& challenge);
// True if `proof` opens with `opener` as its direction's first message and holds `challenge`.
// The opener then expects counter 1 next, as the session goes on.
bool opens_to_challenge(MessageOpener& opener, Proof proof, const Challenge& challenge);

}  // namespace tickwire::net::session::stream
