// The load generator's connections: Beast async WebSocket streams on one io_context, driven on
// the calling thread. The streams sit on Tickwire's CoalescingStream, the layer that runs TLS (or
// not) at run time, so that one client type speaks ws:// and wss://.

#include "load_connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "websocket/coalescing_stream.hpp"

namespace tickwire::bench {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using lobby_wire::hello;
using lobby_wire::is_reply;
using lobby_wire::kHelloId;
using lobby_wire::read_message;
using lobby_wire::reply_ok;
using net::websocket_detail::CoalescingStream;

namespace {

// The generator's TLS settings: it trusts the server it started (the thing measured, not an
// attacker), so it does not verify the certificate; the server's side of the handshake is the
// same either way.
asio::ssl::context& client_tls_context() {
  static asio::ssl::context context = [] {
    asio::ssl::context made(asio::ssl::context::tls_client);
    made.set_verify_mode(asio::ssl::verify_none);
    SSL_CTX_set_mode(made.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    return made;
  }();
  return context;
}

}  // namespace

struct LoadConnection::Stream {
  explicit Stream(asio::io_context& ioc) : ws(ioc) {}

  websocket::stream<CoalescingStream, /*deflateSupported=*/false> ws;
  beast::flat_buffer buffer;
};

LoadConnection::LoadConnection(asio::io_context& ioc, ServerKind server_kind, int client_index,
                               LobbyEncoding lobby_encoding)
    : kind(server_kind),
      encoding(lobby_encoding),
      index(client_index),
      stream_(std::make_unique<Stream>(ioc)) {}

LoadConnection::~LoadConnection() = default;

void LoadConnection::open(std::uint16_t port, std::string nickname, DoneHandler ready) {
  on_ready = std::move(ready);
  nick = std::move(nickname);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  beast::get_lowest_layer(stream_->ws)
      .async_connect(endpoint, [self = shared_from_this(), port](beast::error_code ec) {
        auto& ws = self->stream_->ws;
        if (ec) return self->fail("connect: " + ec.message());
        beast::get_lowest_layer(ws).set_option(tcp::no_delay(true), ec);
        if (self->kind != ServerKind::tickwire_lobby_tls) return self->upgrade(port);
        ws.next_layer().start_tls(client_tls_context(),
                                  net::websocket_detail::TlsSession::Role::client);
        ws.next_layer().async_tls_handshake([self, port](beast::error_code ec2, std::size_t) {
          if (ec2) return self->fail("TLS handshake: " + ec2.message());
          self->upgrade(port);
        });
      });
}

void LoadConnection::send(std::string message) {
  outbox.push_back(std::move(message));
  if (outbox.size() == 1) do_write();
}

void LoadConnection::close(DoneHandler closed) {
  on_closed = std::move(closed);
  want_close = true;
  if (outbox.empty()) do_close();
}

void LoadConnection::upgrade(std::uint16_t port) {
  stream_->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  stream_->ws.read_message_max(64 * 1024);
  stream_->ws.async_handshake(
      "127.0.0.1:" + std::to_string(port), "/",
      [self = shared_from_this()](beast::error_code ec) { self->on_upgraded(ec); });
}

void LoadConnection::on_upgraded(const beast::error_code& ec) {
  if (ec) return fail("upgrade: " + ec.message());
  if (kind == ServerKind::raw_beast) {
    stream_->ws.text(true);
    do_read();
    return ready("");
  }
  stream_->ws.text(encoding == LobbyEncoding::json);
  on_message = [](LoadConnection& self, std::string_view frame) {
    const auto* message = read_message(self.encoding, frame);
    if (!is_reply(message, kHelloId)) return;
    self.on_message = nullptr;
    self.ready(reply_ok(message, kHelloId) ? "" : "Hello refused");
  };
  send(hello(encoding, nick));
  do_read();
}

void LoadConnection::ready(const std::string& error) {
  if (auto handler = std::move(on_ready)) handler(*this, error);
}

void LoadConnection::fail(const std::string& error) {
  if (failed) return;
  failed = true;
  if (on_ready) return ready(error);
  if (on_closed) {
    // A close that ends in an error still ends the connection.
    auto handler = std::move(on_closed);
    handler(*this, error);
  }
}

void LoadConnection::do_read() {
  stream_->ws.async_read(stream_->buffer,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           if (ec) {
                             // `closed` is the normal end after our close handshake.
                             if (ec != websocket::error::closed && !self->close_started) {
                               self->fail("read: " + ec.message());
                             }
                             return;
                           }
                           auto& buffer = self->stream_->buffer;
                           const auto data = buffer.cdata();
                           // A copy: a handler may replace itself (on_message = ...) while it runs.
                           if (auto handler = self->on_message) {
                             handler(*self, {static_cast<const char*>(data.data()), data.size()});
                           }
                           buffer.consume(buffer.size());
                           self->do_read();
                         });
}

void LoadConnection::do_write() {
  stream_->ws.async_write(asio::buffer(outbox.front()),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->fail("write: " + ec.message());
                            self->outbox.pop_front();
                            if (!self->outbox.empty()) return self->do_write();
                            if (self->want_close) self->do_close();
                          });
}

void LoadConnection::do_close() {
  if (close_started) return;
  close_started = true;
  stream_->ws.async_close(websocket::close_code::normal,
                          [self = shared_from_this()](beast::error_code ec) {
                            if (self->failed) return;
                            self->failed = true;  // finished: nothing more to report
                            if (auto handler = std::move(self->on_closed))
                              handler(*self, ec ? ec.message() : "");
                          });
}

void run_for(asio::io_context& ioc, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ioc.stopped() && std::chrono::steady_clock::now() < deadline)
    ioc.run_for(std::chrono::milliseconds(100));
}

}  // namespace tickwire::bench
