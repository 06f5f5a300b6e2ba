// The WebSocket server, in the shape of Beast's advanced server example: a listener accepts TCP
// connections, each gets an HTTP session on its own strand that reads requests until one asks to
// upgrade, and an upgraded connection becomes a WebSocketConnection. Admission (pending and open
// connection caps, the Origin allow-list) happens on the way. With TLS, the session's first step
// is the TLS handshake, on the same stream that later carries the WebSocket connection.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "log/log_limiter.hpp"
#include "websocket/connection_admission.hpp"
#include "websocket/http_handler.hpp"
#include "websocket/io_thread.hpp"
#include "websocket/live_connections.hpp"
#include "websocket/tls_context.hpp"
#include "websocket/websocket_connection.hpp"
#include "websocket/websocket_endpoint.hpp"
#include "websocket/websocket_server.hpp"
#include "websocket/websocket_session.hpp"

namespace tickwire::net {
namespace websocket_detail {
namespace {

namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr const char* kServerName = "tickwire";
// Requests on this port are upgrades and small plain requests (health checks): nothing needs more.
constexpr std::uint32_t kMaxRequestHeaderBytes = 8 * 1024;
constexpr std::uint64_t kMaxRequestBodyBytes = 16 * 1024;
// The first read of a connection (and each read of a closing one's drain) takes this much.
constexpr std::size_t kFirstReadBytes = 2048;
// A connection closed near its deadline still drains this long, for its answer to arrive.
constexpr auto kMinLinger = std::chrono::milliseconds(500);
// A file download (respond_with_file) ends when a chunk makes no progress for this long.
constexpr auto kFileChunkTimeout = std::chrono::seconds(30);
// After a failed accept (out of file descriptors, say), wait this long instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// How often the server looks whether a burst of writes is over, to give the heap's free pages
// back (see burst_trim.hpp): only while buffers have been freed since the last look.
constexpr auto kBurstTrimPeriod = std::chrono::milliseconds(100);
// The first byte of every TLS connection: a handshake record (RFC 8446 section 5.1).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

// What the transport, the listener and every session share; kept alive by whichever goes last.
struct ServerShared {
  ServerShared(const WebSocketServerConfig& server_config, HttpRequestHandler handler,
               asio::io_context& context, WebSocketServerTuning tuning,
               std::unique_ptr<asio::ssl::context> tls)
      : config(server_config),
        tls_context(std::move(tls)),
        events(std::make_shared<EventQueue>(server_config.common.max_unpolled_bytes_per_peer)),
        admission({server_config.max_connections, server_config.max_connections_per_address,
                   server_config.max_pending_handshakes, server_config.connection_burst_per_address,
                   server_config.connections_per_address_per_second}),
        http_handler(std::move(handler)),
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

// The client's IP address as admission counts it.
std::string address_key(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  // A dual-stack listener ("::") sees IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

bool origin_allowed(const HttpRequest& request, const std::vector<std::string>& allowed) {
  const auto it = request.find(http::field::origin);
  if (it == request.end()) return true;  // not a browser: Origin protects browsers' users only
  const beast::string_view origin = it->value();
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& entry) {
    return entry == "*" || beast::string_view(entry) == origin;
  });
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::string address, std::shared_ptr<ServerShared> shared)
      : stream_(std::move(socket)),
        deadline_timer_(stream_.get_executor()),
        address_(std::move(address)),
        shared_(std::move(shared)),
        // One deadline for the whole HTTP stage, not one per request: a client that keeps
        // sending plain requests must not hold its pending-handshake slot for ever.
        deadline_(std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(shared_->config.common.handshake_timeout_ms)) {
    stream_.set_burst_trim(&shared_->burst_trim);
  }
  ~HttpSession() { shared_->admission.end_handshake(address_); }
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&HttpSession::run_first_read, shared_from_this()));
  }

 private:
  void run_first_read() {
    // A connection that sends nothing at all holds its slot only until the first-byte deadline
    // (a slowloris opens many and sends nothing); the header then has until the whole stage's.
    const auto first_byte_deadline =
        std::min(deadline_, std::chrono::steady_clock::now() +
                                std::chrono::milliseconds(shared_->config.first_byte_timeout_ms));
    expire_at(first_byte_deadline);
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              self->buffer_.commit(bytes);
                              if (ec) return self->close();
                              if (self->shared_->tls_context) return self->do_tls_handshake();
                              self->do_read();
                            });
  }

  // A port serves TLS only (or plaintext only): a client that speaks plain HTTP here is told so in
  // plain HTTP, which it can read, instead of failing on a TLS alert it cannot.
  void do_tls_handshake() {
    const auto* first = static_cast<const unsigned char*>(buffer_.data().data());
    if (*first != kTlsHandshakeRecord) {
      return refuse(http::status::bad_request,
                    "This port serves TLS only: connect with https:// or wss://.\n");
    }
    stream_.start_tls(*shared_->tls_context, TlsSession::Role::server);
    expire_at(deadline_);
    stream_.async_tls_handshake(
        buffer_.data(), [self = shared_from_this()](beast::error_code ec, std::size_t /*used*/) {
          // The handshake took every byte read so far (a client sends nothing else before it ends).
          self->buffer_.consume(self->buffer_.size());
          if (ec) {
            // An untrusted certificate on the client's side, a client that is no TLS client,
            // or one that went away: turned away, the same as a wrong protocol.
            ++self->shared_->events->counters.refused_connections;
            return self->close();
          }
          self->do_read();
        });
  }

  // Closes the socket at `when`, ending whatever read or write is under way (as a
  // beast::tcp_stream's expiry would, without the two timers it keeps for ever after).
  void expire_at(std::chrono::steady_clock::time_point when) {
    deadline_timer_.expires_at(when);
    // A weak reference: the deadline must not keep the session (and its pending-handshake slot)
    // alive once nothing else is under way.
    deadline_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      const auto self = weak.lock();
      // Gone, a wait cancelled by a later expire_at(), or one that completed just before it was.
      if (!self || ec || self->deadline_timer_.expiry() > std::chrono::steady_clock::now()) return;
      beast::error_code ignored;
      self->stream_.next_layer().close(ignored);
    });
  }
  void expire_never() { deadline_timer_.expires_at(std::chrono::steady_clock::time_point::max()); }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(kMaxRequestHeaderBytes);
    parser_->body_limit(kMaxRequestBodyBytes);
    // A client that connects and never completes its request is dropped at the deadline.
    expire_at(deadline_);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) {
      // The header is complete, so the client is speaking HTTP: tell it what was wrong.
      request_ = parser_->release();
      return reject(http::status::payload_too_large, "The request body is too large.\n");
    }
    if (ec == http::error::header_limit) {
      return reject(http::status::request_header_fields_too_large,
                    "The request header is too large.\n");
    }
    // Bytes that are not HTTP (a TLS hello, a stray protocol): say so, as HTTP servers do. A
    // client that left, or went quiet until the deadline, gets nothing: nobody would read it.
    if (ec && ec.category() == beast::error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return reject(http::status::bad_request, "This is not an HTTP request.\n");
    }
    if (ec) return close();
    request_ = parser_->release();
    if (shared_->accept_upgrades && websocket::is_upgrade(request_)) return upgrade();
    HttpReply reply = shared_->http_handler(request_, address_);
    if (reply.file) return respond_with_file(std::move(reply), !request_.keep_alive());
    respond(std::move(reply.response), !request_.keep_alive());
  }

  // The header, then the file's range chunk by chunk: each chunk is read (pread, 64 KiB from
  // the page cache: microseconds) only once the one before has been written, so memory stays one
  // chunk and the io thread never waits on a long read. A client that stops reading is dropped
  // after kFileChunkTimeout without progress, however long the whole download takes.
  void respond_with_file(HttpReply reply, bool close_after) {
    HttpResponse& response = reply.response;
    response.version(request_.version());
    response.keep_alive(!close_after);
    if (response.find(http::field::server) == response.end()) {
      response.set(http::field::server, kServerName);
    }
    response.body().clear();
    response.content_length(reply.file->length);
    response_ = std::move(response);
    file_ = std::move(*reply.file);
    head_.emplace(*response_);
    expire_at(std::chrono::steady_clock::now() + kFileChunkTimeout);
    http::async_write_header(
        stream_, *head_,
        [self = shared_from_this(), close_after](beast::error_code ec, std::size_t /*bytes*/) {
          if (ec) return self->close();
          self->write_file_chunk(close_after);
        });
  }

  void write_file_chunk(bool close_after) {
    if (file_->length == 0) {
      file_.reset();
      head_.reset();
      return on_write(close_after, {}, 0);
    }
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kHttpFileChunkBytes, file_->length));
    chunk_.resize(want);
    const ssize_t got =
        ::pread(file_->file->descriptor(), chunk_.data(), want, static_cast<off_t>(file_->offset));
    // The file shrank (or failed) under us: the client sees a body shorter than its
    // Content-Length and the connection ends, which is how HTTP says a download broke.
    if (got <= 0) return close();
    file_->offset += static_cast<std::uint64_t>(got);
    file_->length -= static_cast<std::uint64_t>(got);
    expire_at(std::chrono::steady_clock::now() + kFileChunkTimeout);
    asio::async_write(
        stream_, asio::buffer(chunk_.data(), static_cast<std::size_t>(got)),
        [self = shared_from_this(), close_after](beast::error_code ec, std::size_t /*bytes*/) {
          if (ec) return self->close();
          self->write_file_chunk(close_after);
        });
  }

  void respond(HttpResponse response, bool close_after) {
    response.version(request_.version());
    response.keep_alive(!close_after);
    if (response.find(http::field::server) == response.end()) {
      response.set(http::field::server, kServerName);
    }
    response.prepare_payload();
    response_ = std::move(response);
    expire_at(deadline_);  // a client that does not read cannot hold us either
    http::async_write(
        stream_, *response_,
        beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), close_after));
  }

  void on_write(bool close_after, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec || close_after) return close();
    response_.reset();
    do_read();
  }

  // Answers `status` and closes: the request cannot be read on (its rest is not read at all).
  void reject(http::status status, std::string_view body) {
    HttpResponse response{status, request_.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = body;
    respond(std::move(response), /*close_after=*/true);
  }

  void refuse(http::status status, std::string_view body) {
    ++shared_->events->counters.refused_connections;
    reject(status, body);
  }

  // Ends the connection: once the answer just written has left, our side at once, then whatever
  // the client still sends is read and dropped until it closes too (or the stage's deadline), so
  // that the answer is not lost to the reset that closing on unread bytes would send. The
  // stream's teardown does exactly that, with one deadline for the whole drain: a client
  // trickling bytes must not keep it going.
  void close() {
    const auto now = std::chrono::steady_clock::now();
    const auto until = std::max(deadline_, now + kMinLinger);
    // The teardown first waits for the answer to leave: a client that does not read would hold
    // it (and its pending-handshake slot) for ever, so the socket is closed at the deadline too.
    expire_at(until);
    stream_.set_linger(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()));
    buffer_.clear();
    async_teardown(beast::role_type::server, stream_,
                   [self = shared_from_this()](beast::error_code) {});
  }

  void upgrade() {
    if (!origin_allowed(request_, shared_->config.allowed_origins)) {
      return refuse(http::status::forbidden, "This page's origin may not connect here.\n");
    }
    switch (shared_->admission.admit_connection(address_)) {
      case ConnectionAdmission::Verdict::admitted:
        break;
      case ConnectionAdmission::Verdict::server_full:
        detail::log_limited(shared_->events->refusal_log, detail::steady_now_ms(),
                            LogLevel::warning, "websocket", [&] {
                              return "connection from " + address_ +
                                     " refused: server_full (max_connections or "
                                     "max_connections_per_address reached)";
                            });
        return refuse(http::status::service_unavailable, "The server is full. Try again later.\n");
      case ConnectionAdmission::Verdict::shutting_down:
        return close();
    }
    // The HTTP stage's deadline ends here; the WebSocket layer's handshake timeout takes over.
    expire_never();
    ws_.emplace(std::move(stream_));
    apply_websocket_timeouts(*ws_, shared_->config.common);
    ws_->set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, kServerName);
    }));
    ws_->async_accept(request_,
                      beast::bind_front_handler(&HttpSession::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      // A malformed upgrade (Beast has answered 400), or the client went away.
      shared_->admission.release_connection(address_);
      return;
    }
    const PeerId peer = shared_->take_peer_id();
    ws_->next_layer().set_flush_round(shared_->flush_round.get());
    auto connection = std::make_shared<WebSocketConnection>(
        std::move(*ws_), peer, shared_->config.common, shared_->events,
        [shared = shared_, address = address_, peer] {
          shared->admission.release_connection(address);
          shared->live.remove(peer);
        },
        shared_->max_message_size_before_admission);
    connection->remote_address = address_;
    if (!shared_->live.add(peer, connection)) {
      // The transport is being destroyed: this connection would never be polled.
      shared_->admission.release_connection(address_);
      return;
    }
    ++shared_->events->counters.connections_accepted;
    connection->start();
  }

  CoalescingStream stream_;            // TLS once do_tls_handshake() started it
  asio::steady_timer deadline_timer_;  // see expire_at()
  std::optional<WebSocketStream> ws_;  // takes stream_ over on upgrade
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  std::optional<HttpResponse> response_;  // alive while it is written
  // A file download under way (respond_with_file): its header's serializer, what is left of the
  // range, and the chunk being written.
  std::optional<http::response_serializer<http::string_body>> head_;
  std::optional<HttpReply::FileRange> file_;
  std::vector<char> chunk_;
  const std::string address_;
  const std::shared_ptr<ServerShared> shared_;
  const std::chrono::steady_clock::time_point deadline_;
};

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
    std::make_shared<HttpSession>(std::move(socket), std::move(address), shared_)->run();
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

std::shared_ptr<OpenFile> OpenFile::open(const std::string& path) {
  // Not through a symbolic link: a link planted in a served folder must not serve what it names.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return nullptr;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<OpenFile>(new OpenFile(fd, static_cast<std::uint64_t>(info.st_size)));
}

OpenFile::~OpenFile() {
  ::close(fd_);
}

HttpResponse answer_not_found(const HttpRequest& request, const std::string& /*client_address*/) {
  HttpResponse response{http::status::not_found, request.version()};
  response.set(http::field::content_type, "text/plain");
  response.body() = "Not found.\n";
  return response;
}

Result<std::unique_ptr<WebSocketServerTransport>> make_websocket_server(
    const WebSocketServerConfig& config, HttpRequestHandler http_handler,
    WebSocketServerTuning tuning) {
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
  auto shared = std::make_shared<ServerShared>(config, std::move(http_handler), io->context(),
                                               tuning, std::move(tls));
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
