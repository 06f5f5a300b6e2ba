#pragma once
// Secret keys in files, never on the command line (where `ps` shows them to every user):
// - the lobby's ticket-signing key, so that a lobby and a game server started separately (or on
//   two machines) agree on it: the lobby signs with the secret key, the game server checks with
//   its public half;
// - a game server's sealing key pair: the server opens the session keys in each ticket with it;
//   the lobby learns only its public half;
// - the game server's identity, which signs its LAN beacons and its registration with a lobby.
//   It must stay the same across restarts, because clients pin it and lobbies list it, so by
//   default it lives in the user's config directory.
// Each is one line of hex, created with mode 0600 when missing.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/lan_discovery.hpp>
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

// The same for a server's identity key (LAN beacons, registration with a lobby).
tickwire::net::Result<tickwire::net::ServerIdentity> load_or_create_identity(
    const std::string& path);

// `file` in Tickwire's directory under the user's config directory ($XDG_CONFIG_HOME/tickwire,
// else ~/.config/tickwire), which is created (mode 0700) when missing.
tickwire::net::Result<std::string> config_file_path(const std::string& file);

}  // namespace arena
