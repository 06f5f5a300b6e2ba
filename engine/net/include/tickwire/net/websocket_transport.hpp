#pragma once
// WebSocket over TCP (RFC 6455), server and client, with the same Transport interface as ENet, so
// that a browser can take part as easily as a native client. Asio runs on one internal thread per
// transport; events still come out of poll() on the caller's thread.
//
// On the wire (default framing, WebSocketFraming::channel_prefix) every binary message starts with
// one byte, the channel, followed by the message. A browser sends
// `new Uint8Array([channel, ...bytes])`. A frame that is empty, is text, or names a channel the
// receiver does not have is a protocol error: the connection is closed (1002/1003) and the frame
// counted as malformed. A message over max_message_size closes the connection with 1009 (without
// reading the message; the rest of it is drained unread until the peer closes, at most
// handshake_timeout_ms) and is counted as oversize.
//
// WebSocketFraming::raw is for protocols that browsers and tools such as websocat speak by hand
// (the lobby): no prefix; a binary frame is a message on channel 0 and a text frame one on
// channel 1, and send() on channel 0 sends a binary frame, on channel 1 a text frame. Text frames
// must be valid UTF-8 (RFC 6455): a text message that is not closes the connection with 1007.
//
// A deliberate close carries its DisconnectReason: the close frame's reason text is the reason's
// name (to_string), so the other side reports the same reason. A refused upgrade is an HTTP
// answer instead: 403 for an Origin that is not allowed (the client reports `refused`) and 503
// when the server has no room (the client reports `server_full`).
//
// Transport security: TLS by default (wss:// and https://, OpenSSL, TLS 1.2 or later), set by
// `transport_security`. A server serves either TLS or plaintext on its port, never both:
// WebSocketSecurity::tls needs its certificate
// chain and key files, and a client verifies the server's certificate (against the system's CA
// store, or a CA file of its own for a self-signed deployment) and its host name. A client that
// speaks plaintext to a TLS port gets HTTP 400 (it reports `refused`); a TLS client whose
// handshake fails (certificate not trusted, wrong name, a plaintext server) reports `tls_failed`.
// WebSocketSecurity::insecure_plaintext (ws://) must be asked for by name: anyone on the path
// then reads and alters everything, join tickets included. For LAN tests only.
//
// What it does not do: WebSocket is one ordered, reliable byte stream, so every Delivery kind is
// delivered reliably and in order, and the channels of one connection share that order (a large
// message on one channel delays the others). No client certificates, no compression
// (permessage-deflate is off). Native clients can send any Origin they like: the allow-list
// protects browsers' users from other web sites, not the server from clients.
//
// Gameplay sessions. A server with `require_ticket` admits players by join ticket, as the ENet
// transport does, with the same TicketRequirement and SessionSecurity (session_security.hpp):
// right after the upgrade the server sends a random challenge; the client answers with its ticket
// and the challenge sealed with its client-to-server key; the server checks the ticket
// (signature, expiry, that it names this server, that it was not used before) and the seal, and
// only then uses the ticket up and reports the peer `connected`; it answers with the challenge
// sealed with the server-to-client key, so the client knows it reached the server the lobby meant.
// A ticket that is missing, malformed, forged, expired, for another server or used before, a
// proof that does not open, and no ticket within require_ticket.deadline_ms all close the
// connection with ticket_rejected (counted in rejected_tickets); a client without keys at an
// encrypted server is refused. From admission on (SessionSecurity::encrypted, the default) every
// message both ways is sealed with ChaCha20-Poly1305 under the direction's key, with a counter
// nonce that must only grow: 20 bytes more per message, the channel byte authenticated, not
// encrypted. A message that fails to open (forged, altered, replayed) is counted (dropped_forged,
// dropped_replayed) and its sender disconnected with protocol_error; it never reaches the game.
// The channel prefix framing is required. The session keys reach the client over the lobby
// connection; docs/security.md says what this protects and what it does not.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/session_security.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/transport.hpp"

