#pragma once
// tickwire-server's game server (--role game or all) and what runs beside it: the line to a lobby
// in another process (registration), the simulated network conditions in front of its port,
// /metrics, and the LAN beacon. Each is set up from the flags and said on stdout.

#include <memory>

#include <tickwire/net/agones_sdk.hpp>
#include <tickwire/net/lan_discovery.hpp>
#include <tickwire/net/lobby.hpp>
#include <tickwire/net/status.hpp>
#include <tickwire/net/udp_link_simulator.hpp>

#include "arena_server.hpp"
#include "game_metrics.hpp"
#include "lobby_link.hpp"
#include "public_endpoints.hpp"
#include "replay_upload.hpp"
#include "server_keys.hpp"
#include "server_options.hpp"

namespace arena {

// Destroyed in reverse order of the members: what the game server's callbacks use (the lobby
// link) outlives it, and the metrics endpoint, which reads its figures, goes before it.
struct GameRole {
  std::unique_ptr<LobbyLink> link_to_lobby;  // --lobby: the lobby it registered with
  // --replay-upload-token: the replays it sends to that lobby (the recorder tells it of each new
  // one, also while the game server shuts down).
  std::unique_ptr<ReplayUploader> replay_uploads;
  std::unique_ptr<ArenaServer> game;
  std::unique_ptr<tickwire::net::UdpLinkSimulator> link;  // simulated conditions, else none
  std::unique_ptr<GameMetrics> metrics;
  std::unique_ptr<tickwire::net::LanBeacon> beacon;
};

// Starts the game server that players reach at `endpoints`. Match starts and ends go to `lobby`
// when it runs in this process, else to the lobby of --lobby; `agones`, when given, hears of
// every match start (Allocate). Both must outlive the game server. An error names the flag or
// the piece it comes from.
tickwire::net::Result<GameRole> start_game_role(const ServerOptions& options,
                                                const ServerKeys& keys,
                                                const PublicEndpoints& endpoints,
                                                tickwire::net::LobbyServer* lobby,
                                                tickwire::net::AgonesSdk* agones);

}  // namespace arena
