#pragma once
// What a game server signs to register with a lobby, in one place for both sides (LobbyClient
// signs, LobbyService verifies). The statement binds everything the registration claims to the
// one challenge the lobby gave this connection and to the lobby's own key, so a signature proves
// nothing anywhere else: not on another connection, not to another lobby, not for another
// address or capacity. Layout (docs/protocol.md):
//
//   "tickwire/lobby/register-game-server/v2" 0x00
//   lobby key (32) | challenge (32) | capacity (u32, little-endian)
//   seal key present (1 byte: 0 or 1) | seal key (32, when present)
//   address length (u16, little-endian) | address bytes
//   WebSocket address length (u16, little-endian) | its bytes (0 and none: no WebSocket endpoint)

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/server_identity.hpp"

namespace tickwire::net::lobby_detail {

using RegistrationChallenge = std::array<std::uint8_t, 32>;
using RegistrationSignature = std::array<std::uint8_t, 64>;

struct RegistrationClaim {
  std::string_view address;
  std::uint32_t capacity = 0;
  std::optional<ServerSealPublicKey> seal_key;
  std::string_view websocket_address;  // empty: the server has no WebSocket gameplay endpoint
};

// The bytes signed; empty when an address is too long to state (over 65535 bytes).
std::vector<std::uint8_t> registration_statement(const TicketPublicKey& lobby_key,
                                                 const RegistrationChallenge& challenge,
                                                 const RegistrationClaim& claim);

RegistrationSignature sign_registration(const ServerIdentity& identity,
                                        const TicketPublicKey& lobby_key,
                                        const RegistrationChallenge& challenge,
                                        const RegistrationClaim& claim);

// True when `signature` is `key`'s over the statement of these values.
bool verify_registration(const ServerPublicKey& key, std::span<const std::uint8_t> signature,
                         const TicketPublicKey& lobby_key, const RegistrationChallenge& challenge,
                         const RegistrationClaim& claim);

// A fresh random challenge.
RegistrationChallenge new_registration_challenge();

}  // namespace tickwire::net::lobby_detail