namespace tickwire::net {

// How messages map onto WebSocket frames (see the top of this file).
enum class WebSocketFraming : std::uint8_t {
  channel_prefix,  // binary frames only, the first byte names the channel
  raw,             // no prefix: channel 0 = binary frames, channel 1 = text frames
};

// Settings both ends share.
struct WebSocketCommonConfig {
  // Channels per connection, 1..255. Both ends must use the same count: a message on a channel
  // the receiver does not have closes the connection with protocol_error. With raw framing it
  // must be 2 (binary, text). Default 2.
  std::size_t channel_count = 2;
  // Both ends must use the same framing. Default channel_prefix.
  WebSocketFraming framing = WebSocketFraming::channel_prefix;
  // Largest message accepted, in bytes, on send and on receive (the channel byte not counted).
  // A peer that sends a larger one is disconnected with message_too_large. 1 byte..64 MiB.
  // Default 256 KiB.
  std::size_t max_message_size = 256 * 1024;
  // Payload bytes queued to one peer and not yet written to its socket, at most; send() returns
  // queue_full beyond it, so a peer that cannot keep up costs bounded memory. At least
  // max_message_size. Default 4 MiB.
  std::size_t max_queued_bytes_per_peer = 4 * 1024 * 1024;
  // Received payload bytes from one peer waiting for poll(), at most. Beyond it the connection
  // stops reading until poll() catches up, so TCP slows the sender down instead of our memory
  // growing. Default 4 MiB.
  std::size_t max_unpolled_bytes_per_peer = 4 * 1024 * 1024;
  // The opening handshake and the closing handshake must each finish within this many
  // milliseconds. On a server the opening one counts from the TCP connection's arrival, so a
  // client that never completes its upgrade (or keeps sending plain HTTP requests instead) is
  // closed after it. A closing connection drains what its peer still sends (the rest of an
  // oversize message) for at most this long too, so that the close frame is not lost to a
  // reset. Default 5000.
  std::uint32_t handshake_timeout_ms = 5000;
  // A connection from which nothing has arrived for half this long, in milliseconds, is pinged;
  // if nothing has arrived after the full time it is closed with `timeout`. Default 10000.
  std::uint32_t idle_timeout_ms = 10000;
  // How often a connection is pinged, in milliseconds, to measure its round-trip time.
  // Default 1000.
  std::uint32_t ping_interval_ms = 1000;
  // How long destroying the transport waits for close handshakes, in milliseconds, before it
  // drops the remaining connections. 0 = do not wait. Default 1000.
  std::uint32_t shutdown_timeout_ms = 1000;

