#pragma once
// Tickwire's connection handshake, before ENet gives a connection attempt a slot (modelled on
// netcode.io's request/challenge and GameNetworkingSockets' padded challenge):
//
//   client                                   server
//   HELLO (padded to kHelloBytes)     ──►    no state kept; answers with
//                                     ◄──    CHALLENGE: a cookie, a keyed hash of the client's
//                                            address, port and the time (smaller than HELLO)
//   RESPONSE (cookie, ciphers the     ──►    cookie checked (the client receives at its address),
//    client can use, join ticket)            then the ticket (signature, expiry, replay; its
//                                            session keys opened); the attempt is remembered
//                                     ◄──    ACCEPT with the cipher picked, tagged with the
//                                            server-to-client key over the cookie, the client's
//                                            offer and the pick (or DENY
//                                            with a reason, and for a refused ticket why; both
//                                            smaller than the RESPONSE)
//   ENet CONNECT, tagged with the client-to-server key, from the same address: only now does
//   ENet allocate a peer.
//
// Every handshake datagram starts with kMagic, which sets the COMPRESSED flag of an ENet header:
// Tickwire never compresses, so no ENet datagram of ours can be taken for one. This file encodes
// and decodes them and makes and checks cookies; it is pure and fuzzed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "session/session_crypto.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net::session {

inline constexpr std::array<std::uint8_t, 2> kMagic = {0x54, 0x57};  // "TW"
inline constexpr std::uint8_t kHandshakeVersion = 2;
// A HELLO is padded to this size so that no answer to an unverified address is larger than what
// it sent.
inline constexpr std::size_t kHelloBytes = 96;
inline constexpr std::size_t kCookieBytes = 20;     // 4 bytes of time slot, 16 of keyed hash
inline constexpr std::size_t kAcceptTagBytes = 16;  // proves the server opened the ticket's keys
inline constexpr std::size_t kMaxTicketBytes = 1024;

enum class HandshakeType : std::uint8_t {
  hello = 1,
  challenge = 2,
  response = 3,
  accept = 4,
  deny = 5
};

using Cookie = std::array<std::uint8_t, kCookieBytes>;

// Why a server denied a verified attempt (the client's transport maps it to a DisconnectReason).
enum class DenyReason : std::uint8_t {
  refused = 1,          // wrong protocol id, or a client without keys for an encrypted server
  server_full = 2,      // no free slot, or too many attempts from this address
  ticket_rejected = 3,  // the ticket is missing, forged, expired, reused or for another server
};

struct HandshakePacket {
  HandshakeType type = HandshakeType::hello;
  std::uint32_t protocol_id = 0;              // hello, response
  Cookie cookie{};                            // challenge, response
  std::span<const std::uint8_t> ticket;       // response (points into the decoded datagram)
  bool offers_aes = false;                    // response: the client can seal with AES-256-GCM
  bool encrypted = false;                     // accept: the session is encrypted
  Cipher cipher = Cipher::chacha20_poly1305;  // accept, when encrypted
  std::array<std::uint8_t, kAcceptTagBytes> accept_tag{};  // accept, when encrypted
  DenyReason deny = DenyReason::refused;                   // deny
  TicketRefusal refusal = TicketRefusal::none;             // deny with ticket_rejected
};

// True if `datagram` starts like a handshake datagram (it may still fail to decode).
bool is_handshake(std::span<const std::uint8_t> datagram);
std::optional<HandshakePacket> decode_handshake(std::span<const std::uint8_t> datagram);

std::vector<std::uint8_t> encode_hello(std::uint32_t protocol_id);
std::vector<std::uint8_t> encode_challenge(const Cookie& cookie);
std::vector<std::uint8_t> encode_response(std::uint32_t protocol_id, const Cookie& cookie,
                                          bool offers_aes, std::span<const std::byte> ticket);
// `cipher` is empty for a plaintext session.
std::vector<std::uint8_t> encode_accept(std::optional<Cipher> cipher,
                                        const std::array<std::uint8_t, kAcceptTagBytes>& tag);
// `refusal` goes on the wire only with DenyReason::ticket_rejected (as a second body byte).
std::vector<std::uint8_t> encode_deny(DenyReason reason,
                                      TicketRefusal refusal = TicketRefusal::none);

// The ACCEPT's tag: a keyed hash of the cookie, the client's offer (as the server read it) and the
// cipher picked, under the server-to-client tag key. The client knows then that the server could
// open its ticket, and that nobody on the path changed its offer or the pick (a downgrade to
// ChaCha20-Poly1305 an attacker forced would fail here, not go unnoticed).
std::array<std::uint8_t, kAcceptTagBytes> accept_tag(const std::array<std::uint8_t, 16>& tag_key,
                                                     const Cookie& cookie, bool offers_aes,
                                                     Cipher cipher);

// Makes and checks stateless cookies with a secret that lives as long as the server.
class CookieJar {
 public:
  // `lifetime_ms`: a cookie is accepted at least this long, and at most twice as long.
  explicit CookieJar(std::uint32_t lifetime_ms);
  Cookie make(std::uint32_t ipv4, std::uint16_t port, std::uint32_t protocol_id,
              std::uint64_t now_ms) const;
  bool check(const Cookie& cookie, std::uint32_t ipv4, std::uint16_t port,
             std::uint32_t protocol_id, std::uint64_t now_ms) const;

 private:
  Cookie make_for_slot(std::uint32_t slot, std::uint32_t ipv4, std::uint16_t port,
                       std::uint32_t protocol_id) const;

  std::array<std::uint8_t, 32> secret_{};
  std::uint32_t lifetime_ms_;
};

}  // namespace tickwire::net::session
