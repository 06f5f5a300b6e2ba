// The WebSocket server: a listener accepts TCP connections and admits each (pending connection
// caps per address and in all) into its HTTP stage (http_session.cpp), which upgrades it to a
// WebSocketConnection; the transport polls their events and sends through the endpoint.

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "log/log_limiter.hpp"
#include "websocket/http_session.hpp"
#include "websocket/io_thread.hpp"
#include "websocket/server_shared.hpp"
#include "websocket/tls_context.hpp"
#include "websocket/websocket_connection.hpp"
#include "websocket/websocket_endpoint.hpp"
#include "websocket/websocket_server.hpp"
#include "websocket/websocket_session.hpp"

namespace tickwire::net {
namespace websocket_detail {
namespace {

using tcp = asio::ip::tcp;

// After a failed accept (out of file descriptors, say), wait this long instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

// The client's IP address as admission counts it.
std::string address_key(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  // A dual-stack listener ("::") sees IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& context, tcp::acceptor&& acceptor,
           std::shared_ptr<ServerShared> shared)
      : context_(context),
        acceptor_(std::move(acceptor)),
        retry_timer_(acceptor_.get_executor()),
        shared_(std::move(shared)) {}

  void run() {
    asio::dispatch(acceptor_.get_executor(),
                   beast::bind_front_handler(&Listener::do_accept, shared_from_this()));
  }
  void stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      self->stopped_ = true;
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void do_accept() {
    // No strand per connection: the io_context has exactly one thread (IoThread), so no two
    // handlers ever run at once, and a broadcast can hand a frame to every connection in one
    // handler (see FrameFanout). A strand would cost memory on every connection and a post per
    // connection per broadcast.
    acceptor_.async_accept(asio::any_io_executor(context_.get_executor()),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && !self->stopped_) self->do_accept();
      });
      return;
    }
    admit(std::move(socket));
    do_accept();
  }

  void admit(tcp::socket socket) {
    beast::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // gone already
    // Messages are small and latency matters (a chat line, a game message): without this, a
    // lone message can wait ~40 ms for the peer's delayed acknowledgement (Nagle).
    socket.set_option(tcp::no_delay(true), ec);
    std::string address = address_key(remote);
    const auto now_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    switch (shared_->admission.begin_handshake(address, now_ms)) {
      case ConnectionAdmission::Arrival::accepted:
        break;
      case ConnectionAdmission::Arrival::too_many_pending:
        // Close at once (the socket goes out of scope), so a flood of idle sockets costs no
        // more than this.
        ++shared_->events->counters.refused_connections;
        detail::log_limited(shared_->events->refusal_log, now_ms, LogLevel::warning, "websocket",
                            [&] {
                              return "connection from " + address +
                                     " refused: too many pending handshakes "
                                     "(max_pending_handshakes)";
                            });
        return;
      case ConnectionAdmission::Arrival::too_fast:
        ++shared_->events->counters.dropped_rate_limited;
        return;
    }
    start_http_session(std::move(socket), std::move(address), shared_);
  }

  asio::io_context& context_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  const std::shared_ptr<ServerShared> shared_;
  bool stopped_ = false;
};

class WebSocketServer final : public EndpointTransport<WebSocketServerTransport> {
 public:
  WebSocketServer(std::unique_ptr<IoThread> io, std::shared_ptr<ServerShared> shared,
                  std::shared_ptr<Listener> listener, std::uint16_t port)
      : EndpointTransport(WebSocketEndpoint(
            shared->events,
            {shared->config.common.channel_count, shared->config.common.max_message_size,
             shared->config.common.max_queued_bytes_per_peer},
            make_fanout(io->context()))),
        io_(std::move(io)),
        shared_(std::move(shared)),
        listener_(std::move(listener)),
        port_(port) {}

  ~WebSocketServer() override {
    shared_->admission.shut_down();
    listener_->stop();
    shared_->live.close_all(DisconnectReason::shutdown);
    shared_->live.wait_until_empty(
        std::chrono::milliseconds(shared_->config.common.shutdown_timeout_ms));
    io_->stop();
    // The connections' sockets belong to the io_context: drop ours while it still exists.
    endpoint_.clear();
  }
  WebSocketServer(const WebSocketServer&) = delete;
  WebSocketServer& operator=(const WebSocketServer&) = delete;

  std::uint16_t port() const override { return port_; }
  void disconnect_with_code(PeerId peer, DisconnectReason reason, std::uint16_t code,
                            bool after_writes) override {
    endpoint_.disconnect_with_code(peer, reason, code, after_writes);
  }
  void send_to_many(std::span<const PeerId> peers, Channel channel,
                    std::span<const std::byte> message, std::span<SendResult> results) override {
    endpoint_.send_to_many(peers, channel, message, results);
  }
  std::string peer_address(PeerId peer) const override { return endpoint_.peer_address(peer); }
  void admit_full_size_messages(PeerId peer) override { endpoint_.admit_full_size_messages(peer); }
  void wake() override { endpoint_.wake(); }

