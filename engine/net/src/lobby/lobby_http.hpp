#pragma once
// The plain HTTP side of the lobby's port: GET /healthz, GET /api/rooms (JSON), GET /metrics
// (Prometheus text), replays (GET /api/replays, GET/HEAD and PUT /replays/NAME: served_folder.hpp,
// replay_uploads.hpp), the operator's files (GET /api/files, GET/HEAD /files/NAME:
// served_folder.hpp) and the web lobby page (GET / = index.html from the web root). Other paths
// answer 404, other methods on these paths 405, requests over the per-address rate 429, and
// anything trying to leave a served folder 403 (or 404 for a name outside the folder's rule). Runs
// on the WebSocket server's io thread.

#include <functional>
#include <memory>
#include <vector>

#include "lobby/lobby_state.hpp"
#include "tickwire/net/lobby.hpp"
#include "websocket/http_handler.hpp"

namespace tickwire::net::lobby_detail {

struct LobbyMetrics;

// Every room, oldest first, as the lobby's thread last read them from the state: /api/rooms pages
// through it, so that the io thread never waits on the state (a networked store may block).
using RoomsSnapshot = std::shared_ptr<const std::vector<RoomInfo>>;

// `rooms` is called for /api/rooms; `counters` for /metrics; `lobby_turning` for /healthz, which
// answers 503 when it is false (the lobby's thread has stopped: the io thread alone answering
// would hide it). Every reference must outlive the handler's last call; the functions must not
// block.
struct LobbyHttpRoutes {
  websocket_detail::HttpRequestHandler requests;
  websocket_detail::HttpUploadGate uploads;  // PUT /replays/NAME
};

LobbyHttpRoutes make_lobby_http_handler(const LobbyConfig& config,
                                        std::function<RoomsSnapshot()> rooms, LobbyMetrics& metrics,
                                        std::function<LobbyCounters()> counters,
                                        std::function<bool()> lobby_turning);

}  // namespace tickwire::net::lobby_detail
