// The load generator's clients: Beast async WebSocket streams on one io_context, driven on the
// calling thread. The only translation unit of the generator that compiles Beast templates. The
// streams sit on Tickwire's CoalescingStream, the layer that runs TLS (or not) at run time, so that
// one client type speaks ws:// and wss://.

#include "load_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <ctime>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "lobby_wire.hpp"
#include "websocket/coalescing_stream.hpp"

namespace tickwire::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
namespace wire = tickwire::schemas::lobby;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using lobby_wire::create_room;
using lobby_wire::hello;
using lobby_wire::is_reply;
using lobby_wire::join_room;
using lobby_wire::kHelloId;
using lobby_wire::kRoomId;
using lobby_wire::read_message;
using lobby_wire::reply_ok;
using lobby_wire::send_chat;
using net::websocket_detail::CoalescingStream;

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

// --- one client ------------------------------------------------------------------------------

struct Client : std::enable_shared_from_this<Client> {
  using MessageHandler = std::function<void(Client&, std::string_view)>;
  using DoneHandler = std::function<void(Client&, const std::string& error)>;

  Client(asio::io_context& ioc, ServerKind server_kind, int client_index,
         LobbyEncoding lobby_encoding = LobbyEncoding::binary)
      : ws(ioc), kind(server_kind), encoding(lobby_encoding), index(client_index) {}

  // Connects, upgrades, says Hello on the lobby, then calls `ready` (error empty on success) and
  // keeps reading: every later message goes to on_message.
  void open(std::uint16_t port, std::string nickname, DoneHandler ready) {
    on_ready = std::move(ready);
    nick = std::move(nickname);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    beast::get_lowest_layer(ws).async_connect(endpoint, [self = shared_from_this(),
                                                         port](beast::error_code ec) {
      if (ec) return self->fail("connect: " + ec.message());
      beast::get_lowest_layer(self->ws).set_option(tcp::no_delay(true), ec);
      if (self->kind != ServerKind::tickwire_lobby_tls) return self->upgrade(port);
      self->ws.next_layer().start_tls(client_tls_context(),
                                      net::websocket_detail::TlsSession::Role::client);
      self->ws.next_layer().async_tls_handshake([self, port](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail("TLS handshake: " + ec2.message());
        self->upgrade(port);
      });
    });
  }

  void send(std::string message) {
    outbox.push_back(std::move(message));
    if (outbox.size() == 1) do_write();
  }

  // A close handshake once every queued write is out; `closed` is called when it is done.
  void close(DoneHandler closed) {
    on_closed = std::move(closed);
    want_close = true;
    if (outbox.empty()) do_close();
  }

  websocket::stream<CoalescingStream, /*deflateSupported=*/false> ws;
  ServerKind kind;
  LobbyEncoding encoding;  // of every message to and from the lobby
  int index;
  std::string nick;
  beast::flat_buffer buffer;
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
  void upgrade(std::uint16_t port) {
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws.read_message_max(64 * 1024);
    ws.async_handshake(
        "127.0.0.1:" + std::to_string(port), "/",
        [self = shared_from_this()](beast::error_code ec) { self->on_upgraded(ec); });
  }

  void on_upgraded(beast::error_code ec) {
    if (ec) return fail("upgrade: " + ec.message());
    if (kind == ServerKind::raw_beast) {
      ws.text(true);
      do_read();
      return ready("");
    }
    ws.text(encoding == LobbyEncoding::json);
    on_message = [](Client& self, std::string_view frame) {
      const auto* message = read_message(self.encoding, frame);
      if (!is_reply(message, kHelloId)) return;
      self.on_message = nullptr;
      self.ready(reply_ok(message, kHelloId) ? "" : "Hello refused");
    };
    send(hello(encoding, nick));
    do_read();
  }

  void ready(const std::string& error) {
    if (auto handler = std::move(on_ready)) handler(*this, error);
  }

