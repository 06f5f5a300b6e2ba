#pragma once
// The WebSocket server as services inside Tickwire (the lobby) see it: the public ServerTransport
// plus what only they need, a handler for plain HTTP requests and close codes of their choosing.
// Beast-free, so a service compiles no Asio template.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

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
  // send() of one message to each of `peers` (a room's chat line), with one copy of the message
  // and one hand-off to the io thread for all of them. results[i] is what send() would have
  // returned for peers[i]; `results` is as long as `peers`.
  virtual void send_to_many(std::span<const PeerId> peers, Channel channel,
                            std::span<const std::byte> message, std::span<SendResult> results) = 0;
  // The IP address a connected peer came from ("127.0.0.2", "::1"; IPv4 clients of a dual-stack
  // listener as IPv4), as the per-address limits count it; empty once it is gone.
  virtual std::string peer_address(PeerId peer) const = 0;
  // From now on the peer may send messages up to max_message_size, no longer only up to
  // WebSocketServerTuning::max_message_size_before_admission. Takes effect before anything sent
  // to the peer after this call goes out.
  virtual void admit_full_size_messages(PeerId peer) = 0;
  // Any thread: a poll() waiting on another thread returns now (false if no event came), so that
  // its thread can do work queued for it from elsewhere.
  virtual void wake() = 0;
};

// What a service inside Tickwire may tune beyond the public config.
struct WebSocketServerTuning {
  // How long a frame sent by send_to_many() or broadcast() may wait, in microseconds, so that
  // the frames of later broadcasts to the same connection share its socket write (a write costs
  // several microseconds, each frame in it far less). Replies and everything else go at once,
  // with whatever waits before them. 0 (the default): nothing waits.
  std::chrono::microseconds broadcast_flush_delay{0};
  // False for a port that serves plain HTTP only (metrics): an upgrade request then goes to the
  // HTTP handler like any other request. Default true.
  bool accept_upgrades = true;
  // The largest message, in bytes (the channel byte not counted), a new connection may send until
  // admit_full_size_messages() for it; a larger one closes it with 1009 unread. 0 (the default):
  // max_message_size from the start.
  std::size_t max_message_size_before_admission = 0;
};

// make_websocket_server() with another handler for plain HTTP requests, and optionally a gate that
// takes uploads (bodies streamed to files) on the same port.
Result<std::unique_ptr<WebSocketServerTransport>> make_websocket_server(
    const WebSocketServerConfig& config, HttpRequestHandler http_handler,
    WebSocketServerTuning tuning = {}, HttpUploadGate upload_gate = {});

}  // namespace tickwire::net::websocket_detail
