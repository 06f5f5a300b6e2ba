// The WebSocket client: resolve, connect, TLS handshake (WebSocketSecurity::tls) and upgrade on
// the io thread (one do_x/on_x pair per step, Beast's client example), then hand the stream to a
// WebSocketConnection. An upgrade the server declines becomes the reason the game sees: 503
// server_full, anything else refused; a TLS handshake that fails, tls_failed.

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <optional>
#include <string>
#include <system_error>

#include "websocket/io_thread.hpp"
#include "websocket/live_connections.hpp"
#include "websocket/tls_context.hpp"
#include "websocket/websocket_connection.hpp"
#include "websocket/websocket_endpoint.hpp"
#include "websocket/websocket_session.hpp"

namespace tickwire::net {
namespace websocket_detail {
namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// The client's one peer, the server.
constexpr PeerId kServerPeer = 1;

struct ClientShared {
  ClientShared(const WebSocketClientConfig& client_config, std::unique_ptr<asio::ssl::context> tls)
      : config(client_config),
        tls_context(std::move(tls)),
        events(std::make_shared<EventQueue>(client_config.common.max_unpolled_bytes_per_peer)) {}

  const WebSocketClientConfig config;
  // What the client trusts; none with insecure_plaintext.
  const std::unique_ptr<asio::ssl::context> tls_context;
  const std::shared_ptr<EventQueue> events;
  LiveConnections live;
};

DisconnectReason reason_for_declined_upgrade(http::status status) {
  return status == http::status::service_unavailable ? DisconnectReason::server_full
                                                     : DisconnectReason::refused;
}

class ClientConnector : public std::enable_shared_from_this<ClientConnector> {
 public:
  ClientConnector(asio::io_context& context, std::shared_ptr<ClientShared> shared)
      : resolver_(asio::make_strand(context)),
        tcp_(resolver_.get_executor()),
        resolve_timer_(resolver_.get_executor()),
        shared_(std::move(shared)) {}

  void run() {
    asio::dispatch(resolver_.get_executor(),
                   beast::bind_front_handler(&ClientConnector::do_resolve, shared_from_this()));
  }

 private:
  const WebSocketClientConfig& config() const { return shared_->config; }

  void do_resolve() {
    deadline_ =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(config().connect_timeout_ms);
    // A resolver has no deadline of its own: cancel it when the connect timeout runs out.
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resolver_.cancel();
    });
    resolver_.async_resolve(
        config().server_host, std::to_string(config().server_port),
        beast::bind_front_handler(&ClientConnector::on_resolve, shared_from_this()));
  }

  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    resolve_timer_.cancel();
    if (ec) return fail(DisconnectReason::connect_failed);
    tcp_.expires_at(deadline_);
    tcp_.async_connect(results,
                       beast::bind_front_handler(&ClientConnector::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec, const tcp::endpoint& /*endpoint*/) {
    if (ec) return fail(DisconnectReason::connect_failed);
    // No Nagle delay on small messages (see the server side).
    beast::error_code ignored;
    tcp_.socket().set_option(tcp::no_delay(true), ignored);
    // The connect deadline ends here; the WebSocket layer's handshake timeout takes over.
    tcp_.expires_never();
    ws_.emplace(tcp_.release_socket());
    if (shared_->tls_context) return do_tls_handshake();
    do_upgrade();
  }

  void do_tls_handshake() {
    CoalescingStream& stream = ws_->next_layer();
    stream.start_tls(*shared_->tls_context, TlsSession::Role::client);
    const std::string& name =
        config().tls.server_name.empty() ? config().server_host : config().tls.server_name;
    if (!expect_server_name(stream.tls_handle(), name)) return fail(DisconnectReason::tls_failed);
    // The TLS handshake counts against the handshake timeout, as the upgrade after it does.
    tls_deadline_ = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(config().common.handshake_timeout_ms);
    resolve_timer_.expires_at(tls_deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->resolve_timer_.expiry() != self->tls_deadline_) return;
      beast::error_code ignored;
      self->ws_->next_layer().next_layer().close(ignored);
    });
    stream.async_tls_handshake(
        beast::bind_front_handler(&ClientConnector::on_tls_handshake, shared_from_this()));
  }

  void on_tls_handshake(beast::error_code ec, std::size_t /*bytes*/) {
    tls_deadline_ = {};
    resolve_timer_.cancel();
    // The server's certificate did not verify (unknown CA, another name, expired), the server
    // speaks no TLS, or the deadline passed.
    if (ec) return fail(DisconnectReason::tls_failed);
    do_upgrade();
  }

  void do_upgrade() {
    apply_websocket_timeouts(*ws_, config().common);
    ws_->set_option(websocket::stream_base::decorator(
        [origin = config().origin](websocket::request_type& request) {
          request.set(http::field::user_agent, "tickwire");
          if (!origin.empty()) request.set(http::field::origin, origin);
        }));
    // An IPv6 literal needs brackets in the Host header, as in a URL.
    const std::string& host = config().server_host;
    const bool ipv6_literal = host.find(':') != std::string::npos;
    const std::string host_header =
        (ipv6_literal ? "[" + host + "]" : host) + ":" + std::to_string(config().server_port);
    ws_->async_handshake(
        response_, host_header, config().path,
        beast::bind_front_handler(&ClientConnector::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec == websocket::error::upgrade_declined) {
      return fail(reason_for_declined_upgrade(response_.result()));
    }
    if (ec) return fail(DisconnectReason::connect_failed);
    auto connection = std::make_shared<WebSocketConnection>(
        std::move(*ws_), kServerPeer, config().common, shared_->events,
        [shared = shared_] { shared->live.remove(kServerPeer); });
    if (!shared_->live.add(kServerPeer, connection)) return;  // the client is being destroyed
    connection->start();
  }

  void fail(DisconnectReason reason) { shared_->events->push_disconnected(kServerPeer, reason); }

  tcp::resolver resolver_;
  beast::tcp_stream tcp_;              // until connected
  std::optional<WebSocketStream> ws_;  // takes tcp_'s socket over once connected
  asio::steady_timer resolve_timer_;
  const std::shared_ptr<ClientShared> shared_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point tls_deadline_;  // while the TLS handshake runs
  websocket::response_type response_;                   // the server's answer to the upgrade
};