  Status validate() const;
};

// How a WebSocket connection is protected. Both ends must agree.
enum class WebSocketSecurity : std::uint8_t {
  tls,                 // wss:// and https://: encrypted, the server's certificate verified
  insecure_plaintext,  // ws:// and http://: readable and alterable by anyone on the path
};

// The server's TLS identity (WebSocketSecurity::tls).
struct WebSocketServerTls {
  // PEM file: the server's certificate first, then the intermediate CA certificates a client
  // needs to reach its root. Required with tls. Default empty.
  std::string certificate_chain_file;
  // PEM file: the certificate's private key, unencrypted (keep the file readable by the server
  // only). Required with tls. Default empty.
  std::string private_key_file;
};

// How a client checks the server (WebSocketSecurity::tls).
struct WebSocketClientTls {
  // PEM file of the CA certificates to trust instead of the system's store (/etc/ssl/certs): a
  // self-signed deployment gives its own CA here. Default empty: the system's store.
  std::string ca_file;
  // The name the server's certificate must carry, also sent as SNI. Default empty: server_host
  // (an IP address there is checked against the certificate's IP addresses, and no SNI is sent).
  std::string server_name;
};

struct WebSocketServerConfig {
  // IPv4 or IPv6 address to listen on: "0.0.0.0" for every IPv4 address, "::" for every address
  // of both families, "::1" for IPv6 loopback. Default "127.0.0.1" (opt in to the network).
  std::string bind_address = "127.0.0.1";
  // TCP port, 0 = any free port (read it back with ServerTransport::port()). Default 7778.
  std::uint16_t port = 7778;
  // Open WebSocket connections at most, 1..100000. Further upgrades are answered with HTTP 503
  // (the client reports server_full). Default 256.
  std::size_t max_connections = 256;
  // Open WebSocket connections from one IP address at most; further upgrades from it are answered
  // with HTTP 503 as well. Default 8 (several players behind one NAT).
  std::size_t max_connections_per_address = 8;
  // TCP connections that have not finished their upgrade yet, at most in total; per address at
  // most max_connections_per_address. Beyond either, new TCP connections are closed at once, so
  // a flood of idle sockets cannot take every slot. Default 64.
  std::size_t max_pending_handshakes = 64;
  // New TCP connections from one IP address: connection_burst_per_address at once, then
  // connections_per_address_per_second; beyond that a connection is closed at once (counted as
  // dropped_rate_limited), so that one address cannot churn through the server's handshakes.
  // Defaults 64 and 16.
  std::size_t connection_burst_per_address = 64;
  double connections_per_address_per_second = 16.0;
  // A TCP connection that has sent nothing this long after it arrived, in milliseconds, is
  // closed; its request header must then be complete within common.handshake_timeout_ms of its
  // arrival. Together they close slowloris connections (idle, or dripping a header). Bytes that
  // are not HTTP are answered 400 and a header over 8 KiB 431, and the connection is closed.
  // At least 1; above common.handshake_timeout_ms that one applies. Default 2000.
  std::uint32_t first_byte_timeout_ms = 2000;
  // Origins a browser may connect from, exactly as browsers send them ("https://game.example",
  // "http://localhost:8080"); "*" allows any. An upgrade whose Origin is not listed is answered
  // with HTTP 403 (the client reports refused). Requests without an Origin header (native
  // clients) are always allowed. Default empty: no browser may connect.
  std::vector<std::string> allowed_origins;
  // Set to admit only peers with a valid join ticket (see the top of this file). Default: none
  // required (then security must be plaintext_for_development). A game server that also listens
  // on ENet gives both the same requirement and joins them with combine_servers, so that a ticket
  // is used once across both.
  std::optional<TicketRequirement> require_ticket;
  // With require_ticket: the largest message, in bytes, a connection may send before it is
  // admitted, that is its first one, the ticket and its proof (at most 1067 bytes). A larger one
  // closes the connection with 1009 (message_too_large, counted in dropped_oversize) as soon as
  // its frame header arrives, so a peer nobody admitted cannot make the server buffer
  // common.max_message_size. Once admitted a peer may send up to common.max_message_size.
  // 1067..65536. Default 2048.
  std::size_t max_message_size_before_admission = 2048;
  // Default encrypted: every session needs a ticket carrying keys sealed to this server.
  // plaintext_for_development without require_ticket is the plain transport (the lobby's).
  SessionSecurity security = SessionSecurity::encrypted;
  // TLS (the default) or plaintext, for every connection on the port. Default tls.
  WebSocketSecurity transport_security = WebSocketSecurity::tls;
  // Certificate and key files, read once by make_websocket_server(); used with tls only.
  WebSocketServerTls tls;
  WebSocketCommonConfig common;

  Status validate() const;
};

struct WebSocketClientConfig {
  // Server host name, IPv4 or IPv6 address ("::1"). Default "127.0.0.1".
  std::string server_host = "127.0.0.1";
  // Server TCP port. Default 7778.
  std::uint16_t server_port = 7778;
  // Request target of the upgrade. Must start with '/'. Default "/".
  std::string path = "/";
  // Sent as the Origin header when not empty, the way a browser page would. Default empty (none).
  std::string origin;
  // Resolving the host and opening the TCP connection must finish within this many
  // milliseconds, or the client reports connect_failed; the upgrade then has
  // common.handshake_timeout_ms. Default 5000.
  std::uint32_t connect_timeout_ms = 5000;
  // The join ticket from the lobby, presented after the upgrade (servers that require one);
  // the session handshake then has common.handshake_timeout_ms. Empty: a plain WebSocket client.
  std::vector<std::byte> join_ticket;
  // The session keys the lobby handed out with the ticket (LobbyEvent::match.session_keys).
  // Without them the client can only join a server that runs plaintext_for_development.
  std::optional<SessionKeys> session_keys;
  // TLS (the default) or plaintext; must match the server's. Default tls.
  WebSocketSecurity transport_security = WebSocketSecurity::tls;
  // How the server's certificate is checked; used with tls only.
  WebSocketClientTls tls;
  WebSocketCommonConfig common;

  Status validate() const;
};

// Creates a server listening as configured. Fails with a message if the config is invalid, the
// certificate or key file cannot be read (or do not belong together), or the address cannot be
// bound.
Result<std::unique_ptr<ServerTransport>> make_websocket_server(const WebSocketServerConfig& config);
// Creates a client and starts connecting; a `connected` (or `disconnected` with connect_failed,
// tls_failed, refused, server_full or ticket_rejected) event follows from poll(). Fails with a
// message if the config is invalid or tls.ca_file cannot be read.
Result<std::unique_ptr<ClientTransport>> make_websocket_client(const WebSocketClientConfig& config);

}  // namespace tickwire::net
