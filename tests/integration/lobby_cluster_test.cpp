// Two LobbyServers on one shared state serve the same rooms: a player on A sees the room made on
// B, joins it, chats with B's player in order both ways, readies up, and gets a ticket the game
// server accepts. Run on a real redis-server (two states, as two processes would have) and on one
// in-memory state shared in this process. Prints the Redis round trips each kind of request cost
// (docs/cluster.md quotes them).

#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "../support/raw_tcp_client.hpp"
#include "../support/redis_server.hpp"
#include "lobby_fixture.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

enum class Shared { in_memory, redis };

class LobbyClusterTest : public LobbyTest, public testing::WithParamInterface<Shared> {
 protected:
  static constexpr int kLines = 10;  // chat lines each player sends

  void SetUp() override {
    if (GetParam() == Shared::in_memory) {
      state_a_ = net::make_in_memory_lobby_state();
      state_b_ = state_a_;
    } else {
      std::string error;
      redis_ = RedisServer::start(error);
      if (!redis_) GTEST_SKIP() << error;
      state_a_ = make_redis();
      state_b_ = make_redis();
      ASSERT_TRUE(state_a_ && state_b_);
    }
    // Both nodes sign tickets with the same key (issuer_), as nodes sharing a key file do.
    net::LobbyConfig config = fast_config();
    config.chat_burst = 4 * kLines;  // the test chats faster than a person
    node_a_ = std::make_unique<net::LobbyServer>(config, issuer_, state_a_);
    node_b_ = std::make_unique<net::LobbyServer>(config, issuer_, state_b_);
    ASSERT_TRUE(node_a_->start().ok());
    ASSERT_TRUE(node_b_->start().ok());
  }
  void TearDown() override {
    players_.clear();
    node_a_.reset();
    node_b_.reset();
  }

