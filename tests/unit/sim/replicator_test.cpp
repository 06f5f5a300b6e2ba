#include "tickwire/sim/replicator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "test_world.hpp"

namespace tickwire::sim {
namespace {

std::vector<std::byte> input_bytes(WireTick tick) {
  return {std::byte(tick & 0xFF), std::byte((tick >> 8) & 0xFF), std::byte{0x42}};
}

TEST(Replicator, client_state_equals_the_server_world_every_tick_despite_20_percent_loss) {
  const std::uint64_t seed = tickwire::test::test_seed(11);
  std::mt19937_64 random(seed);
  std::bernoulli_distribution lost(0.2);
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.max_snapshot_bytes = 0;  // no budget: every applied snapshot must equal the world
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  const auto client = tickwire::test::created(ClientReplicator::create(schema, config));
  server->add_client(1);
  test::TestWorld world(seed, 300);

  int applied = 0, deltas = 0;
  for (WireTick tick = 1; tick <= 1000; ++tick) {
    world.step();
    const WorldState state = world.state(schema);
    const auto snapshot = server->snapshot_for(1, tick, state);
    if (server->client_stats(1)->last_baseline != 0) ++deltas;
    if (!lost(random) && client->on_message(snapshot)) {
      ++applied;
      ASSERT_EQ(client->latest_tick(), tick);
      ASSERT_EQ(client->latest(), state) << "tick " << tick;  // delta decode == full state
      ASSERT_EQ(client->latest().hash(), state.hash());
    }
    const auto update = client->update_message();
    if (!lost(random)) server->on_message(1, update);
  }
  EXPECT_GT(applied, 700);
  EXPECT_GT(deltas, 900) << "acknowledged baselines must be used despite lost acks";
  EXPECT_EQ(client->counters().missing_baseline, 0u);
  EXPECT_EQ(client->counters().malformed, 0u);
}

TEST(Replicator, with_a_budget_nothing_starves_and_the_client_converges) {
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.max_snapshot_bytes = 200;
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  const auto client = tickwire::test::created(ClientReplicator::create(schema, config));
  server->add_client(1);
  // Some entities matter a lot more than others: the rest must still get through.
  server->priority = [](ClientId) -> EntityPriority {
    return [](const WorldState::Entity& e) { return e.id < 20 ? 50.0f : 1.0f; };
  };
  test::TestWorld world(12, 400);
  const WorldState state = world.state(schema);  // a still world, far too big for one snapshot
  std::set<EntityId> seen;
  WireTick tick = 1;
  for (; tick <= 200 && client->latest() != state; ++tick) {
    ASSERT_TRUE(client->on_message(server->snapshot_for(1, tick, state)));
    for (std::size_t i = 0; i < client->latest().size(); ++i)
      seen.insert(client->latest().at(i).id);
    server->on_message(1, client->update_message());
  }
  EXPECT_EQ(client->latest(), state) << "did not converge within " << tick << " snapshots";
  EXPECT_EQ(seen.size(), state.size());
  EXPECT_EQ(server->client_stats(1)->last_deferred, 0u);
}

TEST(Replicator, relevancy_hides_entities_and_reveals_them_when_they_become_relevant) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(
      ServerReplicator::create(schema, ReplicatorConfig{.max_snapshot_bytes = 0}));
  const auto client = tickwire::test::created(
      ClientReplicator::create(schema, ReplicatorConfig{.max_snapshot_bytes = 0}));
  server->add_client(7);
  EntityId visible_below = 30;
  server->interest = [&](ClientId, const WorldState& world, std::vector<std::uint32_t>& indices) {
    for (std::uint32_t i = 0; i < world.size(); ++i) {
      if (world.id_at(i) < visible_below) indices.push_back(i);
    }
  };
  test::TestWorld world(13, 100);
  const WorldState state = world.state(schema);
  ASSERT_TRUE(client->on_message(server->snapshot_for(7, 1, state)));
  server->on_message(7, client->update_message());
  EXPECT_EQ(client->latest().size(), 29u);  // the flag (id 1) and drones 2..29
  visible_below = 60;
  ASSERT_TRUE(client->on_message(server->snapshot_for(7, 2, state)));
  EXPECT_TRUE(client->latest().find(55));
  EXPECT_FALSE(client->latest().find(70));
  EXPECT_EQ(server->client_stats(7)->last_baseline, 1u);
}

TEST(Replicator, inputs_survive_20_percent_loss_through_redundancy_and_are_acknowledged) {
  const std::uint64_t seed = tickwire::test::test_seed(14);
  std::mt19937_64 random(seed);
  std::bernoulli_distribution lost(0.2);
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  const WorldState empty;
  int missing = 0;
  for (WireTick tick = 1; tick <= 500; ++tick) {
    client->add_input(tick, input_bytes(tick));
    if (!lost(random)) server->on_message(1, client->update_message());
    // The server applies the input one tick after the client made it.
    if (tick > 1) {
      const auto input = server->take_input(1, tick - 1);
      if (!input) {
        ++missing;
      } else {
        ASSERT_EQ(*input, input_bytes(tick - 1));
      }
    }
    const auto snapshot = server->snapshot_for(1, tick, empty);
    if (!lost(random)) client->on_message(snapshot);
  }
  // Losing the update of a tick and the next one too, before the input is due, is rare.
  EXPECT_LT(missing, 30);
  EXPECT_GT(client->last_applied_input(), 490u);
}

TEST(Replicator, inputs_from_updates_that_arrive_out_of_order_are_each_taken_at_their_tick) {
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.input_redundancy = 2;  // an update carries its tick's input and the one before
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  const auto client = tickwire::test::created(ClientReplicator::create(schema, config));
  server->add_client(1);
  server->add_client(2);  // another client: its inputs stay its own
  (void)server->snapshot_for(1, 1, WorldState{});
  // Updates for ticks 1..6, two each; the network delivers them newest first.
  std::vector<std::vector<std::byte>> updates;
  for (WireTick tick = 1; tick <= 6; ++tick) {
    client->add_input(tick, input_bytes(tick));
    if (tick % 2 == 0) updates.push_back(client->update_message());
  }
  for (auto it = updates.rbegin(); it != updates.rend(); ++it)
    server->on_message(1, *it);
  EXPECT_FALSE(server->take_input(2, 1));
  for (WireTick tick = 1; tick <= 6; ++tick) {
    const auto input = server->take_input(1, tick);
    ASSERT_TRUE(input) << "tick " << tick;
    EXPECT_EQ(*input, input_bytes(tick)) << "tick " << tick;
  }
  EXPECT_FALSE(server->take_input(1, 7));
}

TEST(Replicator, inputs_taken_into_one_reused_buffer_are_each_the_input_sent) {
  // A server taking every input into the same buffer, tick after tick, with inputs of varied
  // sizes, some lost and some late: each taken one is exactly what was sent for its tick, and a
  // tick without one leaves the buffer as it was.
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  (void)server->snapshot_for(1, 1, WorldState{});
  const auto sent = [](WireTick tick) {
    std::vector<std::byte> bytes(1 + tick % 7);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::byte>(tick * 13 + i);
    return bytes;
  };
  std::vector<std::byte> buffer;
  std::size_t taken = 0;
  for (WireTick tick = 1; tick <= 200; ++tick) {
    // Snapshots let inputs run ahead of the server and tell the client what was applied.
    if (tick > 1) {
      ASSERT_TRUE(client->on_message(server->snapshot_for(1, tick, WorldState{})));
    }
    // Every fifth tick's update is lost; with the default redundancy later ones repeat it.
    client->add_input(tick, sent(tick));
    if (tick % 5 != 0) server->on_message(1, client->update_message());
    // The server runs two ticks behind; ticks 40..49 it skips, their inputs arriving too late.
    if (tick <= 2 || (tick >= 42 && tick < 52)) continue;
    const std::vector<std::byte> before = buffer;
    if (server->take_input(1, tick - 2, buffer)) {
      ++taken;
      EXPECT_EQ(buffer, sent(tick - 2)) << "tick " << tick - 2;
    } else {
      EXPECT_EQ(buffer, before) << "tick " << tick - 2;
    }
  }
  EXPECT_EQ(taken, 200u - 2 - 10) << "every input reached the server despite the lost updates";
  EXPECT_FALSE(server->take_input(1, 45, buffer)) << "a tick taken past is gone";
}

TEST(Replicator, inputs_too_far_ahead_or_too_large_are_rejected_and_counted) {
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.max_input_lead = 10;
  config.max_input_bytes = 8;
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  server->add_client(1);
  (void)server->snapshot_for(1, 5, WorldState{});
  const auto far_ahead = tickwire::test::created(ClientReplicator::create(schema, config));
  far_ahead->add_input(100, input_bytes(100));
  server->on_message(1, far_ahead->update_message());
  EXPECT_EQ(server->counters().inputs_rejected, 1u);
  EXPECT_FALSE(server->take_input(1, 100));

  ReplicatorConfig roomy = config;
  roomy.max_input_bytes = 64;
  const auto large = tickwire::test::created(ClientReplicator::create(schema, roomy));
  large->add_input(6, std::vector<std::byte>(9));
  server->on_message(1, large->update_message());
  EXPECT_EQ(server->counters().inputs_rejected, 2u);
  EXPECT_FALSE(server->take_input(1, 6));
}

TEST(Replicator, garbage_messages_are_counted_and_change_nothing) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  test::TestWorld world(15, 20);
  const WorldState state = world.state(schema);
  ASSERT_TRUE(client->on_message(server->snapshot_for(1, 1, state)));
  std::mt19937_64 random(tickwire::test::test_seed(16));
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> garbage(random() % 300);
    for (auto& b : garbage)
      b = std::byte(random());
    EXPECT_FALSE(client->on_message(garbage));
    server->on_message(1, garbage);
  }
  // A real snapshot truncated anywhere is refused too.
  world.step();
  const auto snapshot = server->snapshot_for(1, 2, world.state(schema));
  for (std::size_t size = 0; size + 1 < snapshot.size(); ++size) {
    EXPECT_FALSE(client->on_message(std::span(snapshot.data(), size)));
  }
  EXPECT_EQ(client->latest(), state);
  EXPECT_GE(client->counters().malformed, 2000u);
  EXPECT_GE(server->counters().malformed, 1900u);
  // Old snapshots are stale, not applied.
  const auto old = server->snapshot_for(1, 3, state);
  ASSERT_TRUE(client->on_message(old));
  EXPECT_FALSE(client->on_message(old));
  EXPECT_EQ(client->counters().stale, 1u);
}

