// Relevancy through a SpatialGrid: a client is sent what is near it and nothing else, an entity
// that comes near arrives whole, one that goes away leaves the client's view; the grid finds
// exactly what a walk of every entity finds.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "test_world.hpp"
#include "tickwire/sim/replicator.hpp"
#include "tickwire/sim/spatial_grid.hpp"

namespace tickwire::sim {
namespace {

TEST(SpatialGrid, finds_exactly_the_entities_a_walk_of_all_of_them_finds) {
  const std::uint64_t seed = tickwire::test::test_seed(31);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> place(-120.0, 120.0);
  std::uniform_real_distribution<double> reach(0.0, 60.0);
  SpatialGrid grid(15);
  for (int fill = 0; fill < 5; ++fill) {
    std::vector<std::pair<double, double>> points(400);
    grid.clear();
    for (std::uint32_t i = 0; i < points.size(); ++i) {
      points[i] = {place(random), place(random)};
      grid.insert(i, points[i].first, points[i].second);
    }
    grid.build();
    ASSERT_EQ(grid.size(), points.size());
    for (int query = 0; query < 50; ++query) {
      const double x = place(random), y = place(random), radius = reach(random);
      std::vector<std::uint32_t> found;
      grid.within(x, y, radius, found);
      std::sort(found.begin(), found.end());
      std::vector<std::uint32_t> walked;
      for (std::uint32_t i = 0; i < points.size(); ++i) {
        const double dx = points[i].first - x, dy = points[i].second - y;
        if (dx * dx + dy * dy <= radius * radius) walked.push_back(i);
      }
      ASSERT_EQ(found, walked) << "fill " << fill << " query (" << x << ", " << y << ") r "
                               << radius;
    }
  }
}

TEST(SpatialGrid, refuses_a_cell_size_that_is_not_a_positive_finite_number) {
  for (const double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    const auto made = SpatialGrid::create(bad);
    ASSERT_FALSE(made.ok()) << bad;
    EXPECT_NE(made.error().find("cell_size"), std::string::npos) << made.error();
  }
  EXPECT_TRUE(SpatialGrid::create(8).ok());
}

// A world of drones placed by hand (test schema: x, y, heading, health).
WorldState drones_at(const EntitySchema& schema, const std::vector<std::pair<double, double>>& at) {
  WorldState::Builder builder;
  for (std::size_t i = 0; i < at.size(); ++i) {
    const double values[] = {at[i].first, at[i].second, 0.5, 70.0 + static_cast<double>(i)};
    builder.set_values(schema, static_cast<EntityId>(10 + i), 0, values);
  }
  return builder.build();
}

// The server's interest for clients that each stand at a point: everything within `radius`.
struct GridInterest {
  const EntitySchema* schema;
  double radius;
  SpatialGrid grid{10};
  std::map<ClientId, std::pair<double, double>> where;