  void fail(const std::string& error) {
    if (failed) return;
    failed = true;
    if (on_ready) return ready(error);
    if (on_closed) {
      // A close that ends in an error still ends the connection.
      auto handler = std::move(on_closed);
      handler(*this, error);
    }
  }

  void do_read() {
    ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        // `closed` is the normal end after our close handshake.
        if (ec != websocket::error::closed && !self->close_started) {
          self->fail("read: " + ec.message());
        }
        return;
      }
      const auto data = self->buffer.cdata();
      // A copy: a handler may replace itself (on_message = ...) while it runs.
      if (auto handler = self->on_message) {
        handler(*self, {static_cast<const char*>(data.data()), data.size()});
      }
      self->buffer.consume(self->buffer.size());
      self->do_read();
    });
  }

  void do_write() {
    ws.async_write(asio::buffer(outbox.front()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (ec) return self->fail("write: " + ec.message());
                     self->outbox.pop_front();
                     if (!self->outbox.empty()) return self->do_write();
                     if (self->want_close) self->do_close();
                   });
  }

  void do_close() {
    if (close_started) return;
    close_started = true;
    ws.async_close(websocket::close_code::normal,
                   [self = shared_from_this()](beast::error_code ec) {
                     if (self->failed) return;
                     self->failed = true;  // finished: nothing more to report
                     if (auto handler = std::move(self->on_closed))
                       handler(*self, ec ? ec.message() : "");
                   });
  }
};

using ClientPtr = std::shared_ptr<Client>;

// CPU time of this process (the load generator) so far, in seconds.
double generator_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `ioc` until it runs out of work (every connection closed) or is stopped, or `limit`
// passes: a stuck run fails instead of hanging.
void run_for(asio::io_context& ioc, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!ioc.stopped() && Clock::now() < deadline)
    ioc.run_for(std::chrono::milliseconds(100));
}

// The sender's index from a chat line's text: "<index> <sequence> ...".
int sender_of(std::string_view text) {
  int index = 0;
  for (char c : text) {
    if (c < '0' || c > '9') break;
    index = index * 10 + (c - '0');
  }
  return index;
}

// --- fan-out ----------------------------------------------------------------------------------

class Fanout {
 public:
  Fanout(ServerKind kind, const std::vector<std::uint16_t>& ports, const FanoutSettings& settings,
         const std::function<std::vector<double>()>& readings)
      : kind_(kind), ports_(ports), settings_(settings), readings_(readings) {}

  FanoutResult run() {
    const double budget = 60 + settings_.warmup_seconds + settings_.seconds +
                          settings_.latency_probes * (kProbeDeadlineSeconds + 0.01);
    if (ports_.empty()) {
      result_.error = "no server to connect to";
      return result_;
    }
    for (int i = 0; i < settings_.clients; ++i) {
      clients_.push_back(std::make_shared<Client>(ioc_, kind_, i));
      clients_.back()->open(ports_[static_cast<std::size_t>(i) % ports_.size()],
                            "fan" + std::to_string(i),
                            [this](Client& client, const std::string& error) {
                              if (!error.empty()) return fail(error);
                              if (++connected_ == settings_.clients) on_all_connected();
                              (void)client;
                            });
    }
    run_for(ioc_, std::chrono::seconds(static_cast<int>(budget)));
    if (result_.error.empty() && !finished_) result_.error = "the run did not finish in time";
    for (const auto& client : clients_) {
      result_.lines_sent += client->sent;
      result_.deliveries += client->received;
    }
    const std::uint64_t expected = result_.lines_sent * static_cast<std::uint64_t>(clients_.size());
    result_.lost = expected > result_.deliveries ? expected - result_.deliveries : 0;
    return result_;
  }

 private:
  void fail(const std::string& error) {
    if (result_.error.empty()) result_.error = error;
    ioc_.stop();
  }

