#pragma once
// The keys tickwire-server works with, from the files its flags name (or fresh ones where a file
// is optional): the lobby's ticket key, the game server's sealing key pair, and the identity key
// that signs LAN beacons and registrations with a lobby.

#include <optional>

#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/server_identity.hpp>
#include <tickwire/net/status.hpp>

#include "server_options.hpp"

namespace arena {

struct ServerKeys {
  // Signs tickets in the lobby, checks them in the game server (--key-file when the two run in
  // separate processes; fresh otherwise).
  tickwire::net::JoinTicketIssuer tickets;
  // The sealing key pair of the game server in this process; none when this process runs no game
  // server or it runs --insecure-plaintext.
  std::optional<tickwire::net::GameServerSealKeys> seal;
  // That server's public half, or the one --game-server-seal-key gives a lobby-only process.
  std::optional<tickwire::net::ServerSealPublicKey> seal_public_key;
};

// Loads (or creates) the keys the role in `options` needs, and warns on stderr when game sessions
// go unencrypted.
tickwire::net::Result<ServerKeys> load_server_keys(const ServerOptions& options);

// The key that signs LAN beacons and registrations with a lobby: the same one across restarts,
// because clients pin it and lobbies list it.
tickwire::net::Result<tickwire::net::ServerIdentity> identity_key(const ServerOptions& options);

}  // namespace arena