TEST(Replicator, oversized_messages_are_refused_and_replication_goes_on) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  // A real snapshot padded to 2 MiB, and a client update padded likewise.
  test::TestWorld world(17, 20);
  auto huge_snapshot = server->snapshot_for(1, 1, world.state(schema));
  huge_snapshot.resize(2 << 20);
  EXPECT_FALSE(client->on_message(huge_snapshot));
  const auto sender = tickwire::test::created(ClientReplicator::create(schema));
  sender->add_input(1, input_bytes(1));
  auto huge_update = sender->update_message();
  huge_update.resize(2 << 20);
  server->on_message(1, huge_update);
  EXPECT_FALSE(server->take_input(1, 1));
  EXPECT_EQ(client->counters().malformed, 1u);
  EXPECT_EQ(server->counters().malformed, 1u);
  // Both keep working.
  world.step();
  const WorldState state = world.state(schema);
  ASSERT_TRUE(client->on_message(server->snapshot_for(1, 2, state)));
  EXPECT_EQ(client->latest(), state);
  sender->add_input(2, input_bytes(2));
  server->on_message(1, sender->update_message());
  EXPECT_TRUE(server->take_input(1, 2));
}

TEST(Replicator, a_watchers_acknowledgements_count_and_its_inputs_are_dropped_and_counted) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto player = tickwire::test::created(ClientReplicator::create(schema));
  const auto watcher = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  server->add_client(2, ClientRole::watcher);
  test::TestWorld world(5, 20);
  for (WireTick tick = 1; tick <= 10; ++tick) {
    world.step();
    const WorldState state = world.state(schema);
    ASSERT_TRUE(player->on_message(server->snapshot_for(1, tick, state)));
    ASSERT_TRUE(watcher->on_message(server->snapshot_for(2, tick, state)));
    player->add_input(tick + 1, input_bytes(tick + 1));
    watcher->add_input(tick + 1, input_bytes(tick + 1));
    server->on_message(1, player->update_message());
    server->on_message(2, watcher->update_message());
    EXPECT_TRUE(server->take_input(1, tick + 1)) << "tick " << tick + 1;
    EXPECT_FALSE(server->take_input(2, tick + 1)) << "tick " << tick + 1;
  }
  // The watcher acknowledged like the player (its snapshots are deltas), and each of its
  // inputs, repeats included, was counted as dropped; nothing else was.
  EXPECT_EQ(server->client_stats(2)->acknowledged, 10u);
  EXPECT_NE(server->client_stats(2)->last_baseline, 0u);
  EXPECT_GE(server->counters().inputs_from_watchers, 10u);
  EXPECT_EQ(server->counters().inputs_rejected, 0u);
  EXPECT_EQ(server->counters().malformed, 0u);
}

