// The replay screen's controls (tickwire-client --replay), without a window: a 20 s match
// recorded the way the server records one (MatchRecorder), played back through ReplayPlayback
// with frame times the test chooses. What the viewer sees at any tick must be the world as the
// match played it straight, whichever way the controls got there.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <tickwire/sim/replay.hpp>

#include "arena_replay.hpp"
#include "recorded_match.hpp"
#include "replay_playback.hpp"

namespace arena::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
// One frame at 60 frames a second, rounded up to whole nanoseconds so that 60 of them make at
// least a second.
constexpr nanoseconds kFrame{16'666'667};
using test::kMatchId;
using test::kMatchTicks;
using test::match_rules;
using test::RecordedMatch;

class ReplayPlaybackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { match_ = new RecordedMatch(test::record_match()); }
  static void TearDownTestSuite() {
    delete match_;
    match_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(match_->states.size(), kMatchTicks + 1u);
    auto replay = MatchReplay::open(match_->file);
    ASSERT_TRUE(replay.ok()) << replay.error();
    playback_.emplace(std::move(replay.value()));
    ASSERT_EQ(playback_->last_tick(), kMatchTicks);
    ASSERT_EQ(playback_->tick(), 0u);
  }

  // Plays `how_long` of frame time in 60 frames a second.
  void play(seconds how_long) {
    for (int i = 0; i < how_long.count() * 60; ++i)
      playback_->advance(kFrame);
  }

  // What the viewer sees is the world as the match played straight at the same tick.
  void expect_world_as_played_straight() {
    const std::uint64_t tick = playback_->tick();
    ASSERT_LT(tick, match_->states.size());
    EXPECT_TRUE(playback_->world().state() == match_->states[tick]) << "at tick " << tick;
    EXPECT_EQ(playback_->world().state().hash(), match_->states[tick].hash()) << "at tick " << tick;
    EXPECT_EQ(playback_->problem(), "");
  }

  static RecordedMatch* match_;
  std::optional<ReplayPlayback> playback_;
};

RecordedMatch* ReplayPlaybackTest::match_ = nullptr;

