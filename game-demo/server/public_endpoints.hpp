#pragma once
// Where players reach tickwire-server's game server: the host and ports that tickets and the
// lobby's MatchStart name, which are not always the ones it listens on (--public-host, a LAN
// address for a server bound to every interface, or what Agones picked).

#include <cstdint>
#include <string>

#include "server_options.hpp"

namespace arena {

struct PublicEndpoints {
  std::string host;
  std::uint16_t game_port = 0;            // UDP (ENet)
  std::uint16_t game_websocket_port = 0;  // TCP (gameplay over WebSocket)
};

// The game server's addresses as host:port, the way tickets and MatchStart name them.
struct GameServerAddresses {
  std::string game;            // gameplay over ENet
  std::string game_websocket;  // gameplay over WebSocket; empty when the server runs none
};

// From the flags: --public-host, else the first LAN address when bound to 0.0.0.0, else the bind
// address; the ports are the ones the server listens on.
PublicEndpoints public_endpoints(const ServerOptions& options);

GameServerAddresses game_server_addresses(const ServerOptions& options,
                                          const PublicEndpoints& endpoints);

}  // namespace arena
