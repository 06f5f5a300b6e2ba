// The Arena game server over real ENet on 127.0.0.1, against what a player controls: inputs sent
// at ten times the tick rate with out-of-range values (a speed hack), and garbage from one player
// while another keeps playing. The server runs on its own thread, the players on this one.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/schemas/aligned_view.hpp>
#include <tickwire/sim/replicator.hpp>

#include "../support/created.hpp"
#include "../support/raw_tcp_client.hpp"
#include "arena_client.hpp"
#include "arena_match_generated.h"
#include "arena_server.hpp"
#include "game_metrics.hpp"
#include "ticketed_arena.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using Clock = std::chrono::steady_clock;

using test::ServerThread;
using test::TestLobby;

class ArenaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config = lobby_.server_config();
    config.match_seconds = 60;
    auto started = ArenaServer::start(config);
    ASSERT_TRUE(started.ok()) << started.error();
    server_ = std::move(started.value());
  }
  // Runs the server for `seconds` on its own thread.
  void serve(double seconds) {
    thread_ = std::thread([this, seconds] {
      server_->run_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
    });
  }
  void TearDown() override {
    if (thread_.joinable()) thread_.join();
  }
  // A player's connection as the game's own client makes it.
  ClientConfig arena_client(std::uint64_t player) {
    return lobby_.client_config(player, server_->port());
  }
  // The same as a bare ENet client, to send what the game's client never would.
  net::EnetClientConfig raw_client(std::uint64_t player) {
    const net::IssuedTicket issued = lobby_.ticket(player);
    net::EnetClientConfig config;
    config.server_port = server_->port();
    config.common.channel_count = kGameChannels;
    config.join_ticket = issued.ticket;
    config.session_keys = issued.keys;
    return config;
  }

  TestLobby lobby_;
  std::unique_ptr<ArenaServer> server_;
  std::thread thread_;
};

// An input as a hacked client would build it: the largest values the wire format can carry
// (move codes of 3 both ways, firing, the longest lag compensation there is).
std::vector<std::byte> raw_input() {
  return {std::byte{0x1F}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}};
}

TEST(ArenaServerConfig,
     a_bad_tick_rate_budget_view_radius_or_network_batch_is_refused_naming_field_and_value) {
  ServerConfig config;
  config.tick_rate_hz = 0;
  const auto no_ticks = ArenaServer::start(config);
  ASSERT_FALSE(no_ticks.ok());
  EXPECT_NE(no_ticks.error().find("tick_rate_hz = 0"), std::string::npos) << no_ticks.error();
  config.tick_rate_hz = 60;
  config.snapshot_budget_bytes = 10;
  const auto tiny_budget = ArenaServer::start(config);
  ASSERT_FALSE(tiny_budget.ok());
  EXPECT_NE(tiny_budget.error().find("max_snapshot_bytes = 10"), std::string::npos)
      << tiny_budget.error();
  config.snapshot_budget_bytes = 160;
  config.view_radius_m = -1;
  const auto negative_radius = ArenaServer::start(config);
  ASSERT_FALSE(negative_radius.ok());
  EXPECT_NE(negative_radius.error().find("view_radius_m = -1"), std::string::npos)
      << negative_radius.error();
  config.view_radius_m = 45;
  config.network_batch_us = 100'001;
  const auto long_batch = ArenaServer::start(config);
  ASSERT_FALSE(long_batch.ok());
  EXPECT_NE(long_batch.error().find("network_batch_us = 100001"), std::string::npos)
      << long_batch.error();
}

TEST(ArenaClientConfig, an_update_interval_out_of_range_is_refused_naming_the_field) {
  for (const std::uint32_t bad : {0u, kMaxTicksPerUpdate + 1}) {
    ClientConfig config;
    config.server_address = "127.0.0.1:9";
    config.ticks_per_update = bad;
    const auto client = ArenaClient::connect(config);
    ASSERT_FALSE(client.ok()) << bad;
    EXPECT_NE(client.error().find("ticks_per_update = " + std::to_string(bad)), std::string::npos)
        << client.error();
  }
}

