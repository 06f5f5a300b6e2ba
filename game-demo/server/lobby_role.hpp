#pragma once
// tickwire-server's lobby (--role lobby or all): its config from the flags, its state (this
// process's memory or a Redis server), started, and what it serves said on stdout.

#include <memory>
#include <string>

#include <tickwire/net/lobby.hpp>
#include <tickwire/net/status.hpp>

#include "public_endpoints.hpp"
#include "server_keys.hpp"
#include "server_options.hpp"

namespace arena {

// Starts the lobby. `host` is where players reach this machine (the web page's Origin); matches
// go to `local`, the game server in this process (--role lobby names its own with
// --game-server), and to the game servers that register. An error names the flag it comes from.
tickwire::net::Result<std::unique_ptr<tickwire::net::LobbyServer>> start_lobby(
    const ServerOptions& options, const ServerKeys& keys, const std::string& host,
    const GameServerAddresses& local);

}  // namespace arena
