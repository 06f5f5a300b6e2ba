// Replay files: what a recorder writes, a reader gives back, tick for tick and from any tick; a
// file cut short or with any byte changed is refused with a message, never read.

#include <gtest/gtest.h>

#include <random>

#include "../../support/pump.hpp"
#include "tickwire/sim/replay.hpp"

namespace tickwire::sim {
namespace {

std::vector<std::byte> tick_data(std::uint32_t tick) {
  // Sizes vary (0..9 bytes), so that records are not all alike.
  std::vector<std::byte> data(tick % 10);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = std::byte((tick * 7 + i) & 0xFF);
  return data;
}

std::uint64_t hash_of(std::uint32_t tick) {
  return 0x9E3779B97F4A7C15ull * (tick + 1);
}

ReplayInfo test_info() {
  ReplayInfo info;
  info.game = "test";
  info.game_version = 3;
  info.match_id = 42;
  info.tick_rate_hz = 60;
  info.started_unix_ms = 1'700'000'000'000;
  info.initial_state = {std::byte{1}, std::byte{2}, std::byte{3}};
  return info;
}

// Ticks 1..count, skipping every 13th (a game may record only some ticks).
std::vector<std::byte> record_file(std::uint32_t count, std::uint32_t ticks_per_chunk) {
  auto recorder = ReplayRecorder::make(test_info(), {.ticks_per_chunk = ticks_per_chunk});
  EXPECT_TRUE(recorder.ok()) << recorder.error();
  std::vector<std::byte> file;
  for (std::uint32_t tick = 1; tick <= count; ++tick) {
    if (tick % 13 == 0) continue;
    EXPECT_TRUE(recorder->record(tick, tick_data(tick), hash_of(tick)));
    const auto bytes = recorder->take_bytes();
    file.insert(file.end(), bytes.begin(), bytes.end());
  }
  const auto rest = recorder->finish();
  file.insert(file.end(), rest.begin(), rest.end());
  return file;
}

TEST(Replay, a_recording_reads_back_tick_for_tick_with_its_header) {
  auto reader = ReplayReader::open(record_file(1000, 64));
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader->info().game, "test");
  EXPECT_EQ(reader->info().game_version, 3u);
  EXPECT_EQ(reader->info().match_id, 42u);
  EXPECT_EQ(reader->info().started_unix_ms, 1'700'000'000'000u);
  EXPECT_EQ(reader->info().initial_state, test_info().initial_state);
  EXPECT_EQ(reader->first_tick(), 1u);
  EXPECT_EQ(reader->last_tick(), 1000u);
  std::uint32_t expected = 1;
  std::uint32_t count = 0;
  while (auto tick = reader->next()) {
    if (expected % 13 == 0) ++expected;
    ASSERT_EQ(tick->tick, expected);
    EXPECT_EQ(tick->state_hash, hash_of(expected));
    const auto data = tick_data(expected);
    ASSERT_TRUE(std::equal(tick->data.begin(), tick->data.end(), data.begin(), data.end()));
    ++expected;
    ++count;
  }
  EXPECT_EQ(count, reader->tick_count());
  EXPECT_EQ(count, 1000u - 1000u / 13);
}

TEST(Replay, seeking_lands_on_the_tick_or_the_next_recorded_one) {
  auto reader = ReplayReader::open(record_file(1000, 64));
  ASSERT_TRUE(reader.ok()) << reader.error();
  for (std::uint32_t target : {1u, 64u, 65u, 500u, 520u, 999u, 1000u, 26u}) {
    ASSERT_TRUE(reader->seek(target));
    const auto tick = reader->next();
    ASSERT_TRUE(tick);
    EXPECT_EQ(tick->tick, target % 13 == 0 ? target + 1 : target);
    EXPECT_EQ(tick->state_hash, hash_of(tick->tick));
  }
  EXPECT_FALSE(reader->seek(1001));
  EXPECT_FALSE(reader->next());
}

TEST(Replay, an_empty_recording_is_valid) {
  auto recorder = ReplayRecorder::make(test_info());
  ASSERT_TRUE(recorder.ok());
  auto file = recorder->take_bytes();
  const auto rest = recorder->finish();
  file.insert(file.end(), rest.begin(), rest.end());
  auto reader = ReplayReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader->tick_count(), 0u);
  EXPECT_FALSE(reader->next());
}

TEST(Replay, the_recorder_refuses_ticks_out_of_order) {
  auto recorder = ReplayRecorder::make(test_info());
  ASSERT_TRUE(recorder.ok());
  EXPECT_TRUE(recorder->record(5, {}, 0));
  EXPECT_FALSE(recorder->record(5, {}, 0));
  EXPECT_FALSE(recorder->record(4, {}, 0));
}

// Not an assert: make() refuses in Release builds too, with the field, its value and the rule.
TEST(ReplayRecorderConfig, an_invalid_config_is_refused_naming_the_field_and_value) {
  EXPECT_TRUE(ReplayRecorderConfig{}.validate().ok());
  const auto no_chunks = ReplayRecorder::make(test_info(), {.ticks_per_chunk = 0});
  ASSERT_FALSE(no_chunks.ok());
  EXPECT_EQ(no_chunks.error(), "replay recorder: ticks_per_chunk = 0 is invalid: use 1..100000");
  const auto huge_ticks = ReplayRecorder::make(test_info(), {.max_tick_bytes = 100u << 20});
  ASSERT_FALSE(huge_ticks.ok());
  EXPECT_NE(huge_ticks.error().find("max_tick_bytes = 104857600"), std::string::npos)
      << huge_ticks.error();
  ReplayInfo stopped = test_info();
  stopped.tick_rate_hz = 0;
  const auto zero_rate = ReplayRecorder::make(stopped);
  ASSERT_FALSE(zero_rate.ok());
  EXPECT_NE(zero_rate.error().find("tick_rate_hz = 0"), std::string::npos) << zero_rate.error();
}

TEST(Replay, a_file_cut_short_anywhere_is_refused_as_truncated_or_not_a_replay) {
  const auto file = record_file(300, 32);
  for (std::size_t size = 0; size < file.size(); ++size) {
    auto reader = ReplayReader::open({file.begin(), file.begin() + static_cast<long>(size)});
    ASSERT_FALSE(reader.ok()) << "cut at " << size;
    const bool named = reader.error().find("truncated") != std::string::npos ||
                       reader.error().find("not a replay") != std::string::npos;
    EXPECT_TRUE(named) << "cut at " << size << ": " << reader.error();
  }
}

TEST(Replay, any_changed_byte_is_refused_as_corrupt) {
  const auto file = record_file(300, 32);
  const std::uint64_t seed = tickwire::test::test_seed(7);
  std::mt19937_64 random(seed);
  for (std::size_t at = 0; at < file.size(); ++at) {
    auto copy = file;
    copy[at] ^= std::byte(1 + random() % 255);
    auto reader = ReplayReader::open(copy);
    if (reader.ok()) {
      // Only padding may change unnoticed: then every tick still reads back as recorded.
      std::uint32_t count = 0;
      while (auto tick = reader->next()) {
        ASSERT_EQ(tick->state_hash, hash_of(tick->tick)) << "byte " << at;
        ++count;
      }
      EXPECT_EQ(count, 300u - 300u / 13) << "byte " << at;
      continue;
    }
    EXPECT_FALSE(reader.error().empty());
  }
}

}  // namespace
}  // namespace tickwire::sim