  void on_all_connected() {
    if (kind_ == ServerKind::raw_beast) return start_chat();
    // Client 0 creates the room; the others join it once it exists.
    Client& host = *clients_[0];
    host.on_message = [this](Client& self, std::string_view frame) {
      const auto* message = read_message(LobbyEncoding::binary, frame);
      if (!is_reply(message, kRoomId)) return;
      if (!reply_ok(message, kRoomId)) return fail("CreateRoom refused");
      room_ = message->body_as_RoomDetail()->summary()->room_id();
      self.on_message = nullptr;
      if (settings_.clients == 1) return start_chat();
      for (std::size_t i = 1; i < clients_.size(); ++i) {
        clients_[i]->on_message = [this](Client& member, std::string_view reply) {
          const auto* joined = read_message(LobbyEncoding::binary, reply);
          if (!is_reply(joined, kRoomId)) return;
          if (!reply_ok(joined, kRoomId)) return fail("JoinRoom refused");
          member.on_message = nullptr;
          if (++joined_ == settings_.clients - 1) start_chat();
        };
        clients_[i]->send(join_room(LobbyEncoding::binary, room_));
      }
    };
    host.send(create_room(LobbyEncoding::binary, static_cast<std::uint16_t>(settings_.clients)));
  }

  std::string line(Client& client) {
    std::string text = std::to_string(client.index) + " " + std::to_string(client.sent) + " ";
    if (text.size() < settings_.text_size) text.resize(settings_.text_size, '.');
    return kind_ == ServerKind::raw_beast ? text : send_chat(text);
  }

  void send_line(Client& client) {
    ++client.sent;
    ++client.in_flight;
    client.send(line(client));
  }

  void on_line(Client& client, std::string_view text) {
    ++client.received;
    if (counting_) {
      ++timed_;
      ++timed_by_server_[static_cast<std::size_t>(client.index) % ports_.size()];
    }
    if (probing_) return on_probe_delivery();
    if (sender_of(text) != client.index) return;
    --client.in_flight;
    if (sending_) send_line(client);
  }

