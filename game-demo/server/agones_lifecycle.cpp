// tickwire-server under Agones: the pieces of its lifecycle that talk to the SDK sidecar.

#include "agones_lifecycle.hpp"

#include <chrono>
#include <cstdio>

namespace arena {

namespace net = tickwire::net;

net::Result<std::unique_ptr<net::AgonesSdk>> start_agones(const ServerOptions& options) {
  auto port = options.agones_port != 0 ? net::Result<std::uint16_t>(options.agones_port)
                                       : net::agones_sdk_port_from_environment();
  if (!port) return net::Status::error(port.error());
  net::AgonesSdkConfig config;
  config.port = port.value();
  return net::AgonesSdk::start(config);
}

// Under Agones, players reach the node's address and the host ports Agones picked, which the
// GameServer record names: port "game" (ENet over UDP, and the WebSocket's too when it has no
// entry of its own, as with protocol TCPUDP) and "game-websocket" (TCP, docs/deploy/k8s). Without
// the record (the sidecar does not answer within 30 s) the server goes on with `fallback` and says
// so.
PublicEndpoints endpoints_from_agones(net::AgonesSdk& agones, PublicEndpoints fallback) {
  auto record = agones.game_server(std::chrono::seconds(30));
  if (!record) {
    std::fprintf(stderr, "tickwire-server: --agones: %s; tickets name %s instead\n",
                 record.error().c_str(), fallback.host.c_str());
    return fallback;
  }
  PublicEndpoints endpoints = fallback;
  endpoints.host = record->address;
  if (const auto game = record->port("game")) {
    endpoints.game_port = *game;
    endpoints.game_websocket_port = *game;
  }
  if (const auto websocket = record->port("game-websocket")) {
    endpoints.game_websocket_port = *websocket;
  }
  std::printf("agones: GameServer %s (%s) is reached at %s, port %u\n", record->name.c_str(),
              record->state.c_str(), endpoints.host.c_str(),
              static_cast<unsigned>(endpoints.game_port));
  return endpoints;
}

void say_goodbye_to_agones(net::AgonesSdk& agones, ArenaServer& game, LobbyLink* link_to_lobby) {
  const auto lobby_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (link_to_lobby != nullptr && link_to_lobby->has_pending_reports() &&
         std::chrono::steady_clock::now() < lobby_deadline) {
    game.run_for(std::chrono::milliseconds(50));
    link_to_lobby->poll(static_cast<std::uint32_t>(game.stats().players));
  }
  if (link_to_lobby != nullptr) {
    std::printf(link_to_lobby->has_pending_reports()
                    ? "agones: the lobby is away; the match end was not reported to it\n"
                    : "agones: the match end went to the lobby\n");
  }
  agones.shutdown();
  if (agones.wait_until_shut_down(std::chrono::seconds(5))) {
    std::printf("agones: Shutdown confirmed\n");
  } else {
    std::printf("agones: Shutdown not confirmed within 5 s (the log says why); exiting anyway\n");
  }
}

}  // namespace arena