TEST_F(ReplayPlaybackTest, plays_one_second_of_the_match_per_second_at_1x) {
  EXPECT_EQ(playback_->speed(), 1.0);
  play(seconds(2));
  EXPECT_EQ(playback_->tick(), 120u);
  EXPECT_DOUBLE_EQ(playback_->seconds(), 2.0);
  EXPECT_FALSE(playback_->ended());
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, a_paused_replay_does_not_advance_however_much_time_passes) {
  play(seconds(1));
  ASSERT_EQ(playback_->tick(), 60u);
  playback_->toggle_pause();
  EXPECT_TRUE(playback_->paused());
  play(seconds(30));
  playback_->advance(std::chrono::hours(2));
  playback_->faster();  // changing the speed does not move a paused replay either
  playback_->advance(seconds(3));
  EXPECT_EQ(playback_->tick(), 60u);
  expect_world_as_played_straight();

  // Unpaused, it goes on from where it stood, at the speed chosen meanwhile (2x).
  playback_->toggle_pause();
  EXPECT_FALSE(playback_->paused());
  play(seconds(1));
  EXPECT_EQ(playback_->tick(), 60u + 120u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, at_2x_each_second_of_frame_time_plays_two_seconds_of_the_match) {
  playback_->faster();
  ASSERT_EQ(playback_->speed(), 2.0);
  play(seconds(3));
  EXPECT_EQ(playback_->tick(), 2u * 3u * 60u);
  EXPECT_DOUBLE_EQ(playback_->seconds(), 6.0);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, at_a_quarter_speed_four_seconds_of_frames_play_one_second) {
  playback_->slower();
  playback_->slower();
  ASSERT_EQ(playback_->speed(), 0.25);
  // 10 ms frames: 0.15 of a tick each, which must add up without losing any.
  for (int i = 0; i < 400; ++i)
    playback_->advance(milliseconds(10));
  EXPECT_EQ(playback_->tick(), 60u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, speed_steps_go_from_a_quarter_to_4x_and_stop_there) {
  for (int i = 0; i < 10; ++i)
    playback_->slower();
  std::vector<double> speeds{playback_->speed()};
  for (int i = 0; i < 10; ++i) {
    playback_->faster();
    speeds.push_back(playback_->speed());
  }
  EXPECT_EQ(speeds, (std::vector<double>{0.25, 0.5, 1, 2, 4, 4, 4, 4, 4, 4, 4}));
  // 4x really plays four seconds a second.
  play(seconds(1));
  EXPECT_EQ(playback_->tick(), 4u * 60u);
  expect_world_as_played_straight();
  for (int i = 0; i < 10; ++i)
    playback_->slower();
  EXPECT_EQ(playback_->speed(), 0.25);
}

TEST_F(ReplayPlaybackTest, a_long_stalled_frame_does_not_fast_forward_through_the_match) {
  playback_->advance(seconds(60));
  EXPECT_EQ(playback_->tick(),
            static_cast<std::uint64_t>(ReplayPlayback::kMaxSecondsPerFrame * 60));
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, seeking_back_5_s_shows_the_world_as_it_was_5_s_earlier) {
  // Played there, not jumped: 16 s is after player 3 joined (6 s) and player 1 left (15 s).
  playback_->faster();
  playback_->faster();
  play(seconds(4));
  ASSERT_EQ(playback_->tick(), 16u * 60u);
  playback_->seek_back();
  EXPECT_EQ(playback_->tick(), 11u * 60u);
  expect_world_as_played_straight();
  playback_->seek_back();
  EXPECT_EQ(playback_->tick(), 6u * 60u);
  expect_world_as_played_straight();
  // And it plays on from there as the match did.
  play(seconds(1));
  EXPECT_EQ(playback_->tick(), 10u * 60u);
  expect_world_as_played_straight();
  playback_->seek_on();
  EXPECT_EQ(playback_->tick(), 15u * 60u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, seeking_back_near_the_start_stops_at_tick_0) {
  play(seconds(2));
  playback_->seek_back();
  EXPECT_EQ(playback_->tick(), 0u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, seeking_past_the_end_stops_at_the_last_tick_and_reports_ended) {
  playback_->seek_to(kMatchTicks - 60);
  EXPECT_FALSE(playback_->ended());
  playback_->seek_on();
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  EXPECT_TRUE(playback_->ended());
  EXPECT_DOUBLE_EQ(playback_->played_fraction(), 1.0);
  expect_world_as_played_straight();
  play(seconds(5));
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  playback_->seek_to(kMatchTicks * 10);
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  EXPECT_TRUE(playback_->ended());

  // From the end, a seek back plays again.
  playback_->seek_back();
  EXPECT_FALSE(playback_->ended());
  play(seconds(1));
  EXPECT_EQ(playback_->tick(), kMatchTicks - 4u * 60u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, playing_to_the_end_stops_at_the_last_tick) {
  playback_->faster();
  playback_->faster();
  play(seconds(10));  // 40 s of a 20 s match
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  EXPECT_TRUE(playback_->ended());
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, start_over_goes_back_to_tick_0_and_plays_the_same_match_again) {
  play(seconds(3));
  playback_->start_over();
  EXPECT_EQ(playback_->tick(), 0u);
  expect_world_as_played_straight();
  play(seconds(1));
  EXPECT_EQ(playback_->tick(), 60u);
  expect_world_as_played_straight();

  playback_->seek_to(kMatchTicks);
  ASSERT_TRUE(playback_->ended());
  playback_->start_over();
  EXPECT_EQ(playback_->tick(), 0u);
  EXPECT_FALSE(playback_->ended());
}

TEST_F(ReplayPlaybackTest, a_timeline_position_maps_to_its_share_of_the_match) {
  playback_->seek_to_fraction(0.5);
  EXPECT_EQ(playback_->tick(), kMatchTicks / 2);
  EXPECT_DOUBLE_EQ(playback_->played_fraction(), 0.5);
  expect_world_as_played_straight();
  playback_->seek_to_fraction(0.25);  // backwards
  EXPECT_EQ(playback_->tick(), kMatchTicks / 4);
  expect_world_as_played_straight();
  playback_->seek_to_fraction(1.0);
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  EXPECT_TRUE(playback_->ended());
  // A drag past either end of the timeline stops at that end.
  playback_->seek_to_fraction(1.7);
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  playback_->seek_to_fraction(-0.3);
  EXPECT_EQ(playback_->tick(), 0u);
  expect_world_as_played_straight();
}

TEST_F(ReplayPlaybackTest, a_click_on_the_timeline_bar_goes_to_the_tick_under_the_pointer) {
  // A bar of 401 pixels from x = 100: its first pixel is the start, its last the end, its middle
  // the middle.
  const auto click = [&](int x) { playback_->seek_to_fraction(timeline_fraction(x, 100, 401)); };
  click(300);
  EXPECT_EQ(playback_->tick(), kMatchTicks / 2);
  expect_world_as_played_straight();
  click(500);
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  EXPECT_TRUE(playback_->ended());
  click(100);
  EXPECT_EQ(playback_->tick(), 0u);
  click(200);
  EXPECT_EQ(playback_->tick(), kMatchTicks / 4);
  expect_world_as_played_straight();
  // Beside the bar, on the panel's margin: the nearer end.
  click(600);
  EXPECT_EQ(playback_->tick(), kMatchTicks);
  click(90);
  EXPECT_EQ(playback_->tick(), 0u);
}

// A replay whose recorded hash at one tick is not what the rules give (another build's rules)
// stops there, saying at which tick, and plays no further.
TEST(ReplayPlayback, a_replay_that_diverges_stops_at_that_tick_with_a_problem) {
  const Config rules = match_rules();
  tickwire::sim::ReplayInfo info;
  info.game = kReplayGame;
  info.game_version = kReplayRulesVersion;
  info.match_id = kMatchId;
  info.tick_rate_hz = rules.tick_rate_hz;
  info.initial_state = encode_replay_rules(rules);
  auto recorder = tickwire::sim::ReplayRecorder::make(std::move(info));
  ASSERT_TRUE(recorder.ok()) << recorder.error();
  World world(rules);
  ReplayStep step;
  step.membership.push_back({1, true});
  world.add_player(1);
  for (std::uint32_t tick = 1; tick <= 300; ++tick) {
    world.step({});
    const std::uint64_t hash = tick == 100 ? world.state().hash() + 1 : world.state().hash();
    ASSERT_TRUE(recorder->record(tick, encode_replay_step(step), hash));
    step.membership.clear();
  }
  auto file = recorder->take_bytes();
  const auto rest = recorder->finish();
  file.insert(file.end(), rest.begin(), rest.end());
  auto replay = MatchReplay::open(std::move(file));
  ASSERT_TRUE(replay.ok()) << replay.error();

  ReplayPlayback playback(std::move(replay.value()));
  playback.advance(seconds(3));
  EXPECT_EQ(playback.tick(), 100u);
  EXPECT_TRUE(playback.ended());
  EXPECT_NE(playback.problem().find("tick 100"), std::string::npos) << playback.problem();
  playback.advance(seconds(3));
  EXPECT_EQ(playback.tick(), 100u);
  // Before that tick the replay is sound, and plays again from there.
  playback.seek_to(40);
  EXPECT_FALSE(playback.ended());
  playback.advance(milliseconds(500));
  EXPECT_EQ(playback.tick(), 70u);
}

}  // namespace
}  // namespace arena::client
