#include "tickwire/sim/fixed_tick.hpp"

#include <gtest/gtest.h>

#include "../support/created.hpp"

namespace tickwire::sim {
namespace {

using std::chrono::milliseconds;

using tickwire::test::created;

TEST(FixedTickClock, runs_one_tick_per_tick_duration_of_real_time) {
  FixedTickClock clock = created(FixedTickClock::create({.tick_rate_hz = 50}));  // 20 ms ticks
  EXPECT_EQ(clock.advance(milliseconds(10)), 0u);
  EXPECT_NEAR(clock.alpha(), 0.5, 1e-9);
  EXPECT_EQ(clock.advance(milliseconds(10)), 1u);
  clock.tick_done();
  EXPECT_EQ(clock.advance(milliseconds(45)), 2u);
  EXPECT_NEAR(clock.alpha(), 0.25, 1e-9);
}

TEST(FixedTickClock, slow_frame_is_capped_instead_of_spiralling) {
  FixedTickClock clock =
      created(FixedTickClock::create({.tick_rate_hz = 100, .max_ticks_per_frame = 3}));
  EXPECT_EQ(clock.advance(milliseconds(1000)), 3u);  // 100 ticks were due
  EXPECT_LT(clock.alpha(), 1.0);
  EXPECT_EQ(clock.advance(milliseconds(10)), 1u);  // the next frame starts fresh
  EXPECT_GE(clock.dropped_time(), milliseconds(960));
}

TEST(FixedTickClock, tick_counts_simulated_ticks) {
  FixedTickClock clock = created(FixedTickClock::create({}));
  for (std::uint32_t n = clock.advance(milliseconds(50)); n > 0; --n)
    clock.tick_done();
  EXPECT_EQ(clock.tick(), 3u);
}

TEST(FixedTickConfig, an_invalid_config_is_refused_naming_the_field_and_value) {
  const auto clock = FixedTickClock::create({.tick_rate_hz = 0});
  ASSERT_FALSE(clock.ok());
  EXPECT_NE(clock.error().find("tick_rate_hz = 0"), std::string::npos) << clock.error();
  EXPECT_NE(FixedTickConfig{.max_ticks_per_frame = 0}.validate().message().find(
                "max_ticks_per_frame = 0"),
            std::string::npos);
  EXPECT_TRUE(FixedTickClock::create({}).ok());
}

}  // namespace
}  // namespace tickwire::sim
