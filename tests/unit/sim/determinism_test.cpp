// The same inputs from the same state give the same state on every run: 10,000 ticks of a small
// game driven by recorded inputs, replicated to a client over a lossy link, twice. Every
// per-tick hash of the server's world and of the client's view must match between the runs.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {
namespace {

struct Recorded {
  std::vector<std::array<std::byte, 2>> inputs;  // per tick: turn, thrust
};

Recorded record(std::uint64_t seed, int ticks) {
  std::mt19937_64 random(seed);
  Recorded out;
  for (int t = 0; t < ticks; ++t) {
    out.inputs.push_back({std::byte(random() % 3), std::byte(random() % 2)});
  }
  return out;
}

struct Hashes {
  std::vector<std::uint64_t> server, client;
};

Hashes run(const Recorded& recorded, std::uint64_t link_seed) {
  EntitySchema schema;
  schema.add(
      {"ship",
       {FieldSpec::real("x", -500, 500, 0.01).with_rate("vx"),
        FieldSpec::real("y", -500, 500, 0.01).with_rate("vy"), FieldSpec::angle("heading", 0.001),
        FieldSpec::real("vx", -20, 20, 0.01), FieldSpec::real("vy", -20, 20, 0.01)}});
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  std::mt19937_64 link(link_seed);
  std::bernoulli_distribution lost(0.2);
  // The game state: the player's ship and 20 drifting drones, simulated in doubles.
  struct Ship {
    double x, y, heading, vx, vy;
  };
  std::vector<Ship> ships(21, Ship{0, 0, 0, 0, 0});
  for (std::size_t i = 1; i < ships.size(); ++i)
    ships[i] = {double(i) * 10, 0, double(i), 1, 0.5};
  Hashes hashes;
  for (std::size_t t = 0; t < recorded.inputs.size(); ++t) {
    const auto tick = static_cast<WireTick>(t + 1);
    client->add_input(tick, recorded.inputs[t]);
    if (!lost(link)) server->on_message(1, client->update_message());
    const auto input = server->take_input(1, tick);
    Ship& me = ships[0];
    if (input) {
      me.heading += (static_cast<int>((*input)[0]) - 1) * 0.05;
      const double thrust = static_cast<int>((*input)[1]) * 0.2;
      me.vx = std::clamp(me.vx * 0.98 + std::cos(me.heading) * thrust, -19.0, 19.0);
      me.vy = std::clamp(me.vy * 0.98 + std::sin(me.heading) * thrust, -19.0, 19.0);
    }
    for (Ship& s : ships) {
      s.x = std::clamp(s.x + s.vx / 60, -499.0, 499.0);
      s.y = std::clamp(s.y + s.vy / 60, -499.0, 499.0);
    }
    WorldState::Builder builder;
    for (std::size_t i = 0; i < ships.size(); ++i) {
      const double values[] = {ships[i].x, ships[i].y, ships[i].heading, ships[i].vx, ships[i].vy};
      builder.set_values(schema, static_cast<EntityId>(i + 1), 0, values);
    }
    const WorldState world = builder.build();
    hashes.server.push_back(world.hash());
    if (t % 2 == 0) {
      const auto snapshot = server->snapshot_for(1, tick, world);
      if (!lost(link) && client->on_message(snapshot)) {
        EXPECT_EQ(client->latest().hash(), world.hash());
      }
    }
    hashes.client.push_back(client->latest().hash());
  }
  return hashes;
}

TEST(Determinism, ten_thousand_ticks_of_recorded_inputs_hash_the_same_on_every_run) {
  const std::uint64_t seed = tickwire::test::test_seed(41);
  const Recorded inputs = record(seed, 10000);
  const Hashes first = run(inputs, seed + 1);
  const Hashes second = run(inputs, seed + 1);
  ASSERT_EQ(first.server.size(), 10000u);
  for (std::size_t t = 0; t < first.server.size(); ++t) {
    ASSERT_EQ(first.server[t], second.server[t]) << "server state diverged at tick " << t + 1;
    ASSERT_EQ(first.client[t], second.client[t]) << "client view diverged at tick " << t + 1;
  }
  // And the hash notices a difference: other inputs give another history.
  const Hashes other = run(record(seed + 7, 10000), seed + 1);
  EXPECT_NE(first.server.back(), other.server.back());
}

}  // namespace
}  // namespace tickwire::sim
