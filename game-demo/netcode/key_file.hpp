#pragma once
// The lobby's ticket-signing key in a file, so that a lobby and a game server started separately
// (or on two machines) agree on it: the lobby signs with the secret key, the game server checks
// with its public half. One line of hex; created with mode 0600 when missing.

#include <string>

#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/status.hpp>

namespace arena {

// Reads the key in `path`, or, when the file does not exist, generates one and writes it there.
tickwire::net::Result<tickwire::net::JoinTicketIssuer> load_or_create_key(const std::string& path);

}  // namespace arena
