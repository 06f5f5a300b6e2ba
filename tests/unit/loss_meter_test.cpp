// The ENet loss meter on counts as ENet keeps them: growing within an interval, back to zero
// when ENet starts a new one (a new epoch), and old losses fading with time.

#include <gtest/gtest.h>

#include "enet/loss_meter.hpp"

namespace tickwire::net::enet_detail {
namespace {

TEST(LossMeter, reads_the_fraction_lost_of_what_was_sent) {
  LossMeter meter;
  EXPECT_EQ(meter.loss(0, 0, 1), 0.0);
  meter.sample(100, 10, /*epoch=*/1, /*now_ms=*/0);
  EXPECT_DOUBLE_EQ(meter.loss(100, 10, 1), 0.10);
  // Not yet sampled growth counts at once: 10 + 10 lost of 100 + 100 sent.
  EXPECT_DOUBLE_EQ(meter.loss(200, 20, 1), 0.10);
  EXPECT_DOUBLE_EQ(meter.loss(200, 10, 1), 0.05);
}

TEST(LossMeter, keeps_its_figure_across_enet_starting_a_new_interval_from_zero) {
  LossMeter meter;
  meter.sample(1000, 100, /*epoch=*/1, /*now_ms=*/0);
  // ENet folds its counts away and starts from zero: the meter keeps what it had and adds the
  // new interval's counts, instead of reading 0 % or a 10 s average.
  meter.sample(50, 5, /*epoch=*/10001, /*now_ms=*/0);
  EXPECT_DOUBLE_EQ(meter.loss(50, 5, 10001), 0.10);
  EXPECT_DOUBLE_EQ(meter.loss(150, 5, 10001), 105.0 / 1150.0);
}

TEST(LossMeter, old_losses_fade_with_time) {
  LossMeter meter;
  meter.sample(1000, 500, 1, 0);  // a bad patch
  meter.sample(1000, 500, 1, static_cast<std::uint32_t>(LossMeter::kTimeConstantMs * 10));
  // Ten time constants later, 1000 clean sends outweigh it.
  EXPECT_LT(meter.loss(2000, 500, 1), 0.01);
}

}  // namespace
}  // namespace tickwire::net::enet_detail
