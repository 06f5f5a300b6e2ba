#pragma once
// Which transport carries which traffic. Gameplay goes over ENet (UDP); lobby and chat over
// WebSocket; and a gameplay client whose UDP cannot reach the server (a browser, a blocked port)
// falls back to WebSocket on its own, behind the same ClientTransport, so game code does not
// change. A game server listens on both at once through one ServerTransport.
//
// What it does not do: switch transports in the middle of a connection. The choice is made while
// connecting; a connection that later drops is reported as dropped.

#include <cstdint>
#include <memory>
#include <vector>

#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/transport.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {

enum class TrafficClass : std::uint8_t { gameplay, lobby };
enum class TransportKind : std::uint8_t { enet, websocket };

struct TrafficPolicy {
  TransportKind gameplay = TransportKind::enet;
  TransportKind lobby = TransportKind::websocket;
  // A gameplay client that hears nothing over UDP within udp_timeout_ms retries over WebSocket.
  bool gameplay_falls_back_to_websocket = true;
  std::uint32_t udp_timeout_ms = 1500;

  TransportKind kind_for(TrafficClass traffic) const {
    return traffic == TrafficClass::gameplay ? gameplay : lobby;
  }
};

struct GameplayClientConfig {
  TrafficPolicy policy;
  EnetClientConfig enet;            // used when the policy says ENet
  WebSocketClientConfig websocket;  // used when it says WebSocket, or as the fallback

  Status validate() const;
};

// A client of `config.policy.gameplay`'s kind, falling back as the policy says. Reports
// `connected` once one transport is connected; `disconnected` with connect_failed only when
// every allowed transport failed.
class GameplayClient : public ClientTransport {
 public:
  // The transport carrying the connection now.
  virtual TransportKind kind() const = 0;
};
Result<std::unique_ptr<GameplayClient>> make_gameplay_client(const GameplayClientConfig& config);

// One ServerTransport over several (an ENet and a WebSocket server): events from all of them,
// peers with ids unique across them, send() to wherever the peer is.
Result<std::unique_ptr<ServerTransport>> combine_servers(
    std::vector<std::unique_ptr<ServerTransport>> servers);

}  // namespace tickwire::net
