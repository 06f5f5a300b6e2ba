// BurstTrimPolicy: when the WebSocket server gives the heap's free pages back after a burst.

#include "websocket/burst_trim.hpp"

#include <gtest/gtest.h>

namespace tickwire::net::websocket_detail {
namespace {

constexpr BurstTrimPolicy::Limits kLimits{/*burst_bytes=*/1000, /*quiet_bytes_per_period=*/100};

TEST(BurstTrimPolicy, trims_in_the_first_quiet_period_after_a_burst) {
  BurstTrimPolicy policy(kLimits);
  policy.note_released(600);
  EXPECT_FALSE(policy.end_period());  // still busy
  policy.note_released(600);
  EXPECT_FALSE(policy.end_period());  // still busy
  EXPECT_TRUE(policy.pending());
  EXPECT_TRUE(policy.end_period());  // quiet: 1200 bytes were freed
  EXPECT_FALSE(policy.pending());
  EXPECT_FALSE(policy.end_period());  // once only
}

TEST(BurstTrimPolicy, never_trims_while_traffic_keeps_freeing_buffers) {
  BurstTrimPolicy policy(kLimits);
  for (int period = 0; period < 100; ++period) {
    policy.note_released(500);
    EXPECT_FALSE(policy.end_period()) << "period " << period;
  }
  EXPECT_TRUE(policy.end_period());
}

TEST(BurstTrimPolicy, a_trickle_of_small_frees_never_adds_up_to_a_trim) {
  BurstTrimPolicy policy(kLimits);
  for (int period = 0; period < 100; ++period) {
    policy.note_released(50);  // a ping's buffer or two per period
    EXPECT_FALSE(policy.end_period()) << "period " << period;
  }
  EXPECT_FALSE(policy.pending());
}

}  // namespace
}  // namespace tickwire::net::websocket_detail
