#include "tickwire/sim/interpolation.hpp"

#include <gtest/gtest.h>

#include <random>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "test_world.hpp"

namespace tickwire::sim {
namespace {

EntitySchema schema() {
  EntitySchema s;
  s.add({"ship",
         {FieldSpec::real("x", -1000, 1000, 0.01).with_rate("vx"),
          FieldSpec::real("vx", -50, 50, 0.01)}});
  return s;
}

WorldState ship_at(double x, double vx) {
  WorldState::Builder builder;
  const double values[] = {x, vx};
  builder.set_values(schema(), 1, 0, values);
  return builder.build();
}

TEST(Interpolation, moves_smoothly_between_jittery_snapshots) {
  const auto interpolator = tickwire::test::created(Interpolator::create(schema()));
  std::mt19937_64 random(tickwire::test::test_seed(21));
  std::uniform_real_distribution<double> jitter(0, 0.02);
  // A ship at 6 m/s; snapshots every 2 ticks at 60 Hz, arriving 50 ms + up to 20 ms late.
  for (WireTick tick = 2; tick <= 120; tick += 2) {
    interpolator->add(tick, ship_at(tick / 60.0 * 6, 6), tick / 60.0 + 0.05 + jitter(random));
  }
  double previous = -1;
  for (double now = 1.6; now < 2.0; now += 0.004) {
    const auto& entities = interpolator->sample(now);
    ASSERT_EQ(entities.size(), 1u);
    EXPECT_FALSE(interpolator->extrapolating());
    const double x = entities[0].values[0];
    // On the line the ship really moved along, and always forward.
    const double server_time = x / 6;
    EXPECT_GT(server_time, now - 0.05 - interpolator->delay_seconds() - 0.03);
    EXPECT_GT(x, previous);
    previous = x;
  }
  EXPECT_GE(interpolator->delay_seconds(), 2 / 30.0);
}

TEST(Interpolation, extrapolates_at_most_its_limit_when_snapshots_stop) {
  InterpolationConfig config;
  config.max_extrapolation_seconds = 0.1;
  const auto interpolator = tickwire::test::created(Interpolator::create(schema(), config));
  for (WireTick tick = 2; tick <= 60; tick += 2) {
    interpolator->add(tick, ship_at(tick / 60.0 * 6, 6), tick / 60.0 + 0.05);
  }
  // The last snapshot (x = 6 m at tick 60) arrived at 1.05 s; then silence.
  double last_x = 0;
  for (double now = 1.1; now < 3.0; now += 0.01) {
    const auto& entities = interpolator->sample(now);
    ASSERT_EQ(entities.size(), 1u);
    EXPECT_LE(interpolator->extrapolated_seconds(), 0.1 + 1e-9);
    EXPECT_LE(entities[0].values[0], 6.0 + 6 * 0.1 + 0.01) << "extrapolated past the limit";
    last_x = entities[0].values[0];
  }
  EXPECT_TRUE(interpolator->extrapolating());
  EXPECT_NEAR(last_x, 6.6, 0.011);  // held where the limit left it
}

TEST(Interpolation, entities_appear_and_disappear_with_the_snapshots) {
  const auto interpolator = tickwire::test::created(Interpolator::create(schema()));
  interpolator->add(2, ship_at(0, 0), 0.1);
  interpolator->add(4, WorldState{}, 0.133);
  interpolator->add(6, WorldState{}, 0.167);
  EXPECT_EQ(interpolator->sample(0.1 + interpolator->delay_seconds()).size(), 1u);
  EXPECT_EQ(interpolator->sample(0.3 + interpolator->delay_seconds()).size(), 0u);
}

TEST(InterpolationConfig, an_invalid_config_is_refused_naming_the_field_and_value) {
  EXPECT_TRUE(InterpolationConfig{}.validate().ok());
  const auto interpolator = Interpolator::create(test::make_test_schema(), {.delay_intervals = 0});
  ASSERT_FALSE(interpolator.ok());
  EXPECT_NE(interpolator.error().find("delay_intervals = 0"), std::string::npos)
      << interpolator.error();
  EntitySchema broken;
  broken.add({"ship", {FieldSpec::angle("heading", -1)}});
  const auto from_broken = Interpolator::create(broken);
  ASSERT_FALSE(from_broken.ok());
  EXPECT_NE(from_broken.error().find("entity schema: entity type 'ship' field 'heading'"),
            std::string::npos)
      << from_broken.error();
}

}  // namespace
}  // namespace tickwire::sim
