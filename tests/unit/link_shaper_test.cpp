#include "conditions/link_shaper.hpp"

#include <gtest/gtest.h>

#include "../support/pump.hpp"

namespace tickwire::net::conditions_detail {
namespace {

TEST(LinkShaper, loss_and_duplication_match_their_probabilities) {
  LinkShaper shaper({.latency_ms = 10, .loss = 0.25, .duplicate = 0.25}, test::test_seed(11));
  int dropped = 0, duplicated = 0;
  constexpr int kDatagrams = 40000;
  for (int i = 0; i < kDatagrams; ++i) {
    const Fate fate = shaper.decide();
    dropped += fate.dropped ? 1 : 0;
    duplicated += fate.copies == 2 ? 1 : 0;
  }
  EXPECT_NEAR(dropped / double{kDatagrams}, 0.25, 0.02);
  // Duplicates are drawn among the datagrams that survived.
  EXPECT_NEAR(duplicated / static_cast<double>(kDatagrams - dropped), 0.25, 0.02);
}

TEST(LinkShaper, delay_stays_within_latency_plus_minus_jitter) {
  LinkShaper shaper({.latency_ms = 100, .jitter_ms = 50}, test::test_seed(12));
  std::uint64_t lowest = ~0ull, highest = 0;
  for (int i = 0; i < 10000; ++i) {
    const Fate fate = shaper.decide();
    lowest = std::min(lowest, fate.delay_us[0]);
    highest = std::max(highest, fate.delay_us[0]);
  }
  EXPECT_GE(lowest, 50'000u);
  EXPECT_LE(highest, 150'000u);
  EXPECT_LT(lowest, 55'000u);  // the whole range is used
  EXPECT_GT(highest, 145'000u);
}

TEST(LinkShaper, traffic_that_cannot_be_lost_is_only_delayed) {
  LinkShaper shaper({.latency_ms = 20, .loss = 1.0, .duplicate = 1.0, .reorder = 1.0}, 3);
  for (int i = 0; i < 1000; ++i) {
    const Fate fate = shaper.decide(false);
    EXPECT_FALSE(fate.dropped);
    EXPECT_EQ(fate.copies, 1);
    EXPECT_EQ(fate.delay_us[0], 20'000u);
  }
}

TEST(LinkShaper, same_seed_gives_same_decisions) {
  const LinkConditions conditions{.latency_ms = 30, .jitter_ms = 10, .loss = 0.1, .reorder = 0.1};
  LinkShaper a(conditions, 99), b(conditions, 99);
  for (int i = 0; i < 1000; ++i) {
    const Fate x = a.decide(), y = b.decide();
    ASSERT_EQ(x.dropped, y.dropped);
    ASSERT_EQ(x.delay_us[0], y.delay_us[0]);
  }
}

TEST(NetworkConditions, validate_names_the_direction_and_field) {
  NetworkConditions conditions;
  conditions.server_to_client.loss = 1.5;
  const Status status = conditions.validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("server_to_client.loss"), std::string::npos) << status.message();
  conditions.server_to_client.loss = 0;
  conditions.client_to_server.jitter_ms = 10;  // more than the latency of 0
  EXPECT_NE(conditions.validate().message().find("client_to_server.jitter_ms"), std::string::npos);
}

}  // namespace
}  // namespace tickwire::net::conditions_detail
