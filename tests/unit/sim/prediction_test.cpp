// Prediction and reconciliation through the real replication path: a client predicting its own
// player, a server applying the inputs it receives, snapshots and inputs travelling with a few
// ticks of latency.

#include "tickwire/sim/prediction.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "../../support/created.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {
namespace {

struct Player {
  std::uint32_t x = 50000, y = 50000;  // quantized, 1/100 m: the game simulates in wire units
  bool operator==(const Player&) const = default;
};
struct Move {
  std::int8_t dx = 0, dy = 0;
};

// The game's step, the same on client and server.
Player step(const Player& p, const Move& m) {
  return {p.x + m.dx * 7u, p.y + m.dy * 7u};
}
double distance(const Player& a, const Player& b) {
  return std::hypot(double(a.x) - double(b.x), double(a.y) - double(b.y));
}

EntitySchema player_schema() {
  EntitySchema schema;
  schema.add(
      {"player", {FieldSpec::real("x", 0, 1000, 0.01), FieldSpec::real("y", 0, 1000, 0.01)}});
  return schema;
}

// Runs `ticks` ticks; inputs client→server in ticks listed in `lost_inputs` are lost.
struct PlayLog {
  std::vector<double> corrections;  // per tick, the size of the correction applied (0 = none)
};

PlayLog play(int ticks, int latency_ticks, const std::function<bool(int)>& input_lost) {
  const EntitySchema schema = player_schema();
  const auto server = tickwire::test::created(ServerReplicator::create(schema));
  const auto client = tickwire::test::created(ClientReplicator::create(schema));
  server->add_client(1);
  Predictor<Player, Move> predictor({}, step, distance);
  Player authoritative;
  Move last_move;
  struct InFlight {
    int due;
    std::vector<std::byte> bytes;
  };
  std::deque<InFlight> to_server, to_client;
  PlayLog run;
  for (int tick = 1; tick <= ticks; ++tick) {
    // Client: an input that changes now and then, predicted at once.
    const Move move{static_cast<std::int8_t>((tick / 17) % 3 - 1),
                    static_cast<std::int8_t>((tick / 29) % 3 - 1)};
    predictor.predict(static_cast<std::uint64_t>(tick), move);
    const std::byte bytes[] = {std::byte(move.dx), std::byte(move.dy)};
    client->add_input(static_cast<WireTick>(tick), bytes);
    if (!input_lost(tick)) to_server.push_back({tick + latency_ticks, client->update_message()});

    // Server: applies the input for the current tick when it is there (else repeats the last).
    while (!to_server.empty() && to_server.front().due <= tick) {
      server->on_message(1, to_server.front().bytes);
      to_server.pop_front();
    }
    const int server_tick = tick - latency_ticks;
    if (server_tick >= 1) {
      if (auto input = server->take_input(1, static_cast<WireTick>(server_tick))) {
        last_move = {static_cast<std::int8_t>((*input)[0]), static_cast<std::int8_t>((*input)[1])};
      }
      authoritative = step(authoritative, last_move);
      WorldState::Builder world;
      const std::uint32_t fields[] = {authoritative.x, authoritative.y};
      world.set(1, 0, fields);
      to_client.push_back(
          {tick + latency_ticks,
           server->snapshot_for(1, static_cast<WireTick>(server_tick), world.build())});
    }
    // Client: reconcile with the newest snapshot.
    double correction = 0;
    while (!to_client.empty() && to_client.front().due <= tick) {
      if (client->on_message(to_client.front().bytes) && client->last_applied_input() != 0) {
        const auto me = client->latest().find(1);
        correction +=
            predictor.reconcile(client->last_applied_input(), {me->fields[0], me->fields[1]});
      }
      to_client.pop_front();
    }
    run.corrections.push_back(correction);
  }
  return run;
}

TEST(Prediction, with_no_loss_the_prediction_is_never_corrected) {
  const PlayLog run = play(1000, 3, [](int) { return false; });
  for (std::size_t t = 0; t < run.corrections.size(); ++t) {
    ASSERT_EQ(run.corrections[t], 0.0) << "tick " << t + 1;
  }
}

TEST(Prediction, after_a_loss_burst_corrections_stop_within_a_round_trip_and_a_few_ticks) {
  // 30 ticks of lost inputs: far more than the 8 repeated in each update, so the server misses
  // some and the client must be corrected.
  const auto lost = [](int tick) { return tick >= 300 && tick < 330; };
  const PlayLog run = play(1000, 3, lost);
  double during = 0;
  for (int t = 300; t < 340; ++t)
    during += run.corrections[static_cast<std::size_t>(t)];
  EXPECT_GT(during, 0.0) << "the burst must cause a correction";
  // Converged: the last input lost was tick 329; its effect is known a round trip (6 ticks)
  // later, and from then on no correction is needed.
  for (std::size_t t = 340; t < run.corrections.size(); ++t) {
    ASSERT_EQ(run.corrections[t], 0.0) << "still correcting at tick " << t + 1;
  }
}

TEST(CorrectionSmoother, hides_a_correction_over_a_few_frames_and_snaps_large_ones) {
  CorrectionSmoother smoother(2, 0.05, 2.0);
  const double before[] = {10.0, 5.0}, after[] = {10.5, 5.0};
  smoother.corrected(before, after);
  double shown[2];
  smoother.display(after, 0.0, shown);
  EXPECT_NEAR(shown[0], 10.0, 1e-9);  // starts where the old prediction was
  for (int frame = 0; frame < 30; ++frame)
    smoother.display(after, 1.0 / 60, shown);
  EXPECT_NEAR(shown[0], 10.5, 0.01);  // and ends on the new one
  const double far[] = {20.0, 5.0};
  smoother.corrected(after, far);
  EXPECT_EQ(smoother.remaining(), 0.0);  // a teleport is not smoothed
}

}  // namespace
}  // namespace tickwire::sim
