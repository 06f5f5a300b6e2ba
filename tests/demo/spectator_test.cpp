// Spectators of an Arena match over real ENet on 127.0.0.1: what they see is the match as it was
// spectator_delay_ms earlier, entity for entity; what they send has no effect on it; and a match
// takes no more of them than its cap, while its players play on. The server runs on its own
// thread, the clients on this one.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/sim/replicator.hpp>

#include "../support/created.hpp"
#include "arena_client.hpp"
#include "arena_server.hpp"
#include "match_observer.hpp"
#include "ticketed_arena.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using test::ServerThread;
using Clock = std::chrono::steady_clock;

constexpr net::TicketRole kSpectator = net::TicketRole::spectator;

// The server's own World after every tick (the oracle), from its thread to the test's.
class WorldRecorder : public MatchObserver {
 public:
  void match_began(std::uint64_t, const Config&) override {}
  void player_joined(std::uint64_t, PlayerId) override {}
  void player_left(std::uint64_t, PlayerId) override {}
  void ticked(std::uint64_t, const std::map<PlayerId, PlayerInput>&, const World& world) override {
    const std::lock_guard lock(mutex_);
    states_[static_cast<sim::WireTick>(world.tick())] = world.state();
    // Ten seconds of ticks are plenty for any comparison here.
    while (states_.size() > 600)
      states_.erase(states_.begin());
    tick_ = world.tick();
  }
  void match_closed(std::uint64_t) override {}

  std::optional<sim::WorldState> at(sim::WireTick tick) const {
    const std::lock_guard lock(mutex_);
    const auto found = states_.find(tick);
    if (found == states_.end()) return std::nullopt;
    return found->second;
  }
  std::uint64_t tick() const { return tick_.load(); }

 private:
  mutable std::mutex mutex_;
  std::map<sim::WireTick, sim::WorldState> states_;
  std::atomic<std::uint64_t> tick_{0};
};

// The server's stats are read once its thread has stopped (they are written on it).

