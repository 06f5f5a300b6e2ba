// --serve raw: the baseline, a minimal Boost.Beast WebSocket broadcast server in the style of the
// Beast async examples. One io_context thread; a listener accepts; each session reads in a loop,
// and every text message it reads is written to all sessions (the sender too, as the lobby does),
// each through its own write queue. No protocol, no limits beyond a cap on each queue: the least
// a WebSocket chat server can do, so the cost of everything the lobby adds shows in the ratios.

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>

#include "server_process.hpp"

namespace tickwire::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Queued messages per session at most; a session that falls further behind is dropped, so a
// stalled client costs bounded memory (the lobby's counterpart is its 4 MiB per-peer cap).
constexpr std::size_t kMaxQueuedMessages = 65536;

class Session;

// Every open session. Only the io_context's single thread touches it, so no lock and no strand.
struct Room {
  std::unordered_set<Session*> sessions;
  void broadcast(const std::shared_ptr<const std::string>& message);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Room& room) : ws_(std::move(socket)), room_(room) {}

  void run() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(16 * 1024);
    ws_.text(true);
    ws_.async_accept(beast::bind_front_handler(&Session::on_accept, shared_from_this()));
  }

  void send(const std::shared_ptr<const std::string>& message) {
    if (queue_.size() >= kMaxQueuedMessages) {
      beast::get_lowest_layer(ws_).socket().close();
      return;
    }
    queue_.push_back(message);
    if (queue_.size() == 1) do_write();
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    room_.sessions.insert(this);
    joined_ = true;
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return leave();
    auto message = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
    buffer_.consume(buffer_.size());
    room_.broadcast(message);
    do_read();
  }

  void do_write() {
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return leave();
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  void leave() {
    if (joined_) room_.sessions.erase(this);
    joined_ = false;
    queue_.clear();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  Room& room_;
  bool joined_ = false;
};

void Room::broadcast(const std::shared_ptr<const std::string>& message) {
  for (Session* session : sessions)
    session->send(message);
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, Room& room) : ioc_(ioc), acceptor_(ioc), room_(room) {}

  bool open(beast::error_code& ec) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    return !ec;
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void do_accept() {
    acceptor_.async_accept(ioc_,
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

 private:
  void on_accept(beast::error_code ec, tcp::socket socket) {
    // TCP_NODELAY, as the lobby's transport sets it: both servers send every frame at once
    // rather than letting Nagle's algorithm merge small frames (and delay a lone chat line).
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), room_)->run();
    }
    do_accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  Room& room_;
};

}  // namespace

int serve_raw_beast() {
  asio::io_context ioc(1);
  Room room;
  auto listener = std::make_shared<Listener>(ioc, room);
  beast::error_code ec;
  if (!listener->open(ec)) {
    std::fprintf(stderr, "raw beast: %s\n", ec.message().c_str());
    return 1;
  }
  listener->do_accept();
  std::thread thread([&ioc] { ioc.run(); });
  std::printf("port %u\n", static_cast<unsigned>(listener->port()));
  std::fflush(stdout);
  char byte = 0;
  while (read(STDIN_FILENO, &byte, 1) > 0) {
  }
  ioc.stop();
  thread.join();
  return 0;
}

}  // namespace tickwire::bench
