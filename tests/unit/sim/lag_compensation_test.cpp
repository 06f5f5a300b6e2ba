#include "tickwire/sim/lag_compensation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tickwire::sim {
namespace {

// A target crossing the shooter's line of fire (the x axis) at 10 m/s, 20 m away.
HitHistory crossing_target(std::uint64_t until_tick) {
  HitHistory history = HitHistory::create({.tick_rate_hz = 60, .max_rewind_seconds = 0.2}).value();
  for (std::uint64_t tick = 1; tick <= until_tick; ++tick) {
    const double y = -5 + 10.0 * static_cast<double>(tick) / 60;  // crosses y = 0 at tick 30
    history.record(tick, {{7, 20, y, 0.5}, {1, 0, 0, 0.5}});
  }
  return history;
}

TEST(LagCompensation, hits_the_target_where_the_shooter_saw_it) {
  const HitHistory history = crossing_target(36);
  // The shooter saw tick 30 (target on the line); the shot reaches the server at tick 36, when
  // the target is a metre further on.
  const auto hit = history.raycast(30, 36, 0, 0, 1, 0, 100, 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->id, 7u);
  EXPECT_NEAR(hit->distance, 19.5, 1e-6);
  EXPECT_FALSE(history.raycast(36, 36, 0, 0, 1, 0, 100, 1)) << "without rewinding it would miss";
}

TEST(LagCompensation, misses_a_target_that_had_moved_away_when_the_shooter_fired) {
  const HitHistory history = crossing_target(50);
  // At tick 40 the target is 1.7 m past the line: the shooter saw it gone.
  EXPECT_FALSE(history.raycast(40, 46, 0, 0, 1, 0, 100, 1));
}

TEST(LagCompensation, interpolates_between_ticks) {
  const HitHistory history = crossing_target(40);
  // At tick 29.5 the target is at y = -0.083: a ray along y = -0.55 just grazes it.
  EXPECT_TRUE(history.raycast(29.5, 36, 0, -0.55, 1, 0, 100, 1));
  EXPECT_FALSE(history.raycast(29.5, 36, 0, -0.6, 1, 0, 100, 1));
}

TEST(LagCompensation, rewind_is_capped) {
  const HitHistory history = crossing_target(60);
  // A shooter claiming to have seen tick 30 from tick 60 (500 ms): clamped to 200 ms (tick 48),
  // when the target was 3 m off the line.
  EXPECT_DOUBLE_EQ(history.rewind_tick(30, 60), 48);
  EXPECT_FALSE(history.raycast(30, 60, 0, 0, 1, 0, 100, 1));
}

TEST(LagCompensation, the_shooter_never_hits_itself_and_range_counts) {
  const HitHistory history = crossing_target(36);
  EXPECT_FALSE(history.raycast(30, 36, 0, 0, 1, 0, 10, 1)) << "20 m away, 10 m range";
  const auto hit = history.raycast(30, 36, -5, 0, 1, 0, 100, 7);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->id, 1u);  // the other one; 7 is the shooter here
}

TEST(LagCompensation, an_entity_in_only_one_of_two_ticks_counts_from_the_tick_it_is_in) {
  HitHistory history = HitHistory::create({.tick_rate_hz = 60, .max_rewind_seconds = 1}).value();
  // Entity 5 stands on the line of fire at tick 10 and is gone at tick 11; 3 and 9 stay, off
  // the line, on either side of it in id order; 4 is new at tick 11, also on the line.
  history.record(10, {{3, 10, 8, 0.5}, {5, 20, 0, 0.5}, {9, 30, -8, 0.5}});
  history.record(11, {{3, 10, 8, 0.5}, {4, 25, 0, 0.5}, {9, 30, -8, 0.5}});
  const auto early = history.raycast(10.25, 11, 0, 0, 1, 0, 100, 1);
  ASSERT_TRUE(early);
  EXPECT_EQ(early->id, 5u) << "nearer tick 10, where 5 still is";
  EXPECT_FALSE(history.raycast(10.75, 11, 0, 0, 1, 0, 100, 1))
      << "nearer tick 11 5 is gone, and 4 is not there until tick 11";
  const auto late = history.raycast(11, 11, 0, 0, 1, 0, 100, 1);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->id, 4u);
}

TEST(LagCompensation, frames_recorded_into_recycled_buffers_rewind_as_fresh_ones_do) {
  // A second history records the same crossing into the buffers of frames that fell out of it:
  // what a shot hits must not depend on where the volumes were stored.
  HitHistory history = HitHistory::create({.tick_rate_hz = 60, .max_rewind_seconds = 0.2}).value();
  std::size_t reused = 0;
  for (std::uint64_t tick = 1; tick <= 36; ++tick) {
    std::vector<HitCircle> volumes = history.recycled();
    EXPECT_TRUE(volumes.empty());
    if (volumes.capacity() > 0) ++reused;
    const double y = -5 + 10.0 * static_cast<double>(tick) / 60;
    volumes.push_back({7, 20, y, 0.5});
    volumes.push_back({1, 0, 0, 0.5});
    history.record(tick, std::move(volumes));
  }
  EXPECT_GT(reused, 20u) << "once the 0.2 s history is full every frame reuses a buffer";
  const HitHistory fresh = crossing_target(36);
  for (const double seen : {28.0, 29.5, 30.0, 31.0}) {
    const auto hit = history.raycast(seen, 36, 0, 0, 1, 0, 100, 1);
    const auto expected = fresh.raycast(seen, 36, 0, 0, 1, 0, 100, 1);
    ASSERT_EQ(hit.has_value(), expected.has_value()) << seen;
    if (hit) {
      EXPECT_DOUBLE_EQ(hit->distance, expected->distance) << seen;
    }
  }
  ASSERT_TRUE(history.raycast(30, 36, 0, 0, 1, 0, 100, 1));
}

// Not an assert: create() refuses in Release builds too, with the field, its value and the rule.
TEST(HitHistoryConfig, an_invalid_config_is_refused_naming_the_field_and_value) {
  EXPECT_TRUE(HitHistoryConfig{}.validate().ok());
  EXPECT_TRUE(HitHistory::create().ok());
  EXPECT_TRUE(HitHistory::create({.max_rewind_seconds = 0}).ok()) << "no rewind at all is fine";
  const auto no_ticks = HitHistory::create({.tick_rate_hz = 0});
  ASSERT_FALSE(no_ticks.ok());
  EXPECT_EQ(no_ticks.error(), "tick_rate_hz = 0.000000 is invalid: use 1..1000");
  const auto backwards = HitHistory::create({.max_rewind_seconds = -0.1});
  ASSERT_FALSE(backwards.ok());
  EXPECT_NE(backwards.error().find("max_rewind_seconds = -0.1"), std::string::npos)
      << backwards.error();
  const auto long_ago = HitHistory::create({.max_rewind_seconds = 5});
  ASSERT_FALSE(long_ago.ok());
  EXPECT_NE(long_ago.error().find("max_rewind_seconds = 5"), std::string::npos) << long_ago.error();
  const auto not_a_number = HitHistory::create({.tick_rate_hz = std::nan("")});
  ASSERT_FALSE(not_a_number.ok());
  EXPECT_NE(not_a_number.error().find("tick_rate_hz"), std::string::npos) << not_a_number.error();
}

}  // namespace
}  // namespace tickwire::sim
