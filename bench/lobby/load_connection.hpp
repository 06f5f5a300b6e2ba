#pragma once
// One client of the load generator: a WebSocket connection to 127.0.0.1 (ws:// or wss://) that
// says Hello on the lobby and then hands every message to on_message; and the helpers every
// workload drives its connections with. The Beast stream stays in load_connection.cpp, the only
// translation unit of the generator that compiles Beast templates.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lobby_wire.hpp"
#include "server_process.hpp"

namespace tickwire::bench {

struct LoadConnection : std::enable_shared_from_this<LoadConnection> {
  using MessageHandler = std::function<void(LoadConnection&, std::string_view)>;
  using DoneHandler = std::function<void(LoadConnection&, const std::string& error)>;

  LoadConnection(boost::asio::io_context& ioc, ServerKind server_kind, int client_index,
                 LobbyEncoding lobby_encoding = LobbyEncoding::binary);
  ~LoadConnection();

  // Connects, upgrades, says Hello on the lobby, then calls `ready` (error empty on success) and
  // keeps reading: every later message goes to on_message.
  void open(std::uint16_t port, std::string nickname, DoneHandler ready);

  void send(std::string message);

  // A close handshake once every queued write is out; `closed` is called when it is done.
  void close(DoneHandler closed);

  ServerKind kind;
  LobbyEncoding encoding;  // of every message to and from the lobby
  int index;
  std::string nick;
  std::deque<std::string> outbox;
  MessageHandler on_message;
  DoneHandler on_ready;
  DoneHandler on_closed;
  bool want_close = false;
  bool close_started = false;
  bool failed = false;
  // Fan-out bookkeeping.
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  int in_flight = 0;

 private:
  struct Stream;  // the Beast stream and its read buffer

  void upgrade(std::uint16_t port);
  void on_upgraded(const boost::system::error_code& ec);
  void ready(const std::string& error);
  void fail(const std::string& error);
  void do_read();
  void do_write();
  void do_close();

  std::unique_ptr<Stream> stream_;
};

using ConnectionPtr = std::shared_ptr<LoadConnection>;

// Runs `ioc` until it runs out of work (every connection closed) or is stopped, or `limit`
// passes: a stuck run fails instead of hanging.
void run_for(boost::asio::io_context& ioc, std::chrono::seconds limit);

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tickwire::bench