  void start_chat() {
    for (const auto& client : clients_) {
      if (kind_ == ServerKind::raw_beast) {
        client->on_message = [this](Client& self, std::string_view text) { on_line(self, text); };
      } else {
        client->on_message = [this](Client& self, std::string_view frame) {
          const auto* message = read_message(LobbyEncoding::binary, frame);
          if (message == nullptr || message->body_type() != wire::LobbyBody::ChatMessage) return;
          const auto* text = message->body_as_ChatMessage()->line()->text();
          on_line(self, {text->c_str(), text->size()});
        };
      }
    }
    sending_ = true;
    for (const auto& client : clients_) {
      for (int w = 0; w < settings_.window; ++w)
        send_line(*client);
    }
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(settings_.warmup_seconds)));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      counting_ = true;
      timed_by_server_.assign(ports_.size(), 0);
      window_start_ = Clock::now();
      readings_start_ = readings_();
      generator_cpu_start_ = generator_cpu_seconds();
      timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(settings_.seconds)));
      timer_.async_wait([this](beast::error_code ec2) {
        if (ec2) return;
        counting_ = false;
        sending_ = false;
        result_.seconds = seconds_since(window_start_);
        const std::vector<double> readings_end = readings_();
        for (std::size_t i = 0; i < readings_end.size() && i < readings_start_.size(); ++i) {
          result_.window_readings.push_back(readings_end[i] - readings_start_[i]);
          if (i < ports_.size()) result_.server_cpu_seconds += result_.window_readings.back();
        }
        result_.timed_deliveries_by_server = timed_by_server_;
        result_.generator_cpu_seconds = generator_cpu_seconds() - generator_cpu_start_;
        result_.timed_deliveries = timed_;
        drain_deadline_ = Clock::now() + std::chrono::seconds(5);
        wait_for_drain();
      });
    });
  }

  // Sending has stopped: waits until every line in flight has reached every client (or 5 s).
  void wait_for_drain() {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    for (const auto& client : clients_) {
      sent += client->sent;
      received += client->received;
    }
    if (received >= sent * clients_.size() || Clock::now() > drain_deadline_) {
      return settings_.latency_probes > 0 ? send_probe() : close_all();
    }
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) wait_for_drain();
    });
  }

  // One line, sent by the clients in turn; the next goes 2 ms after every client has this one.
  void send_probe() {
    if (probes_sent_ == settings_.latency_probes) {
      probing_ = false;
      return close_all();
    }
    probing_ = true;
    probe_received_ = 0;
    Client& sender = *clients_[static_cast<std::size_t>(probes_sent_) % clients_.size()];
    ++probes_sent_;
    probe_sent_at_ = Clock::now();
    send_line(sender);
    // A probe that never reaches everyone ends the run: it shows as lost.
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(kProbeDeadlineSeconds)));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      probing_ = false;
      close_all();
    });
  }

  void on_probe_delivery() {
    result_.latency_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - probe_sent_at_).count());
    if (++probe_received_ < clients_.size()) return;
    timer_.expires_after(std::chrono::milliseconds(2));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) send_probe();
    });
  }

  void close_all() {
    finished_ = true;
    for (const auto& client : clients_) {
      client->on_message = nullptr;
      client->close([](Client&, const std::string&) {});
    }
  }

  asio::io_context ioc_{1};
  asio::steady_timer timer_{ioc_};
  ServerKind kind_;
  static constexpr double kProbeDeadlineSeconds = 5;
  std::vector<std::uint16_t> ports_;
  FanoutSettings settings_;
  std::function<std::vector<double>()> readings_;
  std::vector<ClientPtr> clients_;
  int connected_ = 0;
  int joined_ = 0;
  std::uint64_t room_ = 0;
  bool sending_ = false;
  bool counting_ = false;
  bool finished_ = false;
  std::uint64_t timed_ = 0;
  Clock::time_point window_start_;
  Clock::time_point drain_deadline_;
  std::vector<double> readings_start_;
  std::vector<std::uint64_t> timed_by_server_;
  bool probing_ = false;
  int probes_sent_ = 0;
  std::size_t probe_received_ = 0;
  Clock::time_point probe_sent_at_;
  double generator_cpu_start_ = 0;
  FanoutResult result_;
};

}  // namespace

FanoutResult run_fanout(ServerKind kind, const std::vector<std::uint16_t>& ports,
                        const FanoutSettings& settings,
                        const std::function<std::vector<double>()>& readings) {
  return Fanout(kind, ports, settings, readings).run();
}

// --- handshakes -------------------------------------------------------------------------------

HandshakeResult run_handshakes(ServerKind kind, std::uint16_t port, int count, int concurrency) {
  asio::io_context ioc(1);
  HandshakeResult result;
  int started = 0;
  int active = 0;
  std::function<void()> start_more;
  const auto finish_one = [&](const std::string& error) {
    --active;
    if (error.empty()) {
      ++result.completed;
    } else {
      ++result.failed;
      if (result.error.empty()) result.error = error;
    }
    start_more();
  };
  start_more = [&] {
    while (started < count && active < concurrency) {
      auto client = std::make_shared<Client>(ioc, kind, started);
      ++started;
      ++active;
      client->open(
          port, "hs" + std::to_string(started),
          [&finish_one](Client& self, const std::string& error) {
            if (!error.empty()) return finish_one(error);
            self.close([&finish_one](Client&, const std::string& closed) { finish_one(closed); });
          });
    }
  };
  const auto start = Clock::now();
  start_more();
  run_for(ioc, std::chrono::seconds(120));
  result.seconds = seconds_since(start);
  if (result.completed + result.failed < count && result.error.empty()) {
    result.error = "the run did not finish in time";
  }
  return result;
}

