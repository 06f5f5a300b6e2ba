// BurstTrimPolicy: when the WebSocket server gives the heap's free pages back after a burst.

#include "websocket/burst_trim.hpp"

#include <gtest/gtest.h>

namespace tickwire::net::websocket_detail {
namespace {

constexpr BurstTrimPolicy::Limits kLimits{/*burst_bytes=*/1000, /*burst_bytes_per_period=*/400,
                                          /*calm_divisor=*/8};

TEST(BurstTrimPolicy, trims_in_the_first_calm_period_after_a_burst) {
  BurstTrimPolicy policy(kLimits);
  policy.note_released(600);
  EXPECT_FALSE(policy.end_period());  // still busy
  policy.note_released(800);
  EXPECT_FALSE(policy.end_period());  // still busy
  policy.note_released(20);           // a ping or two
  EXPECT_TRUE(policy.end_period());   // calm: 1420 bytes were freed, at most 800 a period
  EXPECT_FALSE(policy.end_period());  // once only
}

TEST(BurstTrimPolicy, never_trims_while_traffic_keeps_freeing_buffers) {
  BurstTrimPolicy policy(kLimits);
  for (int period = 0; period < 100; ++period) {
    policy.note_released(period % 2 == 0 ? 500 : 700);  // a chat going on, unevenly
    EXPECT_FALSE(policy.end_period()) << "period " << period;
  }
  EXPECT_TRUE(policy.pending());
  EXPECT_TRUE(policy.end_period());  // it stopped
}

TEST(BurstTrimPolicy, a_trickle_of_small_frees_never_adds_up_to_a_trim) {
  BurstTrimPolicy policy(kLimits);
  for (int period = 0; period < 1000; ++period) {
    if (period % 10 == 0) policy.note_released(50);  // a ping's buffer now and then
    EXPECT_FALSE(policy.end_period()) << "period " << period;
  }
}

TEST(BurstTrimPolicy, a_burst_must_stand_out_from_the_steady_traffic_of_many_connections) {
  BurstTrimPolicy policy(kLimits);
  for (int period = 0; period < 50; ++period) {
    policy.note_released(2000);  // thousands of connections' pings
    EXPECT_FALSE(policy.end_period()) << "period " << period;
  }
  policy.note_released(4000);  // twice the usual: not a burst to clean up after
  EXPECT_FALSE(policy.end_period());
  policy.note_released(2000);
  EXPECT_FALSE(policy.end_period());
  policy.note_released(30000);  // a join burst
  EXPECT_FALSE(policy.end_period());
  policy.note_released(2000);  // back to the pings alone
  EXPECT_TRUE(policy.end_period());
}

}  // namespace
}  // namespace tickwire::net::websocket_detail