class WebSocketClient final : public EndpointTransport<ClientTransport> {
 public:
  WebSocketClient(std::unique_ptr<IoThread> io, std::shared_ptr<ClientShared> shared)
      : EndpointTransport(WebSocketEndpoint(
            shared->events,
            {shared->config.common.channel_count, shared->config.common.max_message_size,
             shared->config.common.max_queued_bytes_per_peer})),
        io_(std::move(io)),
        shared_(std::move(shared)) {}

  ~WebSocketClient() override {
    shared_->live.close_all(DisconnectReason::closed);
    shared_->live.wait_until_empty(
        std::chrono::milliseconds(shared_->config.common.shutdown_timeout_ms));
    io_->stop();
    // The connection's socket belongs to the io_context: drop ours while it still exists.
    endpoint_.clear();
  }
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    if (!endpoint_.poll(event, wait)) return false;
    // The state follows the events the game has seen, so it never runs ahead of them.
    if (event.type == EventType::connected) state_ = ClientState::connected;
    if (event.type == EventType::disconnected) state_ = ClientState::disconnected;
    return true;
  }
  ClientState state() const override { return state_; }
  PeerId server() const override {
    return state_ == ClientState::connected ? kServerPeer : kInvalidPeer;
  }

 private:
  std::unique_ptr<IoThread> io_;
  std::shared_ptr<ClientShared> shared_;
  ClientState state_ = ClientState::connecting;
};

}  // namespace
}  // namespace websocket_detail

Result<std::unique_ptr<ClientTransport>> make_websocket_client(
    const WebSocketClientConfig& config) {
  using namespace websocket_detail;
  if (Status status = config.validate(); !status.ok()) return status;
  const bool sessions = wants_sessions(config);
  std::unique_ptr<asio::ssl::context> tls;
  if (config.transport_security == WebSocketSecurity::tls) {
    auto made = make_client_tls_context(config.tls);
    if (!made.ok()) return Status::error(made.error());
    tls = std::move(made.value());
  }
  auto io = std::make_unique<IoThread>();
  auto shared = std::make_shared<ClientShared>(
      sessions ? transport_config_for_sessions(config) : config, std::move(tls));
  std::make_shared<ClientConnector>(io->context(), shared)->run();
  try {
    io->start();
  } catch (const std::system_error& error) {
    return Status::error(std::string("cannot start the WebSocket client's thread: ") +
                         error.what());
  }
  std::unique_ptr<ClientTransport> client =
      std::make_unique<WebSocketClient>(std::move(io), std::move(shared));
  if (sessions) return make_session_client(std::move(client), config);
  return client;
}

}  // namespace tickwire::net
