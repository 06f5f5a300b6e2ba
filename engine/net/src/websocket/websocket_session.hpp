#pragma once
// Gameplay sessions over WebSocket: ticket admission and sealed messages, as a layer over the
// plain WebSocket transports (docs/security.md, session/stream_handshake.hpp). The plain transport
// below keeps doing what it does (framing, limits, backpressure, close reasons); this layer holds
// back a connection's `connected` event until its ticket is verified, and seals and opens every
// message with the ticket's session keys.
//
// A message that fails to open after admission (forged, altered, replayed) is counted and its
// sender disconnected with protocol_error: on one ordered, reliable stream the message cannot be
// sent again, so the session could only go on with a hole in its reliable data. Nothing of it
// reaches the game.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

#include "tickwire/net/websocket_transport.hpp"
#include "websocket/websocket_server.hpp"

namespace tickwire::net::websocket_detail {

// How long a poll() that waits sleeps in the transport below at once while a handshake is under
// way (a client's own, or connections waiting for their tickets), so that its deadline is kept.
inline constexpr std::chrono::milliseconds kDeadlineSlice{20};

// A received message as the bytes the session codecs read.
inline std::span<const std::uint8_t> octets_of(const Payload& payload) {
  return {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()};
}

// Whether a config asks for the session layer: a ticket is required (server; an encrypted server
// requires one); a ticket is given (client). Without, the plain transport is used as is.
bool wants_sessions(const WebSocketServerConfig& config);
bool wants_sessions(const WebSocketClientConfig& config);

// The config of the plain transport below the layer: room for the seal and the handshake in
// max_message_size (and so in max_queued_bytes_per_peer).
WebSocketServerConfig transport_config_for_sessions(const WebSocketServerConfig& config);
WebSocketClientConfig transport_config_for_sessions(const WebSocketClientConfig& config);

// The layer over a plain transport made from transport_config_for_sessions(config).
// `transport` was made with WebSocketServerTuning::max_message_size_before_admission set to
// config.max_message_size_before_admission: the layer lifts it for each peer it admits.
std::unique_ptr<ServerTransport> make_session_server(
    std::unique_ptr<WebSocketServerTransport> transport, const WebSocketServerConfig& config);
std::unique_ptr<ClientTransport> make_session_client(std::unique_ptr<ClientTransport> transport,
                                                     const WebSocketClientConfig& config);

}  // namespace tickwire::net::websocket_detail