 private:
  // One post to the io thread for a whole broadcast. Every server connection runs on the
  // io_context's executor itself (no strand, see Listener::do_accept), so the handler may queue
  // the frame on each of them directly.
  static FrameFanout make_fanout(asio::io_context& context) {
    return [&context](std::vector<std::shared_ptr<PeerLink>> links, SharedFrame frame) {
      asio::post(context, [links = std::move(links), frame = std::move(frame)] {
        for (const auto& link : links)
          static_cast<WebSocketConnection&>(*link).queue_frame(frame, /*may_wait=*/true);
      });
    };
  }

  std::unique_ptr<IoThread> io_;
  std::shared_ptr<ServerShared> shared_;
  std::shared_ptr<Listener> listener_;
  std::uint16_t port_;
};

std::string describe(const tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(endpoint.port());
}

Status open_acceptor(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec)
    return Status::error("cannot open a TCP socket for " + describe(endpoint) + ": " +
                         ec.message() + " (is this address family available?)");
  // Lets a restarted server bind its port while old connections linger in TIME_WAIT.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  // "::" serves IPv4 clients too, whatever the system's default for IPv6 sockets.
  if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);
  }
  acceptor.bind(endpoint, ec);
  if (ec) {
    return Status::error("cannot bind TCP " + describe(endpoint) + ": " + ec.message() +
                         " (in use, or not an address of this machine); pick another port or 0");
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::error("cannot listen on TCP " + describe(endpoint) + ": " + ec.message());
  return {};
}

}  // namespace

Result<std::unique_ptr<WebSocketServerTransport>> make_websocket_server(
    const WebSocketServerConfig& config, HttpRequestHandler http_handler,
    WebSocketServerTuning tuning, HttpUploadGate upload_gate) {
  if (Status status = config.validate(); !status.ok()) return status;
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(config.bind_address, ec);
  if (ec) {
    return Status::error("WebSocketServerConfig.bind_address '" + config.bind_address +
                         "' is not an IPv4 or IPv6 address");
  }
  std::unique_ptr<asio::ssl::context> tls;
  if (config.transport_security == WebSocketSecurity::tls) {
    auto made = make_server_tls_context(config.tls);
    if (!made.ok()) return Status::error(made.error());
    tls = std::move(made.value());
  }
  auto io = std::make_unique<IoThread>();
  tcp::acceptor acceptor(asio::make_strand(io->context()));
  if (Status status = open_acceptor(acceptor, tcp::endpoint(address, config.port)); !status.ok()) {
    return status;
  }
  const std::uint16_t port = acceptor.local_endpoint(ec).port();
  if (config.transport_security == WebSocketSecurity::insecure_plaintext) {
    log(LogLevel::warning, "websocket",
        "server on TCP port " + std::to_string(port) +
            " serves plaintext ws:// (transport_security = insecure_plaintext): anyone on the "
            "network path can read and alter what it carries outside sealed game sessions "
            "(lobby traffic, chat, join tickets and the session keys handed out with them)");
  }
  auto shared =
      std::make_shared<ServerShared>(config, std::move(http_handler), std::move(upload_gate),
                                     io->context(), tuning, std::move(tls));
  auto listener = std::make_shared<Listener>(io->context(), std::move(acceptor), shared);
  listener->run();
  try {
    io->start();
  } catch (const std::system_error& error) {
    return Status::error(std::string("cannot start the WebSocket server's thread: ") +
                         error.what());
  }
  return std::unique_ptr<WebSocketServerTransport>(std::make_unique<WebSocketServer>(
      std::move(io), std::move(shared), std::move(listener), port));
}

}  // namespace websocket_detail

Result<std::unique_ptr<ServerTransport>> make_websocket_server(
    const WebSocketServerConfig& config) {
  using namespace websocket_detail;
  if (Status status = config.validate(); !status.ok()) return status;
  const bool sessions = wants_sessions(config);
  WebSocketServerTuning tuning;
  if (sessions) tuning.max_message_size_before_admission = config.max_message_size_before_admission;
  auto made = websocket_detail::make_websocket_server(
      sessions ? transport_config_for_sessions(config) : config, &answer_not_found, tuning);
  if (!made.ok()) return Status::error(made.error());
  if (sessions) return make_session_server(std::move(made.value()), config);
  return std::unique_ptr<ServerTransport>(std::move(made.value()));
}

}  // namespace tickwire::net
