#pragma once
// The HTTP stage of a connection to the WebSocket server's port: the optional TLS handshake, then
// plain requests (answered by the server's HttpRequestHandler, files streamed in chunks) until one
// asks to upgrade, which then becomes a WebSocketConnection.

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "websocket/server_shared.hpp"

namespace tickwire::net::websocket_detail {

// Starts the HTTP stage of an accepted connection from `address` (the client's IP address as
// admission counts it), which holds a pending-handshake slot (ended when the stage ends).
void start_http_session(boost::asio::ip::tcp::socket socket, std::string address,
                        std::shared_ptr<ServerShared> shared);

}  // namespace tickwire::net::websocket_detail