// --- idle connections -------------------------------------------------------------------------

namespace {

// Puts the open lobby `clients` into rooms of `room_size`: the first of each group creates the
// room, the rest join it once it exists. Calls `done` with an empty error once every one is in.
void join_rooms(const std::vector<ClientPtr>& clients, std::size_t room_size,
                const std::function<void(const std::string&)>& done) {
  auto placed = std::make_shared<std::size_t>(0);
  const auto place_one = [placed, total = clients.size(), done](const std::string& error) {
    if (!error.empty()) return done(error);
    if (++*placed == total) done("");
  };
  for (std::size_t first = 0; first < clients.size(); first += room_size) {
    const std::size_t end = std::min(clients.size(), first + room_size);
    std::vector<ClientPtr> members(clients.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                                   clients.begin() + static_cast<std::ptrdiff_t>(end));
    Client& host = *clients[first];
    host.on_message = [place_one, members](Client& self, std::string_view frame) {
      const auto* message = read_message(self.encoding, frame);
      if (!is_reply(message, kRoomId)) return;
      self.on_message = nullptr;
      if (!reply_ok(message, kRoomId)) return place_one("CreateRoom refused");
      const std::uint64_t room = message->body_as_RoomDetail()->summary()->room_id();
      place_one("");
      for (const ClientPtr& member : members) {
        member->on_message = [place_one](Client& joiner, std::string_view reply) {
          const auto* joined = read_message(joiner.encoding, reply);
          if (!is_reply(joined, kRoomId)) return;
          joiner.on_message = nullptr;
          place_one(reply_ok(joined, kRoomId) ? "" : "JoinRoom refused");
        };
        member->send(join_room(member->encoding, room));
      }
    };
    host.send(create_room(host.encoding, static_cast<std::uint16_t>(room_size)));
  }
}

}  // namespace

IdleResult run_idle(ServerKind kind, std::uint16_t port, int count, std::size_t room_size,
                    LobbyEncoding encoding, double settle_seconds,
                    const std::function<void(IdleStage)>& measure) {
  // As many upgrades at once as the lobby's max_pending_handshakes allows with room to spare.
  constexpr int kConcurrency = 64;
  asio::io_context ioc(1);
  asio::steady_timer timer(ioc);
  IdleResult result;
  std::vector<ClientPtr> clients;
  int started = 0;
  int active = 0;
  const auto settle_then = [&](const std::function<void()>& next) {
    timer.expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settle_seconds)));
    timer.async_wait([next](beast::error_code ec) {
      if (!ec) next();
    });
  };
  const auto close_all = [&] {
    for (const auto& client : clients)
      client->close([](Client&, const std::string&) {});
  };
  const std::function<void()> after_join = [&] {
    measure(IdleStage::joined_room);
    close_all();
  };
  const std::function<void()> after_hello = [&] {
    measure(IdleStage::said_hello);
    if (kind == ServerKind::raw_beast) return after_join();  // no rooms there
    join_rooms(clients, room_size, [&](const std::string& error) {
      if (error.empty()) return settle_then(after_join);
      if (result.error.empty()) result.error = error;
      ioc.stop();
    });
  };
  std::function<void()> start_more;
  start_more = [&] {
    while (started < count && active < kConcurrency) {
      clients.push_back(std::make_shared<Client>(ioc, kind, started, encoding));
      ++started;
      ++active;
      clients.back()->open(port, "idle" + std::to_string(started),
                           [&](Client&, const std::string& error) {
                             --active;
                             if (!error.empty()) {
                               if (result.error.empty()) result.error = error;
                               ioc.stop();
                               return;
                             }
                             if (++result.opened == count) settle_then(after_hello);
                             start_more();
                           });
    }
  };
  start_more();
  run_for(ioc, std::chrono::seconds(120));
  return result;
}

}  // namespace tickwire::bench
