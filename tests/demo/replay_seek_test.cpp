// Seeking in a replay through keyframes (MatchReplay, tickwire::sim::ReplayKeyframes): wherever a
// seek lands, backwards or forwards, on a keyframe's tick or between two, the world and its state
// hash are those of the match played straight from tick 1, and a seek back re-simulates at most
// one keyframe interval, however late in the match it goes.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include <tickwire/sim/replay_keyframes.hpp>

#include "arena_replay.hpp"
#include "recorded_match.hpp"

namespace arena {
namespace {

using test::kMatchTicks;
using test::RecordedMatch;

class ReplaySeekTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { match_ = new RecordedMatch(test::record_match()); }
  static void TearDownTestSuite() {
    delete match_;
    match_ = nullptr;
  }

  static MatchReplay open(const tickwire::sim::ReplayKeyframesConfig& keyframes) {
    auto replay = MatchReplay::open(match_->file, keyframes);
    EXPECT_TRUE(replay.ok()) << replay.error();
    return std::move(replay.value());
  }

  // The world where the seek landed is the one the match had there, and its hash the one the
  // server recorded (MatchReplay compares them on every tick it steps: `stepped`).
  static void expect_seek_lands_as_played_straight(MatchReplay& replay, std::uint64_t tick) {
    const auto outcome = replay.seek(tick);
    ASSERT_EQ(replay.world().tick(), tick);
    EXPECT_TRUE(outcome == MatchReplay::Step::stepped) << "seek to tick " << tick;
    EXPECT_TRUE(replay.world().state() == match_->states[tick]) << "at tick " << tick;
    EXPECT_EQ(replay.world().state().hash(), match_->states[tick].hash()) << "at tick " << tick;
    if (tick > 0) {
      EXPECT_EQ(replay.state_hash(), match_->states[tick].hash()) << "at tick " << tick;
    }
    // And it plays on from there as the match did.
    if (tick < kMatchTicks) {
      ASSERT_TRUE(replay.step() == MatchReplay::Step::stepped) << "after tick " << tick;
      EXPECT_TRUE(replay.world().state() == match_->states[tick + 1]) << "at tick " << tick + 1;
    }
  }

  static RecordedMatch* match_;
};

RecordedMatch* ReplaySeekTest::match_ = nullptr;

TEST_F(ReplaySeekTest, seeks_to_keyframe_ticks_and_between_them_land_on_the_match_as_played) {
  MatchReplay replay = open({.interval_ticks = 100, .max_keyframes = 64});
  ASSERT_TRUE(replay.seek(kMatchTicks) == MatchReplay::Step::stepped);
  ASSERT_EQ(replay.keyframe_count(), kMatchTicks / 100);
  // Backwards from the end: onto keyframes, one tick either side of them, and between them,
  // across player 3's join (tick 360) and player 1's leave (tick 900).
  for (const std::uint64_t tick : {1100u, 1000u, 999u, 901u, 900u, 899u, 700u, 501u, 500u, 499u,
                                   361u, 360u, 359u, 101u, 100u, 99u, 1u, 0u}) {
    expect_seek_lands_as_played_straight(replay, tick);
  }
  // Forwards, jumping over keyframes from before them.
  for (const std::uint64_t tick : {50u, 150u, 400u, 401u, 800u, 1199u, kMatchTicks})
    expect_seek_lands_as_played_straight(replay, tick);
}

TEST_F(ReplaySeekTest, random_seeks_land_on_the_match_as_played_whatever_the_keyframe_cap) {
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 random(seed);
  // No keyframes, a few (thinned as the match goes on), and many.
  for (const std::size_t cap : {0u, 3u, 64u}) {
    SCOPED_TRACE(testing::Message() << "max_keyframes " << cap << ", seed " << seed);
    MatchReplay replay = open({.interval_ticks = 64, .max_keyframes = cap});
    for (int i = 0; i < 40; ++i)
      expect_seek_lands_as_played_straight(replay, random() % (kMatchTicks + 1));
  }
}

TEST_F(ReplaySeekTest, a_seek_back_late_in_the_match_re_simulates_one_interval_at_most) {
  MatchReplay replay = open({.interval_ticks = 128, .max_keyframes = 64});
  ASSERT_TRUE(replay.seek(kMatchTicks) == MatchReplay::Step::stepped);
  const std::uint64_t played = replay.ticks_simulated();
  ASSERT_EQ(played, kMatchTicks);
  // Tick 1150 is 126 ticks past the keyframe at 1024.
  expect_seek_lands_as_played_straight(replay, 1150);
  EXPECT_EQ(replay.ticks_simulated() - played, 126u + 1u);  // the seek, and the step after it

  // Without keyframes, the same seek re-simulates the match from its first tick.
  MatchReplay without = open({.interval_ticks = 128, .max_keyframes = 0});
  ASSERT_TRUE(without.seek(kMatchTicks) == MatchReplay::Step::stepped);
  expect_seek_lands_as_played_straight(without, 1150);
  EXPECT_EQ(without.ticks_simulated() - kMatchTicks, 1150u + 1u);
}

TEST_F(ReplaySeekTest, the_keyframe_cap_holds_by_thinning_them_evenly) {
  MatchReplay replay = open({.interval_ticks = 50, .max_keyframes = 5});
  ASSERT_TRUE(replay.seek(kMatchTicks) == MatchReplay::Step::stepped);
  // 24 keyframes 50 ticks apart do not fit in 5: each time the store fills, every other one goes
  // and the interval doubles (100 at tick 300, 200 at 600, 400 at 1200): 400, 800 and 1200.
  EXPECT_EQ(replay.keyframe_count(), 3u);
  EXPECT_EQ(replay.keyframe_interval_ticks(), 400u);
  expect_seek_lands_as_played_straight(replay, 1150);
  expect_seek_lands_as_played_straight(replay, 799);
  expect_seek_lands_as_played_straight(replay, 800);
}

TEST_F(ReplaySeekTest, a_keyframe_config_out_of_range_is_refused_naming_the_field) {
  const auto interval = tickwire::sim::ReplayKeyframesConfig{.interval_ticks = 0}.validate();
  EXPECT_FALSE(interval.ok());
  EXPECT_NE(interval.message().find("interval_ticks = 0"), std::string::npos) << interval.message();
  const auto cap = tickwire::sim::ReplayKeyframesConfig{.max_keyframes = 1'000'000}.validate();
  EXPECT_FALSE(cap.ok());
  EXPECT_NE(cap.message().find("max_keyframes"), std::string::npos) << cap.message();
  EXPECT_TRUE(tickwire::sim::ReplayKeyframesConfig{}.validate().ok());
  // MatchReplay refuses it too, rather than playing with no seeking bound.
  const auto refused = MatchReplay::open(match_->file, {.interval_ticks = 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("interval_ticks"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace arena
