#pragma once
// Which transport carries gameplay. It goes over ENet (UDP); a gameplay client whose UDP cannot
// reach the server (a blocked port, an IPv6-only client: ENet 1.3 is IPv4 only) falls back to
// WebSocket on its own, behind the same ClientTransport, so game code does not change. A game
// server listens on both at once through one ServerTransport (combine_servers), with the same
// join tickets and session security on both. (Lobby and chat always use WebSocket: LobbyClient.)
//
// What it does not do: switch transports in the middle of a connection. The choice is made while
// connecting; a connection that later drops is reported as dropped.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/transport.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {

enum class TransportKind : std::uint8_t { enet, websocket };

struct TrafficPolicy {
  // The transport a gameplay client tries first. Default enet.
  TransportKind gameplay = TransportKind::enet;
  // A gameplay client whose ENet attempt fails with connect_failed (no answer within
  // enet.connect_timeout_ms, a handshake that stalled before the server could admit it, or a
  // server host with no IPv4 address: ENet 1.3 is IPv4 only) tries WebSocket next. Default true.
  bool gameplay_falls_back_to_websocket = true;
};

struct GameplayClientConfig {
  TrafficPolicy policy;
  // The game server's two endpoints, as the lobby hands them out: server_host and server_port of
  // each must be named (nothing defaults to localhost; validate() says which is missing). ENet is
  // used when the policy says so; WebSocket when it says so, or as the fallback.
  // enet.connect_timeout_ms is how long UDP may go unanswered before the fallback starts:
  // default 1500 here. The caller's value is kept.
  EnetClientConfig enet = default_enet();
  WebSocketClientConfig websocket = default_websocket();
  // The join ticket and its session keys from the lobby (LobbyEvent::match), presented on
  // whichever transport carries the connection; leave the ones in `enet` and `websocket` empty.
  // A ticket admits one connection per game server, and is used up when that connection is
  // admitted, not when a handshake shows it: an ENet attempt that reached the server but stalled
  // (its answers lost) only held the ticket, so the WebSocket fallback gets in with the same
  // ticket and no lobby round trip. An ENet attempt that fails after the server may have admitted
  // it ends with timeout, not connect_failed, and does not fall back: a new connection then needs
  // a fresh ticket from the lobby, as after any dropped connection.
  std::vector<std::byte> join_ticket;
  std::optional<SessionKeys> session_keys;

  Status validate() const;

  static EnetClientConfig default_enet() {
    EnetClientConfig config;
    config.server_host.clear();
    config.server_port = 0;
    config.connect_timeout_ms = 1500;
    return config;
  }
  static WebSocketClientConfig default_websocket() {
    WebSocketClientConfig config;
    config.server_host.clear();
    config.server_port = 0;
    return config;
  }
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
// peers with ids unique across them, send() and ticket_of() to wherever the peer is. When the
// servers require tickets they must all require them, naming the same server_address and lobby
// key (else an error): they then share one memory of used tickets, so that a ticket used on one
// is refused on the others.
Result<std::unique_ptr<ServerTransport>> combine_servers(
    std::vector<std::unique_ptr<ServerTransport>> servers);

}  // namespace tickwire::net