TEST(Replicator, snapshots_are_due_at_the_configured_rate) {
  const EntitySchema schema = test::make_test_schema();
  const auto count_due = [&](ReplicatorConfig config) {
    const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
    int due = 0;
    for (WireTick tick = 1; tick <= 600; ++tick)
      due += server->snapshot_due(tick) ? 1 : 0;
    return due;
  };
  EXPECT_EQ(count_due({}), 300);  // 30 Hz of 60 Hz over 10 s
  EXPECT_EQ(count_due({.tick_rate_hz = 60, .snapshot_rate_hz = 20}), 200);
  EXPECT_EQ(count_due({.tick_rate_hz = 64, .snapshot_rate_hz = 64}), 600);
}

// Clients are spread over the ticks of a snapshot period: each still gets the configured rate,
// evenly spaced, while each tick sends to an even share of them. A client who joins takes the
// phase that departures left short.
TEST(Replicator, clients_are_spread_over_the_ticks_of_a_snapshot_period) {
  const EntitySchema schema = test::make_test_schema();
  const auto due_ticks = [](const ServerReplicator& server) {
    std::map<ClientId, std::vector<WireTick>> ticks;
    std::vector<ClientId> due;
    for (WireTick tick = 1; tick <= 600; ++tick) {
      due.clear();
      server.clients_due(tick, due);
      for (const ClientId id : due)
        ticks[id].push_back(tick);
    }
    return ticks;
  };
  for (const ReplicatorConfig& config :
       {ReplicatorConfig{}, ReplicatorConfig{.tick_rate_hz = 60, .snapshot_rate_hz = 20},
        ReplicatorConfig{.tick_rate_hz = 60, .snapshot_rate_hz = 25},
        ReplicatorConfig{.tick_rate_hz = 30, .snapshot_rate_hz = 30}}) {
    const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
    for (ClientId id = 1; id <= 6; ++id)
      server->add_client(id);
    const double period = config.tick_rate_hz / config.snapshot_rate_hz;
    const auto ticks = due_ticks(*server);
    ASSERT_EQ(ticks.size(), 6u) << "tick rate " << config.tick_rate_hz;
    std::map<WireTick, int> per_tick;
    for (const auto& [id, due] : ticks) {
      EXPECT_NEAR(static_cast<double>(due.size()), 600 / period, 1.0) << "client " << id;
      for (std::size_t i = 1; i < due.size(); ++i) {
        EXPECT_GE(static_cast<double>(due[i] - due[i - 1]), std::floor(period)) << id;
        EXPECT_LE(static_cast<double>(due[i] - due[i - 1]), std::ceil(period)) << id;
      }
      for (const WireTick tick : due)
        ++per_tick[tick];
    }
    if (period == std::floor(period)) {
      // Past the first period every tick sends to 6 / period of them.
      for (WireTick tick = static_cast<WireTick>(period) + 1; tick <= 600; ++tick)
        EXPECT_EQ(per_tick[tick], static_cast<int>(6 / period)) << "tick " << tick;
    }
  }
  // Every other tick at the defaults: clients 1, 3 and 5 share a phase. Two of them leave, and
  // the next to join takes their phase.
  const auto server = tickwire::test::created(ServerReplicator::create(schema, {}));
  for (ClientId id = 1; id <= 6; ++id)
    server->add_client(id);
  server->remove_client(1);
  server->remove_client(3);
  server->add_client(7);
  const auto ticks = due_ticks(*server);
  EXPECT_EQ(ticks.at(7), ticks.at(5));
  EXPECT_NE(ticks.at(7), ticks.at(2));
}