TEST_F(ArenaServerTest, inputs_at_ten_times_the_tick_rate_move_a_player_no_faster_than_the_rules) {
  serve(4.0);
  auto client = std::move(net::make_enet_client(raw_client(1)).value());
  const auto replicator = tickwire::test::created(sim::ClientReplicator::create(schema()));
  sim::EntityId self = 0;
  sim::WireTick next_input = 0;
  struct Seen {
    sim::WireTick tick;
    double x, y;
  };
  std::vector<Seen> seen;
  const auto end = Clock::now() + std::chrono::milliseconds(3500);
  while (Clock::now() < end) {
    net::Event event;
    while (client->poll(event)) {
      if (event.type != net::EventType::message) continue;
      if (event.channel == kMatchChannel) {
        const tickwire::schemas::AlignedView view(event.payload.bytes());
        const auto* message = match::GetMatchMessage(view.data());
        if (message->body_type() == match::MatchBody::Joined)
          self = message->body_as_Joined()->entity_id();
      } else if (replicator->on_message(event.payload.bytes())) {
        if (const auto own = replicator->latest().find(self)) {
          seen.push_back(
              {replicator->latest_tick(),
               schema().dequantize(own->type, player_fields().x, own->fields[player_fields().x]),
               schema().dequantize(own->type, player_fields().y, own->fields[player_fields().y])});
        }
        if (next_input == 0) next_input = replicator->latest_tick() + 2;
      }
    }
    if (next_input != 0) {
      // Ten ticks of input every frame, each asking for more than the top speed: a client
      // trying to run ten times as fast.
      for (int i = 0; i < 10; ++i)
        replicator->add_input(next_input++, raw_input());
      (void)client->send(kSnapshotChannel, net::Delivery::unreliable, replicator->update_message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  thread_.join();
  ASSERT_GT(seen.size(), 60u);
  // Over every stretch of at least half a second the player covered at most what the top speed
  // allows (6 m/s, diagonals included) — and did move, so the inputs were not simply ignored.
  const Config rules;
  double fastest = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    for (std::size_t j = i + 1; j < seen.size(); ++j) {
      const double seconds = (seen[j].tick - seen[i].tick) / rules.tick_rate_hz;
      if (seconds < 0.5) continue;
      const double distance = std::hypot(seen[j].x - seen[i].x, seen[j].y - seen[i].y);
      fastest = std::max(fastest, distance / seconds);
    }
  }
  EXPECT_LE(fastest, rules.player_speed + 0.05);
  EXPECT_GT(fastest, rules.player_speed * 0.5);
  // Inputs were applied (the flood soon runs further ahead of the server's tick than it takes:
  // those are refused, and the last applied input is held).
  EXPECT_GT(server_->stats().inputs_applied, 0u);
}

TEST_F(ArenaServerTest, garbage_from_one_player_is_dropped_and_counted_while_another_plays) {
  serve(3.0);
  auto honest = std::move(ArenaClient::connect(arena_client(1)).value());
  auto vandal = std::move(net::make_enet_client(raw_client(2)).value());

  std::optional<net::DisconnectReason> vandal_reason;
  std::mt19937 random(11);
  const auto end = Clock::now() + std::chrono::milliseconds(2500);
  auto last = Clock::now();
  while (Clock::now() < end) {
    const auto now = Clock::now();
    honest->update(now - last, Intent{.move_x = 1, .move_y = 0, .aim = 0, .fire = false});
    last = now;
    net::Event event;
    while (vandal->poll(event)) {
      if (event.type == net::EventType::disconnected) vandal_reason = event.reason;
    }
    if (vandal->state() == net::ClientState::connected) {
      std::vector<std::byte> junk(1 + random() % 200);
      for (auto& b : junk)
        b = static_cast<std::byte>(random());
      (void)vandal->send(kSnapshotChannel, net::Delivery::unreliable, junk);
      (void)vandal->send(kMatchChannel, net::Delivery::reliable_ordered, junk);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  thread_.join();
  const ServerStats& stats = server_->stats();
  // The junk was dropped and counted, and its sender disconnected with the reason...
  EXPECT_GT(stats.unexpected_messages, 0u);  // the match channel takes nothing from players
  EXPECT_GT(stats.malformed_updates, 0u);    // client updates that do not decode
  EXPECT_EQ(stats.players_disconnected_for_abuse, 1u);
  // On the wire the snapshots cost more than their payload (ENet's headers and acks).
  EXPECT_GT(server_->counters().wire_bytes_sent, stats.bytes_sent);
  EXPECT_GT(server_->counters().datagrams_sent, 40u);
  ASSERT_TRUE(vandal_reason.has_value());
  EXPECT_EQ(*vandal_reason, net::DisconnectReason::protocol_error);
  // ...while the honest player kept playing.
  EXPECT_EQ(honest->phase(), ClientPhase::playing);
  EXPECT_GT(honest->net_graph().snapshots, 40u);
  EXPECT_GT(honest->predicted().x, -60.0);
  EXPECT_GT(honest->predicted().vx, 0.0);
}

TEST(ArenaServer, a_match_ends_with_final_scores_and_a_late_ticket_cannot_restart_it) {
  const TestLobby lobby;
  ServerConfig config = lobby.server_config();
  config.match_seconds = 0.5;
  config.linger_ms = 200;
  std::vector<std::uint64_t> ended;
  config.on_match_over = [&ended](std::uint64_t match, net::MatchEndReason outcome) {
    EXPECT_EQ(outcome, net::MatchEndReason::finished);
    ended.push_back(match);
  };
  auto server = std::move(ArenaServer::start(config).value());
  std::thread thread([&] { server->run_for(std::chrono::milliseconds(2500)); });

  const auto connect = [&](std::uint64_t player) {
    return std::move(ArenaClient::connect(lobby.client_config(player, server->port())).value());
  };
  auto early = connect(1);
  bool saw_over = false;
  const auto until = Clock::now() + std::chrono::milliseconds(2000);
  while (Clock::now() < until && early->phase() != ClientPhase::disconnected) {
    early->update(std::chrono::milliseconds(16), Intent{});
    saw_over = saw_over || early->phase() == ClientPhase::over;
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  // The final scores came before the server closed the connection, normally.
  EXPECT_TRUE(saw_over);
  EXPECT_EQ(early->phase(), ClientPhase::disconnected);
  EXPECT_EQ(early->disconnect_reason(), net::DisconnectReason::closed);
  ASSERT_EQ(early->scores().size(), 1u);
  EXPECT_EQ(early->scores()[0].lobby_player_id, 1u);

  // A player who never made it in comes with an unused ticket for the finished match: refused.
  auto late = connect(2);
  const auto late_until = Clock::now() + std::chrono::milliseconds(400);
  while (Clock::now() < late_until && late->phase() != ClientPhase::disconnected) {
    late->update(std::chrono::milliseconds(16), Intent{});
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  thread.join();
  EXPECT_EQ(late->phase(), ClientPhase::disconnected);
  EXPECT_EQ(late->disconnect_reason(), net::DisconnectReason::refused);
  EXPECT_EQ(ended, std::vector<std::uint64_t>{7});
  EXPECT_EQ(server->stats().matches_finished, 1u);
}

// Updates `clients` every 16 ms until `done()` or `seconds` pass; returns done().
bool play_until(std::vector<ArenaClient*> clients, const std::function<bool()>& done,
                double seconds = 20) {
  const auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (!done()) {
    if (Clock::now() > until) return false;
    for (ArenaClient* client : clients)
      client->update(std::chrono::milliseconds(16), Intent{});
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  return true;
}

const ScoreLine* score_of(const ArenaClient& client, std::uint64_t lobby_player) {
  for (const ScoreLine& line : client.scores()) {
    if (line.lobby_player_id == lobby_player) return &line;
  }
  return nullptr;
}

struct ReconnectSetup {
  TestLobby lobby;
  std::unique_ptr<ArenaServer> server;
  // Written on the server's thread, read on the test's.
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, net::MatchEndReason>> ended;

  std::vector<std::pair<std::uint64_t, net::MatchEndReason>> ended_matches() {
    const std::lock_guard lock(mutex);
    return ended;
  }

  explicit ReconnectSetup(std::uint32_t grace_ms) {
    ServerConfig config = lobby.server_config();
    config.match_seconds = 120;
    config.reconnect_grace_ms = grace_ms;
    // Everyone sees everyone, wherever they spawned: these tests look for a dropped player's
    // entity in another player's view.
    config.view_radius_m = 0;
    config.on_match_over = [this](std::uint64_t match, net::MatchEndReason outcome) {
      const std::lock_guard lock(mutex);
      ended.emplace_back(match, outcome);
    };
    server = std::move(ArenaServer::start(config).value());
  }
  // A fresh ticket (a new nonce) each time, as the lobby issues one to a returning player.
  std::unique_ptr<ArenaClient> connect(std::uint64_t player) {
    return std::move(ArenaClient::connect(lobby.client_config(player, server->port())).value());
  }
};

TEST(ArenaServer, a_dropped_player_returns_to_the_same_idle_entity_within_the_grace) {
  ReconnectSetup setup(/*grace_ms=*/60'000);
  ServerThread running(*setup.server);
  auto ann = setup.connect(1);
  auto bob = setup.connect(2);
  ASSERT_TRUE(play_until({ann.get(), bob.get()}, [&] {
    return ann->phase() == ClientPhase::playing && bob->phase() == ClientPhase::playing &&
           score_of(*bob, 1) != nullptr;
  }));
  const tickwire::sim::EntityId ann_entity = ann->self();
  const auto bob_sees_ann = [&] {
    const auto view = bob->view();
    return std::any_of(view.begin(), view.end(),
                       [&](const DrawEntity& e) { return e.id == ann_entity; });
  };
  // The score table can reach Bob before a snapshot that carries Ann's entity (his snapshots
  // bring the world in over several, within their budget), and over his first snapshots his
  // view's clock is still settling: it shows a newly arrived entity, then a moment before it
  // arrived. A second of snapshots in, his view is steady.
  ASSERT_TRUE(play_until({ann.get(), bob.get()},
                         [&] { return bob->net_graph().snapshots >= 30 && bob_sees_ann(); }));

  ann.reset();  // Ann's game quits (or her network goes)
  ASSERT_TRUE(play_until({bob.get()}, [&] {
    const ScoreLine* line = score_of(*bob, 1);
    return line != nullptr && !line->connected;
  }));
  // Her entity stays in the world, idle, for everyone else to see: in every view Bob has over
  // the next second of snapshots (a removal would reach him within it).
  const std::uint64_t snapshots = bob->net_graph().snapshots;
  bool always_seen = true;
  ASSERT_TRUE(play_until({bob.get()}, [&] {
    always_seen = always_seen && bob_sees_ann();
    return bob->net_graph().snapshots >= snapshots + 30;
  }));
  EXPECT_TRUE(always_seen);

  auto ann_again = setup.connect(1);
  ASSERT_TRUE(play_until({ann_again.get(), bob.get()}, [&] {
    const ScoreLine* line = score_of(*bob, 1);
    return ann_again->phase() == ClientPhase::playing && line != nullptr && line->connected;
  }));
  EXPECT_EQ(ann_again->self(), ann_entity);
  EXPECT_TRUE(setup.ended_matches().empty());  // the match went on
}

TEST(ArenaServer, a_player_back_before_their_dead_connection_timed_out_takes_over_their_entity) {
  ReconnectSetup setup(/*grace_ms=*/60'000);
  ServerThread running(*setup.server);
  auto crashed = setup.connect(1);
  ASSERT_TRUE(
      play_until({crashed.get()}, [&] { return crashed->phase() == ClientPhase::playing; }));
  const tickwire::sim::EntityId entity = crashed->self();
  // Her game hangs (it no longer polls), and she starts it again with a fresh ticket.
  auto restarted = setup.connect(1);
  ASSERT_TRUE(
      play_until({restarted.get()}, [&] { return restarted->phase() == ClientPhase::playing; }));
  EXPECT_EQ(restarted->self(), entity);
  // The hung connection is told it was replaced, the new one plays on.
  ASSERT_TRUE(play_until({crashed.get(), restarted.get()},
                         [&] { return crashed->phase() == ClientPhase::disconnected; }));
  EXPECT_EQ(crashed->disconnect_reason(), net::DisconnectReason::kicked);
  EXPECT_EQ(restarted->phase(), ClientPhase::playing);
}

TEST(ArenaServer, a_match_everyone_left_ends_as_abandoned_after_the_grace) {
  ReconnectSetup setup(/*grace_ms=*/300);
  ServerThread running(*setup.server);
  {
    auto ann = setup.connect(1);
    ASSERT_TRUE(play_until({ann.get()}, [&] { return ann->phase() == ClientPhase::playing; }));
  }
  // Nobody comes back: the match ends, so the lobby can give the room back.
  ASSERT_TRUE(play_until({}, [&] { return !setup.ended_matches().empty(); }));
  EXPECT_EQ(setup.ended_matches().front(),
            std::make_pair(std::uint64_t{7}, net::MatchEndReason::abandoned));
  // And it cannot be started again by a late ticket.
  auto late = setup.connect(1);
  ASSERT_TRUE(play_until({late.get()}, [&] { return late->phase() == ClientPhase::disconnected; }));
  EXPECT_EQ(late->disconnect_reason(), net::DisconnectReason::refused);
}

// /healthz is the tick loop's heartbeat: while the main loop stops handing over its figures it
// fails with the reason, and it recovers as soon as the loop turns again.
TEST_F(ArenaServerTest, healthz_fails_while_the_tick_loop_stalls_and_recovers_when_it_turns) {
  auto started = GameMetrics::start({}, *server_, std::chrono::milliseconds(200));
  ASSERT_TRUE(started.ok()) << started.error();
  GameMetrics& metrics = *started.value();
  const auto healthz = [&] {
    tickwire::test::RawTcpClient client(metrics.port());
    client.send_bytes("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    client.read_until([](const std::string&) { return false; }, std::chrono::seconds(5));
    return client.received();
  };
  // Nothing publishes: the loop has stalled.
  std::string answer;
  const auto stall_deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < stall_deadline && answer.rfind("HTTP/1.1 503", 0) != 0)
    answer = healthz();
  ASSERT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("tick loop stalled"), std::string::npos) << answer;
  // The loop turns again.
  const auto recover_deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < recover_deadline && answer.rfind("HTTP/1.1 200", 0) != 0) {
    metrics.publish(*server_);
    answer = healthz();
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
}

}  // namespace
}  // namespace arena
