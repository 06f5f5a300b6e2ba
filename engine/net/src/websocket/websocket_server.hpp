#pragma once
// The WebSocket server as services inside Tickwire (the lobby) see it: the public ServerTransport
// plus what only they need, a handler for plain HTTP requests and close codes of their choosing.
// Beast-free, so a service compiles no Asio template.

#include <cstdint>
#include <memory>

#include "tickwire/net/websocket_transport.hpp"
#include "websocket/http_handler.hpp"

namespace tickwire::net::websocket_detail {

class WebSocketServerTransport : public ServerTransport {
 public:
  // Like disconnect(), but the close frame carries `code` (1003 unsupported data, 1007 invalid
  // payload, 1008 policy violation...). With `after_writes` false the queued messages are dropped
  // and the close goes out at once: for a peer that does not read, whose writes never finish.
  virtual void disconnect_with_code(PeerId peer, DisconnectReason reason, std::uint16_t code,
                                    bool after_writes) = 0;
};

// make_websocket_server() with another handler for plain HTTP requests.
Result<std::unique_ptr<WebSocketServerTransport>> make_websocket_server(
    const WebSocketServerConfig& config, HttpRequestHandler http_handler);

}  // namespace tickwire::net::websocket_detail
