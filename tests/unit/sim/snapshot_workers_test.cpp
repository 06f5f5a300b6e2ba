// Snapshots encoded on several threads (with per-client priorities and interest), into messages
// reused from tick to tick, are the ones a single thread encodes, byte for byte, and the pool under
// them runs every job of a batch exactly once.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "test_world.hpp"
#include "tickwire/sim/replicator.hpp"
#include "tickwire/sim/spatial_grid.hpp"
#include "worker_pool.hpp"

namespace tickwire::sim {
namespace {

TEST(SnapshotWorkers, snapshots_encoded_on_three_threads_into_reused_messages_match_one_thread) {
  const std::uint64_t seed = tickwire::test::test_seed(23);
  std::mt19937_64 random(seed);
  std::bernoulli_distribution lost(0.2);
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.max_snapshot_bytes = 120;  // a tight budget: ranking, deferral and accumulators matter
  ReplicatorConfig threaded = config;
  threaded.encode_threads = 3;
  const auto one = tickwire::test::created(ServerReplicator::create(schema, config));
  const auto three = tickwire::test::created(ServerReplicator::create(schema, threaded));
  // Each client sees the world from its own place: priorities differ per client.
  const auto near = [](ClientId client) -> EntityPriority {
    return [client](const WorldState::Entity& e) {
      const auto distance = e.id > client * 7 ? e.id - client * 7 : client * 7 - e.id;
      return 1.0f + 20.0f / (1.0f + static_cast<float>(distance));
    };
  };
  one->priority = near;
  three->priority = near;
  // And sees only what is near it, through a grid both servers share.
  SpatialGrid grid(100);
  const auto interest = [&grid](ClientId client, const WorldState&,
                                std::vector<std::uint32_t>& indices) {
    grid.within(-450.0 + 60.0 * client, 0, 350, indices);
  };
  one->interest = interest;
  three->interest = interest;
  std::vector<ClientId> ids;
  std::vector<std::unique_ptr<ClientReplicator>> clients;
  for (ClientId id = 1; id <= 16; ++id) {
    ids.push_back(id);
    one->add_client(id);
    three->add_client(id);
    clients.push_back(tickwire::test::created(ClientReplicator::create(schema, config)));
  }
  test::TestWorld world(seed, 250);
  std::size_t applied = 0;
  std::vector<std::vector<std::byte>> actual;
  for (WireTick tick = 1; tick <= 120; ++tick) {
    world.step();
    const WorldState state = world.state(schema);
    grid.clear();
    for (std::uint32_t i = 0; i < state.size(); ++i) {
      const WorldState::Entity e = state.at(i);
      grid.insert(i, schema.dequantize(e.type, 0, e.fields[0]),
                  schema.dequantize(e.type, 1, e.fields[1]));
    }
    grid.build();
    // Every fifth tick only a few clients are due: the threaded server writes into the same
    // messages each tick, shrunk and grown again, and must leave nothing of the last ones.
    const std::span<const ClientId> due =
        tick % 5 == 0 ? std::span<const ClientId>(ids).first(5) : std::span<const ClientId>(ids);
    const auto expected = one->snapshots_for(due, tick, state);
    three->snapshots_for(due, tick, state, actual);
    ASSERT_EQ(actual.size(), due.size());
    for (std::size_t i = 0; i < due.size(); ++i) {
      ASSERT_EQ(actual[i], expected[i]) << "client " << ids[i] << " tick " << tick;
      // Both servers hear the same acknowledgements, lost alike.
      if (!lost(random) && clients[i]->on_message(expected[i])) ++applied;
      const auto update = clients[i]->update_message();
      if (!lost(random)) {
        one->on_message(ids[i], update);
        three->on_message(ids[i], update);
      }
    }
  }
  EXPECT_GT(applied, ids.size() * 96 / 2);
  for (const ClientId id : ids)
    EXPECT_NE(three->client_stats(id)->last_baseline, 0u) << "deltas must have been used";
}

TEST(WorkerPool, every_job_of_every_batch_runs_exactly_once) {
  for (const std::size_t threads : {1u, 2u, 4u}) {
    detail::WorkerPool pool(threads);
    for (std::size_t count : {0u, 1u, 7u, 300u}) {
      for (int batch = 0; batch < 20; ++batch) {
        std::vector<std::atomic<int>> runs(count);
        pool.run(count, [&](std::size_t i) { runs[i].fetch_add(1); });
        for (std::size_t i = 0; i < count; ++i)
          ASSERT_EQ(runs[i].load(), 1) << threads << " threads, job " << i << " of " << count;
      }
    }
  }
}

}  // namespace
}  // namespace tickwire::sim
