// The HTTP stage of a connection, in the shape of Beast's advanced server example: a session on
// the io thread reads one request; an upgrade becomes a WebSocketConnection, anything else is
// answered and the connection closed. With TLS, the session's first step is the TLS handshake, on
// the same stream that later carries the WebSocket connection.

#include "websocket/http_session.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/file_posix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "log/log_limiter.hpp"
#include "websocket/websocket_connection.hpp"
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
// The first byte of every TLS connection: a handshake record (RFC 8446 section 5.1).
constexpr unsigned char kTlsHandshakeRecord = 0x16;

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
        // One deadline for the whole HTTP stage (TLS handshake, request header and body): a
        // client that drips them must not hold its pending-handshake slot for ever.
        deadline_(std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(shared_->config.common.handshake_timeout_ms)) {
    stream_.set_burst_trim(&shared_->burst_trim);
  }
  ~HttpSession() {
    abandon_upload(/*over_limit=*/false);  // a session ends mid-upload only when it is cut
    shared_->admission.end_handshake(address_);
  }
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

  // The request's header is read first (its body not yet), so that an upload can be refused,
  // or given a file to go to, before a byte of its body is read.
  void do_read() {
    header_parser_.emplace();
    header_parser_->header_limit(kMaxRequestHeaderBytes);
    // Each body is limited once the header says where it goes (on_header). Not boost::none:
    // Beast 1.74 compares a Content-Length with the optional, and every number is over none.
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A client that connects and never completes its request is dropped at the deadline.
    expire_at(deadline_);
    http::async_read_header(stream_, buffer_, *header_parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    const HttpRequestHeader& header = header_parser_->get().base();
    if (shared_->upload_gate && !websocket::is_upgrade(header_parser_->get())) {
      if (auto verdict = shared_->upload_gate(header, address_)) {
        request_ = HttpRequest(header);
        if (auto* refusal = std::get_if<HttpResponse>(&*verdict)) {
          return respond(std::move(*refusal));
        }
        return start_upload(std::move(std::get<HttpUpload>(*verdict)));
      }
    }
    const auto length = header_parser_->content_length();
    if (length && *length > kMaxRequestBodyBytes) {
      // The header is complete, so the client is speaking HTTP: tell it what was wrong.
      request_ = HttpRequest(header);
      return reject(http::status::payload_too_large, "The request body is too large.\n");
    }
    parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    parser_->body_limit(kMaxRequestBodyBytes);  // a chunked body is counted as it comes
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) {
      request_ = parser_->release();
      return reject(http::status::payload_too_large, "The request body is too large.\n");
    }
    if (ec) return on_read_error(ec);
    request_ = parser_->release();
    if (shared_->accept_upgrades && websocket::is_upgrade(request_)) return upgrade();
    // One plain request per connection: the answer ends it (Connection: close). A connection holds
    // its address's pending-handshake slot for its whole HTTP stage, and a browser keeps several
    // connections alive for a page's files: kept open, a page or two from one address (players
    // behind one NAT) filled max_connections_per_address with idle connections until their
    // deadline, and the pages' own upgrades were refused meanwhile.
    HttpReply reply = shared_->http_handler(request_, address_);
    if (reply.file) return respond_with_file(std::move(reply));
    respond(std::move(reply.response));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return reject(http::status::request_header_fields_too_large,
                    "The request header is too large.\n");
    }
    // Bytes that are not HTTP (a TLS hello, a stray protocol): say so, as HTTP servers do. A
    // client that left, or went quiet until the deadline, gets nothing: nobody would read it.
    if (ec.category() == beast::error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return reject(http::status::bad_request, "This is not an HTTP request.\n");
    }
    close();
  }

  // The body goes to a file created for it, read by the parser piece by piece, each piece
  // written before the next is read: memory stays one read buffer. A client that stops sending is
  // dropped after kFileChunkTimeout without progress, however long the whole upload takes.
  void start_upload(HttpUpload upload) {
    const int fd = ::open(upload.partial_path.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      return reject(http::status::internal_server_error, "The upload cannot be stored.\n");
    }
    upload_ = std::move(upload);
    upload_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    // Beast checked no Content-Length against a limit (the header parser had none): this one
    // stops a chunked body at the limit, and a declared length over it is refused here.
    upload_parser_->body_limit(upload_->max_bytes);
    const auto length = upload_parser_->content_length();
    beast::file_posix file;
    file.native_handle(fd);
    beast::error_code ec;
    upload_parser_->get().body().reset(std::move(file), ec);
    if (ec) {
      abandon_upload(/*over_limit=*/false);
      return reject(http::status::internal_server_error, "The upload cannot be stored.\n");
    }
    if (length && *length > upload_->max_bytes) {
      abandon_upload(/*over_limit=*/true);
      return reject(http::status::payload_too_large, "The upload is too large.\n");
    }
    if (beast::iequals(request_[http::field::expect], "100-continue")) {
      // The client waits for this before it sends the body (curl does, past 1 MiB).
      continue_.emplace(http::status::continue_, request_.version());
      expire_at(std::chrono::steady_clock::now() + kFileChunkTimeout);
      return http::async_write(
          stream_, *continue_,
          [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
            if (write_ec) {
              self->abandon_upload(/*over_limit=*/false);
              return self->close();
            }
            self->read_upload();
          });
    }
    read_upload();
  }

  void read_upload() {
    if (upload_parser_->is_done()) return finish_upload();
    expire_at(std::chrono::steady_clock::now() + kFileChunkTimeout);
    http::async_read_some(
        stream_, buffer_, *upload_parser_,
        beast::bind_front_handler(&HttpSession::on_upload_read, shared_from_this()));
  }

  void on_upload_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) {
      abandon_upload(/*over_limit=*/true);
      return reject(http::status::payload_too_large, "The upload is too large.\n");
    }
    if (ec) {
      // Cut off (the client left, or stopped sending): nothing of it stays.
      abandon_upload(/*over_limit=*/false);
      return close();
    }
    read_upload();
  }

  void finish_upload() {
    beast::error_code ignored;
    upload_parser_->get().body().file().close(ignored);
    HttpResponse response = upload_->finish(request_.base());
    discard_upload();  // whatever finish() left under the partial name
    // The body took its own time: the answer gets a fresh deadline, then the connection ends.
    respond(std::move(response), std::chrono::steady_clock::now() + kFileChunkTimeout);
  }

  void abandon_upload(bool over_limit) {
    if (upload_ && upload_->abandoned) upload_->abandoned(over_limit);
    discard_upload();
  }

  // Closes and removes the upload's partial file, if one is under way.
  void discard_upload() {
    if (!upload_) return;
    upload_parser_.reset();  // closes the file
    ::unlink(upload_->partial_path.c_str());
    upload_.reset();
  }

  // The header, then the file's range chunk by chunk: each chunk is read (pread, 64 KiB from
  // the page cache: microseconds) only once the one before has been written, so memory stays one
  // chunk and the io thread never waits on a long read. A client that stops reading is dropped
  // after kFileChunkTimeout without progress, however long the whole download takes.
  void respond_with_file(HttpReply reply) {
    HttpResponse& response = reply.response;
    stamp(response);
    response.body().clear();
    response.content_length(reply.file->length);
    response_ = std::move(response);
    file_ = std::move(*reply.file);
    // HEAD: the header says what GET would send (Content-Length included), and no byte follows.
    if (request_.method() == http::verb::head) file_->length = 0;
    head_.emplace(*response_);
    expire_at(std::chrono::steady_clock::now() + kFileChunkTimeout);
    http::async_write_header(
        stream_, *head_, [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
          if (ec) return self->close();
          self->write_file_chunk();
        });
  }

  void write_file_chunk() {
    if (file_->length == 0) return close();
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
    asio::async_write(stream_, asio::buffer(chunk_.data(), static_cast<std::size_t>(got)),
                      [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                        if (ec) return self->close();
                        self->write_file_chunk();
                      });
  }

  // What every answer carries from the listener: the request's version, Connection: close (one
  // plain request per connection) and, unless the handler named one, our Server header.
  void stamp(HttpResponse& response) const {
    response.version(request_.version());
    response.keep_alive(false);
    if (response.find(http::field::server) == response.end()) {
      response.set(http::field::server, kServerName);
    }
  }

  // Writes the answer, then ends the connection (close()).
  void respond(HttpResponse response,
               std::optional<std::chrono::steady_clock::time_point> until = std::nullopt) {
    stamp(response);
    response.prepare_payload();
    // HEAD: the Content-Length of the body GET would get, and no body.
    if (request_.method() == http::verb::head) response.body().clear();
    response_ = std::move(response);
    expire_at(until.value_or(deadline_));  // a client that does not read cannot hold us either
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code /*ec*/, std::size_t /*bytes*/) {
                        self->close();
                      });
  }

  // Answers `status` and closes: the request cannot be read on (its rest is not read at all).
  void reject(http::status status, std::string_view body) {
    HttpResponse response{status, request_.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = body;
    respond(std::move(response));
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
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // An upload under way (start_upload): where its body goes, and the parser writing it there.
  std::optional<HttpUpload> upload_;
  std::optional<http::request_parser<http::file_body>> upload_parser_;
  std::optional<http::response<http::empty_body>> continue_;  // "100 Continue", while written
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

}  // namespace

void start_http_session(tcp::socket socket, std::string address,
                        std::shared_ptr<ServerShared> shared) {
  std::make_shared<HttpSession>(std::move(socket), std::move(address), std::move(shared))->run();
}

}  // namespace websocket_detail
}  // namespace tickwire::net
