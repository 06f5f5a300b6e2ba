#pragma once
// What the WebSocket server's transport, its listener and every HTTP session share, kept alive by
// whichever goes last (websocket_server.cpp, http_session.cpp).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>

#include "websocket/coalescing_stream.hpp"
#include "websocket/connection_admission.hpp"
#include "websocket/event_queue.hpp"
#include "websocket/http_handler.hpp"
#include "websocket/live_connections.hpp"
#include "websocket/websocket_connection.hpp"
#include "websocket/websocket_server.hpp"

namespace tickwire::net::websocket_detail {

// How often the server looks whether a burst of writes is over, to give the heap's free pages
// back (see burst_trim.hpp): only while buffers have been freed since the last look.
inline constexpr auto kBurstTrimPeriod = std::chrono::milliseconds(100);

// What the transport, the listener and every session share; kept alive by whichever goes last.
struct ServerShared {
  ServerShared(const WebSocketServerConfig& server_config, HttpRequestHandler handler,
               HttpUploadGate uploads, asio::io_context& context, WebSocketServerTuning tuning,
               std::unique_ptr<asio::ssl::context> tls)
      : config(server_config),
        tls_context(std::move(tls)),
        events(std::make_shared<EventQueue>(server_config.common.max_unpolled_bytes_per_peer)),
        admission({server_config.max_connections, server_config.max_connections_per_address,
                   server_config.max_pending_handshakes, server_config.connection_burst_per_address,
                   server_config.connections_per_address_per_second}),
        http_handler(std::move(handler)),
        upload_gate(std::move(uploads)),
        accept_upgrades(tuning.accept_upgrades),
        max_message_size_before_admission(tuning.max_message_size_before_admission),
        burst_trim(asio::any_io_executor(context.get_executor()), kBurstTrimPeriod) {
    if (tuning.broadcast_flush_delay.count() > 0) {
      flush_round = std::make_unique<CoalescingStream::FlushRound>(
          asio::any_io_executor(context.get_executor()), tuning.broadcast_flush_delay);
    }
  }

  PeerId take_peer_id() {
    PeerId id = next_peer++;
    if (id == kInvalidPeer) id = next_peer++;  // after 2^32 connections the counter wraps
    return id;
  }

  const WebSocketServerConfig config;
  // The certificate and key every connection presents; none when the port serves plaintext.
  const std::unique_ptr<asio::ssl::context> tls_context;
  const std::shared_ptr<EventQueue> events;
  ConnectionAdmission admission;
  LiveConnections live;
  const HttpRequestHandler http_handler;
  const HttpUploadGate upload_gate;  // empty: no uploads
  const bool accept_upgrades;
  const std::size_t max_message_size_before_admission;  // 0: none (WebSocketServerTuning)
  std::atomic<PeerId> next_peer{1};
  // Broadcast frames wait for it (WebSocketServerTuning); none when they go at once. Used by
  // connections while the io thread runs, which this outlives (the transport owns it and stops
  // the thread first).
  std::unique_ptr<CoalescingStream::FlushRound> flush_round;
  // Counts the buffers connections free; same lifetime rule as flush_round.
  CoalescingStream::BurstTrim burst_trim;
};

}  // namespace tickwire::net::websocket_detail
