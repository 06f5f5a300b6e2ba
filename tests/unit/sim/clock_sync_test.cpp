#include "tickwire/sim/clock_sync.hpp"

#include <gtest/gtest.h>

#include <random>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "tickwire/sim/fixed_tick.hpp"

namespace tickwire::sim {
namespace {

// A server at 60 Hz sends a snapshot every other tick; the client receives it after
// `latency` ± `jitter` seconds, runs its own fixed-tick clock steered by ClockSync, and sends
// its input for each tick it simulates, which reaches the server after the same delays.
// Returns the share of inputs that arrived before the server simulated their tick.
struct Outcome {
  double in_time = 0;
  double lead_ticks = 0;
};

using tickwire::test::created;

Outcome simulate(double latency, double jitter, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> noise(0, jitter);
  ClockSync sync = created(ClockSync::create({}));
  FixedTickClock client_clock = created(FixedTickClock::create({}));
  double client_tick = 0;
  int inputs = 0, in_time = 0;
  constexpr double kFrame = 1.0 / 144;  // the client renders at 144 fps
  double next_snapshot = 0;
  WireTick server_tick = 0;
  for (double now = 0; now < 20; now += kFrame) {
    while (next_snapshot <= now) {  // snapshots that have arrived by now
      server_tick += 2;
      next_snapshot = server_tick / 60.0 + latency + noise(random);
      sync.on_snapshot(server_tick, next_snapshot, 2 * latency + jitter);
    }
    if (sync.needs_jump(now, client_tick)) client_tick = sync.target_tick(now);
    const auto scaled = std::chrono::duration<double>(kFrame * sync.time_scale(now, client_tick));
    for (auto n =
             client_clock.advance(std::chrono::duration_cast<std::chrono::nanoseconds>(scaled));
         n > 0; --n) {
      client_tick += 1;
      // The input for client_tick reaches the server at now + latency + noise; the server
      // simulates tick t at t / 60 s.
      const double arrival = now + latency + noise(random);
      if (now > 5) {  // after settling
        ++inputs;
        in_time += arrival < client_tick / 60.0 ? 1 : 0;
      }
    }
  }
  return {static_cast<double>(in_time) / inputs, sync.lead_ticks()};
}

TEST(ClockSync, inputs_arrive_before_their_tick_and_the_lead_grows_with_jitter) {
  const std::uint64_t seed = tickwire::test::test_seed(31);
  const Outcome calm = simulate(0.05, 0.002, seed);
  const Outcome jittery = simulate(0.05, 0.04, seed);
  std::printf("[ clock    ] calm: %.1f%% in time, lead %.1f ticks; jittery: %.1f%%, lead %.1f\n",
              100 * calm.in_time, calm.lead_ticks, 100 * jittery.in_time, jittery.lead_ticks);
  EXPECT_GT(calm.in_time, 0.99);
  EXPECT_GT(jittery.in_time, 0.97);
  EXPECT_GT(jittery.lead_ticks, calm.lead_ticks + 1) << "more jitter must mean more lead";
  // And no more lead than needed: half the round trip (3 ticks) plus margins.
  EXPECT_LT(calm.lead_ticks, 6);
}

TEST(ClockSync, far_off_clocks_jump_near_ones_drift) {
  ClockSync sync = created(ClockSync::create({}));
  sync.on_snapshot(600, 10.05, 0.1);
  const double target = sync.target_tick(10.05);
  EXPECT_TRUE(sync.needs_jump(10.05, target - 100));
  EXPECT_FALSE(sync.needs_jump(10.05, target - 3));
  EXPECT_GT(sync.time_scale(10.05, target - 3), 1.0);
  EXPECT_LT(sync.time_scale(10.05, target + 3), 1.0);
  EXPECT_LE(sync.time_scale(10.05, target - 29), 1.1);
}

// create() is the only way in, so a Release build (no asserts) refuses these too.
TEST(ClockSyncConfig, an_invalid_config_is_refused_naming_the_field_and_value) {
  const auto too_fast = ClockSync::create({.max_speed_adjust = 2});
  ASSERT_FALSE(too_fast.ok());
  EXPECT_NE(too_fast.error().find("max_speed_adjust = 2"), std::string::npos) << too_fast.error();
  const auto no_rate = ClockSync::create({.tick_rate_hz = 0});
  ASSERT_FALSE(no_rate.ok());
  EXPECT_NE(no_rate.error().find("tick_rate_hz = 0"), std::string::npos) << no_rate.error();
  const auto no_jump = ClockSync::create({.jump_ticks = 1});
  ASSERT_FALSE(no_jump.ok());
  EXPECT_NE(no_jump.error().find("jump_ticks = 1"), std::string::npos) << no_jump.error();
  EXPECT_TRUE(ClockSync::create({}).ok());
}

}  // namespace
}  // namespace tickwire::sim
