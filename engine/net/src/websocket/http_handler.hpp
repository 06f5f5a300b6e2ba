#pragma once
// Plain HTTP requests that arrive on a WebSocket server's port (anything that is not an upgrade).
// The listener hands each to a handler: by default one that answers 404; the lobby plugs its
// routes (health, rooms, metrics, the web page) in here without touching the listener.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <string>

namespace tickwire::net::websocket_detail {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Runs on the io thread, so it must not block. `client_address` is the client's IP address (for
// per-address rate limits). The listener sets the response's version, keep-alive and
// Content-Length from the request and body; the handler sets status, headers and body.
// A request whose body is over the listener's limit (16 KiB) never reaches the handler: the
// listener answers 413 itself.
using HttpRequestHandler =
    std::function<HttpResponse(const HttpRequest& request, const std::string& client_address)>;

// 404 for every request.
HttpResponse answer_not_found(const HttpRequest& request, const std::string& client_address);

}  // namespace tickwire::net::websocket_detail
