// Where players reach tickwire-server's game server, from its flags.

#include "public_endpoints.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

namespace arena {

namespace {

// The address players on the LAN reach this machine at: the first IPv4 address of an interface
// that is up and not loopback, or loopback when there is none.
std::string lan_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found = "127.0.0.1";
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* address = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    inet_ntop(AF_INET, &address->sin_addr, text, sizeof(text));
    if (std::string(text).rfind("127.", 0) == 0) continue;
    found = text;
    break;
  }
  freeifaddrs(list);
  return found;
}

std::string public_host(const ServerOptions& options) {
  if (!options.public_host.empty()) return options.public_host;
  if (options.bind == "0.0.0.0") return lan_address();
  return options.bind;
}

}  // namespace

PublicEndpoints public_endpoints(const ServerOptions& options) {
  return {public_host(options), options.game_port,
          options.game_websocket_port != 0 ? options.game_websocket_port : options.game_port};
}

GameServerAddresses game_server_addresses(const ServerOptions& options,
                                          const PublicEndpoints& endpoints) {
  return {
      .game = endpoints.host + ":" + std::to_string(endpoints.game_port),
      // Only a game server in this process (or a lobby told so) names a WebSocket endpoint.
      .game_websocket = options.game_websocket
                            ? endpoints.host + ":" + std::to_string(endpoints.game_websocket_port)
                            : "",
  };
}

}  // namespace arena
