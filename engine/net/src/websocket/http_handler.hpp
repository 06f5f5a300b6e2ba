#pragma once
// Plain HTTP requests that arrive on a WebSocket server's port (anything that is not an upgrade).
// The listener hands each to a handler; today the only one answers 404, and later ones (health
// checks, metrics) plug in here without touching the listener.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>

#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net::websocket_detail {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Runs on the io thread, so it must not block. The listener sets the response's version,
// keep-alive and Content-Length from the request and body; the handler sets status, headers and
// body.
using HttpRequestHandler = std::function<HttpResponse(const HttpRequest& request)>;

// 404 for every request.
HttpResponse answer_not_found(const HttpRequest& request);

// make_websocket_server() with another handler for plain HTTP requests.
Result<std::unique_ptr<ServerTransport>> make_websocket_server(const WebSocketServerConfig& config,
                                                               HttpRequestHandler http_handler);

}  // namespace tickwire::net::websocket_detail
