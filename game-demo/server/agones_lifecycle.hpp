#pragma once
// tickwire-server --agones: starting the SDK client, reading where players reach this server from
// the GameServer record, and the goodbye at exit. The tick loop never waits on the sidecar except
// here, at start and at exit.

#include <cstdint>
#include <memory>
#include <string>

#include <tickwire/net/agones_sdk.hpp>

#include "arena_server.hpp"
#include "lobby_link.hpp"
#include "public_endpoints.hpp"
#include "server_options.hpp"

namespace arena {

// The SDK client on --agones-port, else AGONES_SDK_HTTP_PORT, else Agones' default.
tickwire::net::Result<std::unique_ptr<tickwire::net::AgonesSdk>> start_agones(
    const ServerOptions& options);

// Under Agones, players reach the node's address and the host ports Agones picked, which the
// GameServer record names. Without the record (the sidecar does not answer within 30 s) the
// server goes on with `fallback` and says so.
PublicEndpoints endpoints_from_agones(tickwire::net::AgonesSdk& agones, PublicEndpoints fallback);

// The process is about to exit under Agones: the lobby hears of the match's end first (the room
// goes back to it), then the sidecar hears Shutdown. Neither waits long for a peer that is away.
// `link_to_lobby` may be null (no lobby link).
void say_goodbye_to_agones(tickwire::net::AgonesSdk& agones, ArenaServer& game,
                           LobbyLink* link_to_lobby);

}  // namespace arena
