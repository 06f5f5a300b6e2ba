#pragma once
// The plain HTTP side of the lobby's port: GET /healthz, GET /api/rooms (JSON), GET /metrics
// (Prometheus text), replays (GET /api/replays, GET and PUT /replays/NAME: replay_files.hpp,
// replay_uploads.hpp) and the web lobby page (GET / = index.html from the web root). Other paths
// answer 404, other methods on these paths 405, requests over the per-address rate 429, and
// anything trying to leave the web root 403. Runs on the WebSocket server's io thread.

#include <functional>

#include "lobby/lobby_state.hpp"
#include "tickwire/net/lobby.hpp"
#include "websocket/http_handler.hpp"

namespace tickwire::net::lobby_detail {

struct LobbyMetrics;

// `counters` is called for /metrics; `lobby_turning` for /healthz, which answers 503 when it is
// false (the lobby's thread has stopped: the io thread alone answering would hide it). Every
// reference must outlive the handler's last call.
struct LobbyHttpRoutes {
  websocket_detail::HttpRequestHandler requests;
  websocket_detail::HttpUploadGate uploads;  // PUT /replays/NAME
};

LobbyHttpRoutes make_lobby_http_handler(const LobbyConfig& config, const LobbyState& state,
                                        LobbyMetrics& metrics,
                                        std::function<LobbyCounters()> counters,
                                        std::function<bool()> lobby_turning);

}  // namespace tickwire::net::lobby_detail