// Updates `clients` every 16 ms, the player among them walking right, until `done()` or
// `seconds` pass; returns done().
bool play_until(const std::vector<ArenaClient*>& clients, const std::function<bool()>& done,
                double seconds = 20) {
  const auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (!done()) {
    if (Clock::now() > until) return false;
    for (ArenaClient* client : clients)
      client->update(std::chrono::milliseconds(16), Intent{.move_x = 1});
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  return true;
}

struct SpectatedMatch {
  test::TestLobby lobby;
  std::shared_ptr<WorldRecorder> recorder = std::make_shared<WorldRecorder>();
  std::unique_ptr<ArenaServer> server;

  explicit SpectatedMatch(std::uint32_t max_spectators = 16, double match_seconds = 60) {
    ServerConfig config = lobby.server_config();
    config.match_seconds = match_seconds;
    config.linger_ms = 500;
    config.observer = recorder;
    config.max_spectators_per_match = max_spectators;
    // Shorter than the default to keep the test short; long enough to be unmistakable (60
    // ticks).
    config.spectator_delay_ms = 1000;
    // No budget: every snapshot carries every change, so what the spectator holds is the
    // server's state itself, not an approximation that catches up.
    config.spectator_snapshot_budget_bytes = 0;
    auto started = ArenaServer::start(config);
    EXPECT_TRUE(started.ok()) << started.error();
    server = std::move(started.value());
  }
  std::unique_ptr<ArenaClient> connect(std::uint64_t player,
                                       net::TicketRole role = net::TicketRole::player) {
    return std::move(
        ArenaClient::connect(lobby.client_config(player, server->port(), role)).value());
  }
};

constexpr std::uint32_t kDelayTicks = 60;  // 1000 ms at 60 Hz

TEST(ArenaSpectator, sees_the_players_world_as_it_was_the_delay_earlier_entity_for_entity) {
  SpectatedMatch match;
  std::optional<ServerThread> serving(std::in_place, *match.server);
  auto player = match.connect(1);
  ASSERT_TRUE(play_until({player.get()}, [&] { return player->latest_received_tick() > 0; }));
  auto spectator = match.connect(2, kSpectator);
  // Long enough for the spectator to be past the delay and deltas against acknowledged ones.
  ASSERT_TRUE(play_until({player.get(), spectator.get()}, [&] {
    return spectator->net_graph().snapshots >= 40;
  })) << spectator->disconnect_text();
  EXPECT_TRUE(spectator->spectating());
  EXPECT_EQ(spectator->self(), 0u);
  EXPECT_DOUBLE_EQ(spectator->spectator_delay_seconds(), 1.0);

  const sim::WireTick seen = spectator->latest_received_tick();
  // The server sent tick `seen` only once it was the delay past it.
  EXPECT_GE(match.recorder->tick(), std::uint64_t{seen} + kDelayTicks);
  // Every snapshot the spectator still holds is the server's world at that tick, exactly.
  int compared = 0;
  for (sim::WireTick tick = seen > 40 ? seen - 40 : 1; tick <= seen; ++tick) {
    const sim::WorldState* received = spectator->received(tick);
    if (received == nullptr) continue;
    const auto server_state = match.recorder->at(tick);
    ASSERT_TRUE(server_state.has_value()) << "tick " << tick;
    EXPECT_EQ(received->hash(), server_state->hash()) << "tick " << tick;
    EXPECT_TRUE(*received == *server_state) << "tick " << tick;
    ++compared;
  }
  EXPECT_GE(compared, 5);
  // The player is in that world and moved; the spectator is not in it.
  const sim::WorldState& latest = *spectator->received(seen);
  std::size_t players = 0;
  for (std::size_t i = 0; i < latest.size(); ++i)
    players += latest.at(i).type == player_type() ? 1 : 0;
  EXPECT_EQ(players, 1u);
  ASSERT_TRUE(
      play_until({player.get(), spectator.get()}, [&] { return !player->scores().empty(); }));
  for (const ScoreLine& line : player->scores())
    EXPECT_NE(line.lobby_player_id, 2u) << "a spectator has no score";
  serving.reset();
  EXPECT_EQ(match.server->stats().players, 1u);
  EXPECT_EQ(match.server->stats().spectators, 1u);
}

TEST(ArenaSpectator, inputs_a_spectator_sends_are_dropped_and_counted_while_the_player_plays) {
  SpectatedMatch match;
  std::optional<ServerThread> serving(std::in_place, *match.server);
  auto player = match.connect(1);
  ASSERT_TRUE(play_until({player.get()}, [&] { return player->latest_received_tick() > 0; }));

  // A hacked spectator: the game's client sends no input as a spectator, this one sends the
  // input of a player walking left and firing, every tick, over a bare connection.
  const net::IssuedTicket issued = match.lobby.ticket(3, kSpectator);
  net::EnetClientConfig raw;
  raw.server_port = match.server->port();
  raw.common.channel_count = kGameChannels;
  raw.join_ticket = issued.ticket;
  raw.session_keys = issued.keys;
  auto hacked = std::move(net::make_enet_client(raw).value());
  const auto replicator = tickwire::test::created(sim::ClientReplicator::create(schema()));
  std::uint64_t tick = 0;
  const auto send_inputs = [&] {
    net::Event event;
    while (hacked->poll(event, std::chrono::milliseconds(0))) {
      if (event.type == net::EventType::message && event.channel == kSnapshotChannel)
        (void)replicator->on_message(event.payload.bytes());
    }
    if (hacked->state() != net::ClientState::connected) return;
    if (tick == 0) tick = match.recorder->tick() + 5;
    PlayerInput input;
    input.move_x = -1;
    input.fire = true;
    ++tick;
    replicator->add_input(static_cast<sim::WireTick>(tick), encode_input(input, tick));
    (void)hacked->send(hacked->server(), kSnapshotChannel, net::Delivery::unreliable,
                       replicator->update_message());
    hacked->flush();
  };
  const auto player_snapshots = player->net_graph().snapshots;
  // A second of updates, each with up to 8 inputs, once its snapshots arrive (it is admitted).
  int updates = 0;
  ASSERT_TRUE(play_until({player.get()}, [&] {
    send_inputs();
    if (replicator->latest_tick() > 0) ++updates;
    return updates >= 60;
  }));
  serving.reset();
  // The player was served all along.
  EXPECT_EQ(player->phase(), ClientPhase::playing);
  EXPECT_GE(player->net_graph().snapshots, player_snapshots + 20);

  const ServerStats& stats = match.server->stats();
  EXPECT_GT(stats.spectator_inputs_dropped, 0u);
  EXPECT_EQ(stats.spectators, 1u);
  EXPECT_EQ(stats.players, 1u);
  EXPECT_EQ(stats.players_disconnected_for_abuse, 0u);
  EXPECT_EQ(stats.inputs_rejected, 0u);
  // Nothing it sent became an entity: the world has the one player, whose inputs were applied.
  const auto now = match.recorder->at(static_cast<sim::WireTick>(match.recorder->tick()));
  ASSERT_TRUE(now.has_value());
  std::size_t players = 0;
  for (std::size_t i = 0; i < now->size(); ++i)
    players += now->at(i).type == player_type() ? 1 : 0;
  EXPECT_EQ(players, 1u);
  EXPECT_GT(stats.inputs_applied, 0u);
}

TEST(ArenaSpectator, one_over_the_cap_is_refused_with_the_reason_and_the_player_plays_on) {
  SpectatedMatch match(/*max_spectators=*/1);
  std::optional<ServerThread> serving(std::in_place, *match.server);
  auto player = match.connect(1);
  ASSERT_TRUE(play_until({player.get()}, [&] { return player->latest_received_tick() > 0; }));
  auto first = match.connect(2, kSpectator);
  ASSERT_TRUE(play_until({player.get(), first.get()}, [&] {
    return first->phase() == ClientPhase::playing;
  })) << first->disconnect_text();
  auto second = match.connect(3, kSpectator);
  ASSERT_TRUE(play_until({player.get(), first.get(), second.get()},
                         [&] { return second->phase() == ClientPhase::disconnected; }));
  EXPECT_EQ(second->disconnect_reason(), net::DisconnectReason::server_full);
  EXPECT_NE(second->disconnect_text().find("as many spectators as it allows (1)"),
            std::string::npos)
      << second->disconnect_text();

  // The player and the spectator let in carry on: both get snapshots after the refusal.
  const auto player_snapshots = player->net_graph().snapshots;
  const auto spectator_snapshots = first->net_graph().snapshots;
  ASSERT_TRUE(play_until({player.get(), first.get()}, [&] {
    return player->net_graph().snapshots >= player_snapshots + 30 &&
           first->net_graph().snapshots >= spectator_snapshots + 30;
  }));
  EXPECT_EQ(player->phase(), ClientPhase::playing);
  EXPECT_EQ(first->phase(), ClientPhase::playing);
  serving.reset();
  EXPECT_EQ(match.server->stats().spectators_refused, 1u);
  EXPECT_EQ(match.server->stats().players, 1u);
  EXPECT_EQ(match.server->stats().spectators, 1u);
}

TEST(ArenaSpectator, a_spectator_cannot_start_a_match_nobody_plays) {
  SpectatedMatch match;
  std::optional<ServerThread> serving(std::in_place, *match.server);
  auto early = match.connect(2, kSpectator);
  ASSERT_TRUE(
      play_until({early.get()}, [&] { return early->phase() == ClientPhase::disconnected; }));
  EXPECT_EQ(early->disconnect_reason(), net::DisconnectReason::refused);
  EXPECT_NE(early->disconnect_text().find("not begun"), std::string::npos)
      << early->disconnect_text();
  serving.reset();
  EXPECT_EQ(match.server->stats().matches, 0u);
  EXPECT_EQ(match.server->stats().spectators_refused, 1u);
}

TEST(ArenaSpectator, sees_the_end_and_the_final_scores_then_the_server_closes_the_connection) {
  SpectatedMatch match(16, /*match_seconds=*/3);
  std::optional<ServerThread> serving(std::in_place, *match.server);
  auto player = match.connect(1);
  ASSERT_TRUE(play_until({player.get()}, [&] { return player->latest_received_tick() > 0; }));
  auto spectator = match.connect(2, kSpectator);
  bool saw_the_end = false;
  ASSERT_TRUE(play_until({player.get(), spectator.get()}, [&] {
    saw_the_end |= spectator->phase() == ClientPhase::over;
    return spectator->phase() == ClientPhase::disconnected;
  })) << "the spectator was never let go";
  serving.reset();
  EXPECT_TRUE(saw_the_end) << spectator->disconnect_text();
  // It was told the end, a delay after the player, with the final table, and let go normally.
  EXPECT_EQ(spectator->disconnect_reason(), net::DisconnectReason::closed);
  ASSERT_EQ(spectator->scores().size(), 1u);
  EXPECT_EQ(spectator->scores()[0].lobby_player_id, 1u);
  EXPECT_GE(spectator->net_graph().snapshots, 30u);
  EXPECT_EQ(match.server->stats().matches_finished, 1u);
}

TEST(ArenaSpectatorConfig, a_bad_cap_or_delay_is_refused_naming_the_field_and_value) {
  test::TestLobby lobby;
  ServerConfig config = lobby.server_config();
  config.max_spectators_per_match = 5000;
  auto refused = ArenaServer::start(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("max_spectators_per_match = 5000"), std::string::npos)
      << refused.error();
  config = lobby.server_config();
  config.spectator_delay_ms = 120'000;
  refused = ArenaServer::start(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("spectator_delay_ms = 120000"), std::string::npos)
      << refused.error();
}

}  // namespace
}  // namespace arena
