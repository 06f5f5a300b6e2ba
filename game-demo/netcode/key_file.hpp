#pragma once
// Secret keys in files, so that programs started separately (or on two machines) keep or share
// them: the lobby's ticket-signing key (the lobby signs with the secret key, a game server checks
// with its public half) and a game server's sealing key pair (the server opens the session keys
// in each ticket with it; the lobby learns only its public half). One line of hex; created with
// mode 0600 when missing. Secret keys never go on a command line, where `ps` shows them.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/status.hpp>

namespace arena {

// Reads the ticket key in `path`, or, when the file does not exist, generates one and writes it
// there.
tickwire::net::Result<tickwire::net::JoinTicketIssuer> load_or_create_key(const std::string& path);

// The same for a game server's sealing key pair (the file holds its secret half).
tickwire::net::Result<tickwire::net::GameServerSealKeys> load_or_create_seal_keys(
    const std::string& path);

// A public key as hex (what a game server prints, and an operator passes to a lobby), and back.
std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<tickwire::net::ServerSealPublicKey> parse_seal_public_key(std::string_view hex);

}  // namespace arena
