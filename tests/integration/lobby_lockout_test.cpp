// One address takes everything it is allowed: connections, pending handshakes, connection rate,
// rooms and nicknames. A visitor from another address (127.0.0.2, still loopback) loads the page,
// connects and chats all the same, and so do two honest players who were there before.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/honest_chatters.hpp"
#include "../support/raw_json_player.hpp"
#include "../support/raw_tcp_client.hpp"
#include "../support/raw_websocket.hpp"
#include "../support/temp_directory.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

bool ok(const std::string& reply) {
  return reply.find(R"("ok": true)") != std::string::npos;
}

// A plaintext lobby on any free port, serving a one-line page from a folder of its own.
class LobbyLockout : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(web_root_ / "index.html") << "<!doctype html><title>Lobby</title>";
    config_.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config_.websocket.port = 0;
    config_.websocket.common.shutdown_timeout_ms = 300;
    config_.web_root = web_root_.string();
    lobby_.emplace(config_, net::JoinTicketIssuer::generate());
    ASSERT_TRUE(lobby_->start().ok());
  }

  const TempDirectory web_root_{"tickwire-lockout"};
  net::LobbyConfig config_;
  std::optional<net::LobbyServer> lobby_;
};

TEST_F(LobbyLockout, one_address_holding_all_it_may_leaves_room_for_a_visitor_from_another) {
  const std::uint16_t port = lobby_->port();
  HonestChatters honest(port);  // from 127.0.0.1 too, before the attack
  ASSERT_TRUE(honest.ready());

  // The attacker, on 127.0.0.1: players who create a room each and go (their seats keep the
  // rooms and the nicknames for the grace period), until the address may have no more.
  std::size_t rooms = 0;
  std::size_t nicknames = 2;  // the honest players'
  std::size_t refusals = 0;
  std::string room_refusal;
  std::string nickname_refusal;
  for (int i = 0; i < 100 && nickname_refusal.empty(); ++i) {
    RawJsonPlayer player(port, "127.0.0.1");
    ASSERT_EQ(player.status(), "HTTP/1.1 101");
    const std::string hello =
        player.call(1, "Hello", R"({"nickname": "hog)" + std::to_string(i) + R"("})");
    if (!ok(hello)) {
      nickname_refusal = hello;
      ++refusals;
      break;
    }
    ++nicknames;
    const std::string room = player.call(2, "CreateRoom", R"({"name": "hogged"})");
    if (ok(room)) {
      ++rooms;
    } else {
      ++refusals;
      if (room_refusal.empty()) room_refusal = room;
    }
    honest.poll();
  }
  // The rooms and nicknames of one address stop at its share, with an error that says so.
  EXPECT_EQ(rooms, config_.max_rooms_per_address - 1);  // the honest players have one
  EXPECT_EQ(nicknames, config_.max_nicknames_per_address);
  EXPECT_NE(room_refusal.find(R"("code": "address_limit")"), std::string::npos) << room_refusal;
  EXPECT_NE(nickname_refusal.find(R"("code": "address_limit")"), std::string::npos)
      << nickname_refusal;
  // Every connection the address may have (once the players above are gone): the one after is
  // refused...
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (lobby_->counters().connections > 2 && std::chrono::steady_clock::now() < deadline) {
    honest.poll();
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(lobby_->counters().connections, 2u);
  std::vector<std::unique_ptr<RawJsonPlayer>> held;
  for (std::size_t i = 2; i < config_.websocket.max_connections_per_address; ++i) {
    held.push_back(std::make_unique<RawJsonPlayer>(port, "127.0.0.1"));
    EXPECT_EQ(held.back()->status(), "HTTP/1.1 101");
  }
  RawJsonPlayer one_more(port, "127.0.0.1");
  EXPECT_EQ(one_more.status(), "HTTP/1.1 503");
  // ... and every pending handshake: sockets that send nothing.
  std::vector<std::unique_ptr<RawTcpClient>> idle;
  for (std::size_t i = 0; i < config_.websocket.max_connections_per_address + 4; ++i)
    idle.push_back(std::make_unique<RawTcpClient>(port, 0, "127.0.0.1"));

  // ... and its connection rate: a burst of new connections beyond it is cut off at once.
  for (std::size_t i = 0; i < config_.websocket.connection_burst_per_address + 16; ++i)
    RawTcpClient churn(port, 0, "127.0.0.1");
  const auto counted = std::chrono::steady_clock::now() + 5s;
  while (lobby_->counters().transport_rate_limited == 0 &&
         std::chrono::steady_clock::now() < counted)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(lobby_->counters().transport_rate_limited, 1u);

  // A visitor from 127.0.0.2 loads the page, connects, says Hello, opens a room and chats.
  RawTcpClient page(port, 0, "127.0.0.2");
  ASSERT_TRUE(page.send_bytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  page.read_until([](const std::string&) { return false; }, 3s);
  EXPECT_EQ(page.received().rfind("HTTP/1.1 200", 0), 0u) << page.received().substr(0, 100);
  EXPECT_NE(page.received().find("<title>Lobby</title>"), std::string::npos);
  RawJsonPlayer visitor(port, "127.0.0.2");
  ASSERT_EQ(visitor.status(), "HTTP/1.1 101");
  EXPECT_TRUE(ok(visitor.call(1, "Hello", R"({"nickname": "visitor"})")));
  EXPECT_TRUE(ok(visitor.call(2, "CreateRoom", R"({"name": "visiting"})")));
  for (int line = 0; line < 3; ++line) {
    EXPECT_TRUE(ok(
        visitor.call(10 + line, "SendChat",
                     R"({"text": "hello from 127.0.0.2, line )" + std::to_string(line) + R"("})")));
    honest.poll();
  }
  // Its lines come back to it, as to every member of its room.
  EXPECT_TRUE(visitor.read_until([](const std::vector<std::string>& texts) {
    std::size_t echoed = 0;
    for (const std::string& text : texts)
      echoed += text.find(R"("ChatMessage")") != std::string::npos ? 1 : 0;
    return echoed == 3;
  }));
  EXPECT_FALSE(visitor.closed());

  const net::LobbyCounters counters = lobby_->counters();
  EXPECT_EQ(counters.refused_address_limit, refusals);
  EXPECT_EQ(honest.check_nothing_lost(), "");
}

// A browser asks for a page's files over connections it would keep alive (HTTP/1.1's default)
// and then upgrades one more. Every connection holds a pending-handshake slot of its address
// until its HTTP stage ends, so the lobby answers each plain request and closes: pages loaded by
// players behind one address (a NAT) leave their upgrades room, with the header deadline far off
// (the default 5 s: kept open, the page's connections held every slot until then).
TEST_F(LobbyLockout, plain_requests_close_so_a_pages_files_leave_room_for_its_upgrade) {
  for (std::size_t i = 0; i < config_.websocket.max_connections_per_address; ++i) {
    RawTcpClient file(lobby_->port(), 0, "127.0.0.1");
    ASSERT_TRUE(file.send_bytes("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
    // The answer, then the end of the connection, which the browser closes in turn (it would
    // have kept it for its next request).
    file.read_until([](const std::string&) { return false; }, 3s);
    EXPECT_EQ(file.received().rfind("HTTP/1.1 200", 0), 0u) << file.received().substr(0, 100);
    EXPECT_NE(file.received().find("Connection: close"), std::string::npos);
    EXPECT_TRUE(file.closed()) << "connection " << i << " was kept open";
  }
  // The page upgrades from the same address, long before any connection's header deadline.
  RawJsonPlayer player(lobby_->port(), "127.0.0.1");
  ASSERT_EQ(player.status(), "HTTP/1.1 101");
  EXPECT_TRUE(ok(player.call(1, "Hello", R"({"nickname": "after_the_page"})")));
}

}  // namespace
}  // namespace tickwire::test
