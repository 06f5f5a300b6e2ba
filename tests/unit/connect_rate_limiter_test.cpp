#include "enet/connect_rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tickwire::net::enet_detail {
namespace {

TEST(ConnectRateLimiter, allows_a_burst_then_refuses_until_tokens_refill) {
  ConnectRateLimiter limiter(4, 2.0, 16);
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(limiter.allow(1, 0));
  EXPECT_FALSE(limiter.allow(1, 0));
  EXPECT_FALSE(limiter.allow(1, 400));  // 0.8 tokens
  EXPECT_TRUE(limiter.allow(1, 500));   // 1 token after 500 ms at 2/s
  EXPECT_FALSE(limiter.allow(1, 500));
}

TEST(ConnectRateLimiter, addresses_have_separate_buckets) {
  ConnectRateLimiter limiter(1, 1.0, 16);
  EXPECT_TRUE(limiter.allow(1, 0));
  EXPECT_FALSE(limiter.allow(1, 0));
  EXPECT_TRUE(limiter.allow(2, 0));
}

TEST(ConnectRateLimiter, table_is_bounded_and_forgets_idle_addresses_first) {
  ConnectRateLimiter limiter(2, 1.0, 4);
  for (std::uint32_t address = 0; address < 4; ++address)
    EXPECT_TRUE(limiter.allow(address, 0));
  // Full of addresses that are still refilling: a new one is refused, memory stays bounded.
  EXPECT_FALSE(limiter.allow(100, 0));
  EXPECT_EQ(limiter.tracked_addresses(), 4u);
  // Once they have refilled they carry no information and make room.
  EXPECT_TRUE(limiter.allow(100, 5000));
  EXPECT_LE(limiter.tracked_addresses(), 4u);
}

}  // namespace
}  // namespace tickwire::net::enet_detail
