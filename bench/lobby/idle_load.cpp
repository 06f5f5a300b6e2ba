// The idle workload: connections held open (and put in rooms on the lobby) while the caller
// measures what they cost the server.

#include "load_client.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "load_connection.hpp"
#include "lobby_wire.hpp"

namespace tickwire::bench {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Puts the open lobby `clients` into rooms of `room_size`: the first of each group creates the
// room, the rest join it once it exists. Calls `done` with an empty error once every one is in.
void join_rooms(const std::vector<ConnectionPtr>& clients, std::size_t room_size,
                const std::function<void(const std::string&)>& done) {
  auto placed = std::make_shared<std::size_t>(0);
  const auto place_one = [placed, total = clients.size(), done](const std::string& error) {
    if (!error.empty()) return done(error);
    if (++*placed == total) done("");
  };
  for (std::size_t first = 0; first < clients.size(); first += room_size) {
    const std::size_t end = std::min(clients.size(), first + room_size);
    std::vector<ConnectionPtr> members(clients.begin() + static_cast<std::ptrdiff_t>(first) + 1,
                                       clients.begin() + static_cast<std::ptrdiff_t>(end));
    LoadConnection& host = *clients[first];
    host.on_message = [place_one, members](LoadConnection& self, std::string_view frame) {
      const auto* message = lobby_wire::read_message(self.encoding, frame);
      if (!lobby_wire::is_reply(message, lobby_wire::kRoomId)) return;
      self.on_message = nullptr;
      if (!lobby_wire::reply_ok(message, lobby_wire::kRoomId))
        return place_one("CreateRoom refused");
      const std::uint64_t room = message->body_as_RoomDetail()->summary()->room_id();
      place_one("");
      for (const ConnectionPtr& member : members) {
        member->on_message = [place_one](LoadConnection& joiner, std::string_view reply) {
          const auto* joined = lobby_wire::read_message(joiner.encoding, reply);
          if (!lobby_wire::is_reply(joined, lobby_wire::kRoomId)) return;
          joiner.on_message = nullptr;
          place_one(lobby_wire::reply_ok(joined, lobby_wire::kRoomId) ? "" : "JoinRoom refused");
        };
        member->send(lobby_wire::join_room(member->encoding, room));
      }
    };
    host.send(lobby_wire::create_room(host.encoding, static_cast<std::uint16_t>(room_size)));
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
  std::vector<ConnectionPtr> clients;
  int started = 0;
  int active = 0;
  const auto settle_then = [&](const std::function<void()>& next) {
    timer.expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settle_seconds)));
    timer.async_wait([next](boost::system::error_code ec) {
      if (!ec) next();
    });
  };
  const auto close_all = [&] {
    for (const auto& client : clients)
      client->close([](LoadConnection&, const std::string&) {});
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
      clients.push_back(std::make_shared<LoadConnection>(ioc, kind, started, encoding));
      ++started;
      ++active;
      clients.back()->open(port, "idle" + std::to_string(started),
                           [&](LoadConnection&, const std::string& error) {
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