TEST(ReplicatorConfig, validate_names_the_field) {
  EXPECT_TRUE(ReplicatorConfig{}.validate().ok());
  EXPECT_NE(ReplicatorConfig{.history = 1}.validate().message().find("history = 1"),
            std::string::npos);
  EXPECT_NE(ReplicatorConfig{.max_snapshot_bytes = 10}.validate().message().find(
                "max_snapshot_bytes = 10"),
            std::string::npos);
}

// Not an assert: create() refuses in Release builds too, with the field, its value and the
// rule, and refuses a schema that failed to build.
TEST(ReplicatorConfig, an_invalid_config_or_schema_is_refused_naming_the_field_and_value) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = ServerReplicator::create(schema, {.input_redundancy = 0});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error(), "input_redundancy = 0 is invalid: use 1..64");
  const auto client = ClientReplicator::create(schema, {.tick_rate_hz = 5000});
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().find("tick_rate_hz = 5000"), std::string::npos) << client.error();
  EntitySchema broken;
  broken.add({"ball", {FieldSpec::real("x", 1, -1, 0.1)}});
  const auto from_broken = ServerReplicator::create(broken);
  ASSERT_FALSE(from_broken.ok());
  EXPECT_NE(from_broken.error().find("entity schema: entity type 'ball' field 'x'"),
            std::string::npos)
      << from_broken.error();
  const auto client_of_broken = ClientReplicator::create(broken);
  ASSERT_FALSE(client_of_broken.ok());
  EXPECT_NE(client_of_broken.error().find("'ball' field 'x'"), std::string::npos)
      << client_of_broken.error();
  EXPECT_TRUE(ServerReplicator::create(schema).ok());
  EXPECT_TRUE(ClientReplicator::create(schema).ok());
}

}  // namespace
}  // namespace tickwire::sim