  void index(const WorldState& world) {
    grid.clear();
    for (std::uint32_t i = 0; i < world.size(); ++i) {
      const WorldState::Entity e = world.at(i);
      grid.insert(i, schema->dequantize(e.type, 0, e.fields[0]),
                  schema->dequantize(e.type, 1, e.fields[1]));
    }
    grid.build();
  }
  void attach(ServerReplicator& server) {
    server.interest = [this](ClientId client, const WorldState&,
                             std::vector<std::uint32_t>& indices) {
      const auto [x, y] = where.at(client);
      grid.within(x, y, radius, indices);
    };
  }
};

TEST(Interest, a_far_entity_is_not_sent_a_near_one_is_and_one_that_comes_near_arrives_whole) {
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  GridInterest interest{&schema, 40};
  interest.attach(*server);
  server->add_client(1);
  interest.where[1] = {0, 0};

  // Id 10 stands by the client, id 11 far away, id 12 far away and walking towards it.
  std::vector<std::pair<double, double>> at = {{5, 5}, {300, -200}, {200, 0}};
  WireTick tick = 0;
  const auto send = [&] {
    const WorldState world = drones_at(schema, at);
    interest.index(world);
    ++tick;
    EXPECT_TRUE(client->on_message(server->snapshot_for(1, tick, world))) << "tick " << tick;
    server->on_message(1, client->update_message());
    return world;
  };
  send();
  EXPECT_TRUE(client->latest().find(10)) << "a near entity is sent";
  EXPECT_FALSE(client->latest().find(11)) << "a far entity is not";
  EXPECT_FALSE(client->latest().find(12));

  // Id 12 walks in; the snapshots are deltas against acknowledged baselines throughout.
  WorldState world;
  for (double x = 200; x > 20; x -= 10) {
    at[2] = {x, 0};
    world = send();
  }
  EXPECT_NE(server->client_stats(1)->last_baseline, 0u) << "deltas must have been used";
  const auto arrived = client->latest().find(12);
  ASSERT_TRUE(arrived) << "an entity that came near is sent";
  const auto truth = world.find(12);
  EXPECT_TRUE(std::equal(arrived->fields.begin(), arrived->fields.end(), truth->fields.begin(),
                         truth->fields.end()))
      << "every field of a newly relevant entity arrives, not only what changed";
  EXPECT_FALSE(client->latest().find(11));

  // And walks away again: it leaves the client's view.
  at[2] = {-300, 0};
  send();
  EXPECT_FALSE(client->latest().find(12)) << "an entity gone far is removed from the view";
  EXPECT_TRUE(client->latest().find(10));
}

TEST(Interest, each_client_gets_what_is_near_it_in_a_moving_world) {
  const std::uint64_t seed = tickwire::test::test_seed(32);
  const EntitySchema schema = test::make_test_schema();
  const auto server = tickwire::test::created(
      ServerReplicator::create(schema, ReplicatorConfig{.max_snapshot_bytes = 0}));
  GridInterest interest{&schema, 150};
  interest.attach(*server);
  std::vector<std::unique_ptr<ClientReplicator>> clients;
  for (ClientId id = 0; id < 4; ++id) {
    server->add_client(id);
    clients.push_back(
        tickwire::test::created(ClientReplicator::create(schema, ReplicatorConfig{})));
    interest.where[id] = {-300.0 + 200.0 * id, 100.0 * (id % 2)};
  }
  test::TestWorld world(seed, 300);
  for (WireTick tick = 1; tick <= 60; ++tick) {
    world.step();
    const WorldState state = world.state(schema);
    interest.index(state);
    for (ClientId id = 0; id < 4; ++id) {
      ASSERT_TRUE(clients[id]->on_message(server->snapshot_for(id, tick, state)));
      server->on_message(id, clients[id]->update_message());
      // Without a budget the client's view is exactly the world near it (the flag is indexed
      // by its first two fields too: at 1, 2).
      std::vector<std::uint32_t> near;
      interest.grid.within(interest.where[id].first, interest.where[id].second, 150, near);
      std::sort(near.begin(), near.end());
      WorldStateAssembler expected;
      for (const std::uint32_t i : near)
        expected.append(state.id_at(i), state.at(i).type, state.at(i).fields);
      ASSERT_EQ(clients[id]->latest(), expected.finish())
          << "client " << id << " tick " << tick << " seed " << seed;
    }
  }
}

TEST(Interest, duplicates_order_and_positions_past_the_end_change_nothing) {
  // Two servers see the same entities of a 300-entity world; one's hook answers in reverse, each
  // position twice, with positions past the end mixed in. Their snapshots must be the same bytes.
  const EntitySchema schema = test::make_test_schema();
  const auto tidy = tickwire::test::created(ServerReplicator::create(schema));
  const auto messy = tickwire::test::created(ServerReplicator::create(schema));
  const auto seen = [](const WorldState& world, std::vector<std::uint32_t>& indices) {
    for (std::uint32_t i = 0; i < world.size(); ++i) {
      if (i % 3 == 0 || i % 7 == 0) indices.push_back(i);
    }
  };
  tidy->interest = [&](ClientId, const WorldState& world, std::vector<std::uint32_t>& indices) {
    seen(world, indices);
  };
  messy->interest = [&](ClientId, const WorldState& world, std::vector<std::uint32_t>& indices) {
    std::vector<std::uint32_t> mine;
    seen(world, mine);
    for (auto i = mine.rbegin(); i != mine.rend(); ++i) {
      indices.push_back(*i);
      indices.push_back(static_cast<std::uint32_t>(world.size()) + *i);
      indices.push_back(*i);
    }
  };
  tidy->add_client(1);
  messy->add_client(1);
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  test::TestWorld world(tickwire::test::test_seed(33), 300);
  for (WireTick tick = 1; tick <= 20; ++tick) {
    world.step();
    const WorldState state = world.state(schema);
    const std::vector<std::byte> expected = tidy->snapshot_for(1, tick, state);
    ASSERT_EQ(messy->snapshot_for(1, tick, state), expected) << "tick " << tick;
    // One client acknowledges to both, so that later snapshots are deltas.
    ASSERT_TRUE(client->on_message(expected));
    const std::vector<std::byte> update = client->update_message();
    tidy->on_message(1, update);
    messy->on_message(1, update);
  }
  EXPECT_NE(tidy->client_stats(1)->last_baseline, 0u) << "deltas must have been compared";
}

}  // namespace
}  // namespace tickwire::sim
