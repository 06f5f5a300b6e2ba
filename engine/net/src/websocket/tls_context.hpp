#pragma once
// The OpenSSL contexts of the WebSocket layer (WebSocketSecurity::tls), made from the configs:
// one per server (its certificate chain and key) and one per client (what it trusts). Only the
// files that run Asio include this.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "tickwire/net/status.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net::websocket_detail {

// TLS 1.2 or later, the chain and key from `tls` (checked to belong together), and OpenSSL's
// read and write buffers released while a connection is idle (SSL_MODE_RELEASE_BUFFERS): most
// lobby connections are idle most of the time.
Result<std::unique_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const WebSocketServerTls& tls);

// TLS 1.2 or later, the peer's certificate verified against tls.ca_file or else the system's
// store.
Result<std::unique_ptr<boost::asio::ssl::context>> make_client_tls_context(
    const WebSocketClientTls& tls);

// Sets what one client connection checks: the certificate must name `name` (a host name, sent as
// SNI too, or an IP address). False when OpenSSL refuses the name.
bool expect_server_name(SSL* ssl, const std::string& name);

}  // namespace tickwire::net::websocket_detail