  std::shared_ptr<net::LobbyState> make_redis() {
    net::RedisLobbyStateConfig config;
    config.port = redis_->port();
    config.timeout_ms = 5000;
    auto made = net::make_redis_lobby_state(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }
  Player& player_on(net::LobbyServer& node) {
    players_.push_back(std::make_unique<Player>(node.port()));
    Player& player = *players_.back();
    EXPECT_TRUE(pump_players(players_, [&] { return player.connected(); }));
    return player;
  }
  static std::string rooms_page(std::uint16_t port) {
    RawTcpClient http(port);
    http.send_bytes("GET /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    http.read_until([](const std::string&) { return false; }, 2s);
    return http.received();
  }
  // The round trips one request costs on the node whose state is `state` (0 for the in-memory
  // state), for the report. Approximate: the node's own timers (resume and lease checks every
  // 50 ms, the /api/rooms snapshot) may add one now and then.
  template <typename Request>
  static std::uint64_t round_trips(const std::shared_ptr<net::LobbyState>& state, Request request) {
    const std::uint64_t before = state->round_trips();
    request();
    return state->round_trips() - before;
  }

  std::unique_ptr<RedisServer> redis_;
  std::shared_ptr<net::LobbyState> state_a_;
  std::shared_ptr<net::LobbyState> state_b_;
  std::unique_ptr<net::LobbyServer> node_a_;
  std::unique_ptr<net::LobbyServer> node_b_;
};

TEST_P(LobbyClusterTest, players_on_two_nodes_share_a_room_chat_in_order_and_get_tickets) {
  Player& bob = player_on(*node_b_);
  Player& amy = player_on(*node_a_);
  std::map<std::string, std::uint64_t> cost;
  std::uint64_t bob_id = 0;
  cost["Hello"] = round_trips(state_b_, [&] { bob_id = hello_ok(bob, "bob"); });
  const std::uint64_t amy_id = hello_ok(amy, "amy");
  ASSERT_NE(bob_id, 0u);
  ASSERT_NE(amy_id, 0u);
  // A nickname held on B is taken on A too.
  Player& copycat = player_on(*node_a_);
  EXPECT_EQ(code(call(copycat, 1, hello(1, "BOB"))), wire::ErrorCode::nickname_taken);

  const wire::LobbyMessage* created = nullptr;
  cost["CreateRoom"] =
      round_trips(state_b_, [&] { created = call(bob, 2, create_room(2, "cross-node", 4)); });
  ASSERT_TRUE(ok(created));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  // A's web page lists B's room (from A's snapshot, refreshed as the state changes).
  std::string page;
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        page = rooms_page(node_a_->port());
        return page.find("cross-node") != std::string::npos;
      },
      10s))
      << page;

  cost["JoinRoom"] =
      round_trips(state_a_, [&] { ASSERT_TRUE(ok(call(amy, 3, join_room(3, room)))); });
  // B's player hears of A's player joining, through the shared fan-out.
  ASSERT_TRUE(pump_players(
      players_, [&] { return !bob.events(wire::LobbyBody::Presence).empty(); }, 10s));

  for (int i = 0; i < kLines; ++i) {
    const auto id = static_cast<std::uint64_t>(10 + 2 * i);
    const std::uint64_t trips = round_trips(
        state_a_, [&] { ASSERT_TRUE(ok(call(amy, id, chat(id, "a" + std::to_string(i))))); });
    if (i == 0) cost["SendChat (room)"] = trips;
    ASSERT_TRUE(ok(call(bob, id + 1, chat(id + 1, "b" + std::to_string(i)))));
  }
  // Each side receives every line, and each sender's lines in the order they were sent.
  for (Player* player : {&amy, &bob}) {
    ASSERT_TRUE(pump_players(
        players_, [&] { return player->chat_lines() >= 2 * kLines; }, 10s))
        << player->chat_lines();
    int next_a = 0;
    int next_b = 0;
    for (const auto* event : player->events(wire::LobbyBody::ChatMessage)) {
      const std::string text = event->body_as_ChatMessage()->line()->text()->str();
      if (text[0] == 'a') {
        EXPECT_EQ(text, "a" + std::to_string(next_a++));
      } else {
        EXPECT_EQ(text, "b" + std::to_string(next_b++));
      }
    }
    EXPECT_EQ(next_a, kLines);
    EXPECT_EQ(next_b, kLines);
  }

  cost["SetReady"] =
      round_trips(state_a_, [&] { ASSERT_TRUE(ok(call(amy, 50, set_ready(50, true)))); });
  ASSERT_TRUE(ok(call(bob, 51, set_ready(51, true))));
  // Both readies are in the state whichever node answered: the host on B starts the match.
  cost["StartMatch"] =
      round_trips(state_b_, [&] { ASSERT_TRUE(ok(call(bob, 52, start_match(52)))); });
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        return !amy.events(wire::LobbyBody::MatchStart).empty() &&
               !bob.events(wire::LobbyBody::MatchStart).empty();
      },
      10s));
  // Either node's ticket is accepted by the game server: both sign with the shared key.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7777", local_server_keys());
  for (auto [player, id] : {std::pair{&amy, amy_id}, std::pair{&bob, bob_id}}) {
    ASSERT_EQ(player->events(wire::LobbyBody::MatchStart).size(), 1u);
    const auto* start = player->events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart();
    const net::TicketCheck check = verifier.verify(
        {reinterpret_cast<const std::byte*>(start->ticket()->data()), start->ticket()->size()},
        net::unix_time_ms());
    ASSERT_TRUE(check.ok) << net::to_string(check.error);
    EXPECT_EQ(check.ticket.player_id, id);
  }
  EXPECT_EQ(node_a_->counters().rooms, 1u);
  EXPECT_EQ(node_a_->counters().players, 3u - 1u);  // the copycat never got a nickname

  if (GetParam() == Shared::redis) {
    for (const auto& [request, trips] : cost) {
      std::cout << "redis round trips: " << request << " = " << trips << "\n";
      // A room chat line costs the lobby's thread none: its append and PUBLISH go from the
      // publisher thread, which may send them after the window closed (a loaded machine: 0).
      if (request != "SendChat (room)") {
        EXPECT_GT(trips, 0u) << request;
      }
    }
  }
}

// A player comes back on node B while their session on node A is still open (a half-open
// connection A has not noticed): B resumes them, A closes the old connection, and the player has
// one session. The old token does not work again, nor does the old connection speak for them.
TEST_P(LobbyClusterTest, a_resume_on_another_node_ends_the_session_still_open_there) {
  Player& amy = player_on(*node_a_);
  const auto* welcome = call(amy, 1, hello(1, "amy"));
  ASSERT_TRUE(ok(welcome));
  const std::uint64_t amy_id = welcome->body_as_Welcome()->player_id();
  const std::string token = welcome->body_as_Welcome()->resume_token()->str();
  ASSERT_TRUE(ok(call(amy, 2, create_room(2, "kept", 4))));
  const std::uint64_t room_count = node_b_->counters().rooms;

  Player& back = player_on(*node_b_);
  const auto* resumed = call(back, 1, hello(1, "", token));
  ASSERT_TRUE(ok(resumed));
  EXPECT_EQ(resumed->body_as_Welcome()->player_id(), amy_id);
  ASSERT_NE(resumed->body_as_Welcome()->room(), nullptr);
  // A closed the old connection, as one whose player resumed elsewhere (kicked, close 1000).
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.disconnected(); }, 10s));
  EXPECT_EQ(amy.log().disconnected.at(0).second, net::DisconnectReason::kicked);
  // The seat and nickname stayed: the old connection's close freed nothing.
  ASSERT_TRUE(ok(call(back, 2, chat(2, "still here"))));
  Player& copycat = player_on(*node_a_);
  EXPECT_EQ(code(call(copycat, 1, hello(1, "amy"))), wire::ErrorCode::nickname_taken);
  EXPECT_EQ(code(call(copycat, 2, hello(2, "", token))), wire::ErrorCode::resume_failed);
  EXPECT_EQ(node_b_->counters().rooms, room_count);
}

// The chat lines a player received, in order.
std::vector<std::string> lines_of(const Player& player) {
  std::vector<std::string> lines;
  for (const auto* event : player.events(wire::LobbyBody::ChatMessage))
    lines.push_back(event->body_as_ChatMessage()->line()->text()->str());
  return lines;
}

// A node delivers a room's chat to its own players only, and with a Redis state it reuses the
// room's members it read for an earlier batch while nothing can have changed them. So a player
// kicked by a host on the other node, one who leaves, and one who joins on this node must each
// hear exactly the lines sent while they were in the room (a joiner's earlier ones come in the
// join's reply, not as chat events), however busy the chat was before.
TEST_P(LobbyClusterTest, chat_reaches_exactly_who_is_in_the_room_as_players_come_and_go) {
  Player& bob = player_on(*node_b_);  // the host, on B
  Player& amy = player_on(*node_a_);
  Player& cat = player_on(*node_a_);
  ASSERT_NE(hello_ok(bob, "bob"), 0u);
  ASSERT_NE(hello_ok(amy, "amy"), 0u);
  const std::uint64_t cat_id = hello_ok(cat, "cat");
  ASSERT_NE(cat_id, 0u);
  const auto* created = call(bob, 2, create_room(2, "comings", 4));
  ASSERT_TRUE(ok(created));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  ASSERT_TRUE(ok(call(amy, 2, join_room(2, room))));
  ASSERT_TRUE(ok(call(cat, 2, join_room(2, room))));
  // A busy room: A reads its members once and keeps delivering to them.
  for (int i = 0; i < kLines; ++i) {
    const auto id = static_cast<std::uint64_t>(10 + i);
    ASSERT_TRUE(ok(call(bob, id, chat(id, "busy" + std::to_string(i)))));
  }
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.chat_lines() == kLines && cat.chat_lines() == kLines; }, 10s));

  // B's host kicks A's cat: A hears of it only through the fan-out.
  ASSERT_TRUE(ok(call(bob, 30, kick(30, cat_id))));
  ASSERT_TRUE(ok(call(bob, 31, chat(31, "after the kick"))));
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.chat_lines() == kLines + 1; }, 10s));
  // Delivered on A in the same turn as amy's copy, had cat still been counted a member.
  pump_players(
      players_, [] { return false; }, 300ms);
  EXPECT_EQ(cat.chat_lines(), static_cast<std::size_t>(kLines)) << lines_of(cat).back();

  // amy leaves and dan joins, both on A (cat, kicked, may not come back).
  Player& dan = player_on(*node_a_);
  ASSERT_NE(hello_ok(dan, "dan"), 0u);
  ASSERT_TRUE(ok(call(amy, 40, leave_room(40))));
  ASSERT_TRUE(ok(call(dan, 40, join_room(40, room))));
  ASSERT_TRUE(ok(call(bob, 41, chat(41, "after the join"))));
  ASSERT_TRUE(pump_players(
      players_, [&] { return dan.chat_lines() == 1; }, 10s));
  pump_players(
      players_, [] { return false; }, 300ms);
  EXPECT_EQ(lines_of(dan), std::vector<std::string>{"after the join"});
  EXPECT_EQ(amy.chat_lines(), static_cast<std::size_t>(kLines + 1)) << lines_of(amy).back();
  EXPECT_EQ(cat.chat_lines(), static_cast<std::size_t>(kLines));
}

std::string shared_name(const testing::TestParamInfo<Shared>& param) {
  return param.param == Shared::in_memory ? "in_memory" : "redis";
}

INSTANTIATE_TEST_SUITE_P(SharedState, LobbyClusterTest,
                         testing::Values(Shared::in_memory, Shared::redis), shared_name);

}  // namespace
}  // namespace tickwire::test
