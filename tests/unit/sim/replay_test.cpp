// Replay files: what a recorder writes, a reader gives back, tick for tick and from any tick; a
// file cut short or with any byte changed is refused with a message, never read.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <span>

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

// Ticks 1..count, skipping every 13th (a game may record only some ticks), into `recorder`; the
// bytes are taken every `take_every` ticks recorded (0: only at the end, with finish()).
std::vector<std::byte> record_ticks(ReplayRecorder& recorder, std::uint32_t count,
                                    std::uint32_t take_every = 1) {
  std::vector<std::byte> file;
  std::uint32_t recorded = 0;
  for (std::uint32_t tick = 1; tick <= count; ++tick) {
    if (tick % 13 == 0) continue;
    EXPECT_TRUE(recorder.record(tick, tick_data(tick), hash_of(tick)));
    if (take_every != 0 && ++recorded % take_every == 0) {
      const auto bytes = recorder.take_bytes();
      file.insert(file.end(), bytes.begin(), bytes.end());
    }
  }
  const auto rest = recorder.finish();
  file.insert(file.end(), rest.begin(), rest.end());
  return file;
}

std::vector<std::byte> record_file(std::uint32_t count, std::uint32_t ticks_per_chunk,
                                   std::uint32_t take_every = 1) {
  auto recorder = ReplayRecorder::make(test_info(), {.ticks_per_chunk = ticks_per_chunk});
  EXPECT_TRUE(recorder.ok()) << recorder.error();
  return record_ticks(*recorder, count, take_every);
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

// Replays recorded before the format moved to XXH3 checksums (version 2) still play: this file
// is what record_file(70, 8) made with the version-1 recorder (FNV-1a checksums). Salvage keeps a
// recording's own version, so a version-1 recording cut short reads back too.
TEST(Replay, a_version_1_replay_reads_back_tick_for_tick_and_salvages_in_its_own_version) {
  std::ifstream in(TICKWIRE_TEST_REPLAY_FORMAT_1, std::ios::binary);
  ASSERT_TRUE(in) << TICKWIRE_TEST_REPLAY_FORMAT_1;
  std::vector<std::byte> file;
  for (char c; in.get(c);)
    file.push_back(static_cast<std::byte>(c));
  ASSERT_EQ(kReplayFormatVersion, 2u);
  ASSERT_NE(file, record_file(70, 8)) << "a version-2 recording differs in its checksums";

  const auto check = [](const std::vector<std::byte>& bytes, std::uint32_t ticks) {
    auto reader = ReplayReader::open(bytes);
    ASSERT_TRUE(reader.ok()) << reader.error();
    EXPECT_EQ(reader->info().format_version, 1u);
    EXPECT_EQ(reader->info().game, "test");
    std::uint32_t count = 0;
    for (std::uint32_t tick = 1; tick <= 70 && count < ticks; ++tick) {
      if (tick % 13 == 0) continue;
      const auto read = reader->next();
      ASSERT_TRUE(read.has_value()) << "tick " << tick;
      EXPECT_EQ(read->tick, tick);
      EXPECT_EQ(read->state_hash, hash_of(tick));
      const auto expected = tick_data(tick);
      EXPECT_TRUE(
          std::equal(read->data.begin(), read->data.end(), expected.begin(), expected.end()))
          << "tick " << tick;
      ++count;
    }
    EXPECT_FALSE(reader->next().has_value());
  };
  check(file, 70 - 70 / 13);

  auto changed = file;
  changed[changed.size() / 2] ^= std::byte{0x40};  // inside a chunk: its FNV-1a no longer matches
  EXPECT_FALSE(ReplayReader::open(changed).ok());

  // Cut before its index, inside the last chunk: the whole chunks before it come back, in
  // version 1.
  auto salvaged = salvage_replay(std::span(file).first(file.size() - 400));
  ASSERT_TRUE(salvaged.ok()) << salvaged.error();
  EXPECT_GT(salvaged->tick_count, 0u);
  EXPECT_LT(salvaged->tick_count, 70u - 70u / 13);
  check(salvaged->file, salvaged->tick_count);
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

// A chunk is handed over from where it was built when its bytes are taken before the next tick,
// and copied aside when they are not: the file is the same either way.
TEST(Replay, the_file_is_the_same_however_often_its_bytes_are_taken) {
  const auto every_tick = record_file(1000, 64);
  ASSERT_TRUE(ReplayReader::open(every_tick).ok());
  EXPECT_EQ(record_file(1000, 64, 100), every_tick);  // chunks finished between takes
  EXPECT_EQ(record_file(1000, 64, 0), every_tick);    // everything at finish()
  EXPECT_EQ(record_file(1000, 64, 64), every_tick);   // taken as each chunk ends
}

// A server hands a finished recording's buffers to the next match's recorder: that recording is
// the same file a fresh recorder makes, whatever the earlier one left in them.
TEST(Replay, a_recorder_on_a_finished_recorders_buffers_makes_the_same_file) {
  auto first = ReplayRecorder::make(test_info(), {.ticks_per_chunk = 16});
  ASSERT_TRUE(first.ok());
  // Larger ticks than the next recording's, so that its buffers hold longer chunks.
  for (std::uint32_t tick = 1; tick <= 40; ++tick)
    ASSERT_TRUE(first->record(tick, std::vector<std::byte>(3000, std::byte{0xAB}), tick));
  (void)first->finish();
  auto second = ReplayRecorder::make(test_info(), {.ticks_per_chunk = 64}, first->take_buffers());
  ASSERT_TRUE(second.ok());
  const auto file = record_ticks(*second, 1000);
  EXPECT_EQ(file, record_file(1000, 64));
  auto reader = ReplayReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader->last_tick(), 1000u);
  // The recorder that gave its buffers away takes no more ticks.
  EXPECT_FALSE(first->record(41, {}, 0));
}

TEST(Replay, a_write_that_fails_is_reported_by_the_recorder) {
  auto recorder = ReplayRecorder::make(test_info());
  ASSERT_TRUE(recorder.ok());
  EXPECT_FALSE(recorder->write_pending([](std::span<const std::byte>) { return false; }));
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

// The ticks a recording holds in whole chunks when cut to each size: the frames of `file` after
// its header are its chunks (ticks_per_chunk ticks each, the last one fewer) and then its index.
std::vector<std::uint32_t> whole_ticks_by_size(const std::vector<std::byte>& file,
                                               std::uint32_t ticks, std::uint32_t ticks_per_chunk) {
  std::vector<std::uint32_t> by_size(file.size() + 1, 0);
  auto frame_end = [&](std::size_t at) {
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
      size |= static_cast<std::uint32_t>(file[at + i]) << (8 * i);
    return at + 4 + size;
  };
  auto next_frame = [](std::size_t end) {
    while ((end + 4) % 8 != 0)
      ++end;
    return end;
  };
  std::size_t at = next_frame(frame_end(12));  // the first chunk
  std::uint32_t whole = 0;
  while (whole < ticks) {
    const std::size_t end = frame_end(at);
    whole += std::min(ticks_per_chunk, ticks - whole);
    for (std::size_t size = end; size <= file.size(); ++size)
      by_size[size] = whole;
    at = next_frame(end);
  }
  return by_size;
}

TEST(Replay, a_recording_cut_anywhere_is_salvaged_to_exactly_its_whole_chunks) {
  constexpr std::uint32_t kTicksPerChunk = 8;
  const auto file = record_file(70, kTicksPerChunk);
  const std::uint32_t ticks = 70 - 70 / 13;
  const auto expected = whole_ticks_by_size(file, ticks, kTicksPerChunk);
  auto original = ReplayReader::open(file);
  ASSERT_TRUE(original.ok()) << original.error();
  std::vector<ReplayTick> recorded;
  while (auto tick = original->next())
    recorded.push_back(*tick);
  ASSERT_EQ(recorded.size(), ticks);

  for (std::size_t size = 0; size < file.size(); ++size) {
    const std::span<const std::byte> cut(file.data(), size);
    auto salvaged = salvage_replay(cut);
    if (expected[size] == 0) {
      ASSERT_FALSE(salvaged.ok()) << "cut at " << size;
      const bool named = salvaged.error().find("nothing to salvage") != std::string::npos ||
                         salvaged.error().find("not a replay") != std::string::npos;
      EXPECT_TRUE(named) << "cut at " << size << ": " << salvaged.error();
      continue;
    }
    ASSERT_TRUE(salvaged.ok()) << "cut at " << size << ": " << salvaged.error();
    EXPECT_EQ(salvaged->tick_count, expected[size]) << "cut at " << size;
    ASSERT_LE(salvaged->kept_bytes, size);
    EXPECT_TRUE(std::equal(file.begin(), file.begin() + static_cast<long>(salvaged->kept_bytes),
                           salvaged->file.begin()));
    auto reader = ReplayReader::open(salvaged->file);
    ASSERT_TRUE(reader.ok()) << "cut at " << size << ": " << reader.error();
    EXPECT_TRUE(reader->cut_short());
    EXPECT_EQ(reader->info().match_id, 42u);
    EXPECT_EQ(reader->info().initial_state, test_info().initial_state);
    ASSERT_EQ(reader->tick_count(), expected[size]) << "cut at " << size;
    for (std::uint32_t i = 0; i < expected[size]; ++i) {
      const auto tick = reader->next();
      ASSERT_TRUE(tick.has_value()) << "cut at " << size << ", tick " << i;
      EXPECT_EQ(tick->tick, recorded[i].tick);
      EXPECT_EQ(tick->state_hash, recorded[i].state_hash);
      EXPECT_TRUE(std::ranges::equal(tick->data, recorded[i].data)) << "cut at " << size;
    }
    EXPECT_FALSE(reader->next().has_value());
    // Seeking through the rebuilt index lands where it should.
    ASSERT_TRUE(reader->seek(recorded[expected[size] - 1].tick));
    EXPECT_EQ(reader->next()->tick, recorded[expected[size] - 1].tick);
  }
  // A recording that finished is not salvaged, and says it is no cut one.
  auto whole = ReplayReader::open(file);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->cut_short());
  const auto complete = salvage_replay(file);
  ASSERT_FALSE(complete.ok());
  EXPECT_NE(complete.error().find("complete replay"), std::string::npos) << complete.error();
}

// A header's tick rate is what a player divides by: a damaged or hostile file with 0, a negative
// rate or a NaN is refused with the field named, whether opened whole or salvaged.
TEST(Replay, a_header_with_an_impossible_tick_rate_is_refused) {
  const auto file = record_file(70, 8);
  const double recorded_rate = test_info().tick_rate_hz;
  std::array<std::byte, sizeof(double)> rate_bytes;
  std::memcpy(rate_bytes.data(), &recorded_rate, sizeof(double));
  const std::uint32_t header_end =
      4 + (static_cast<std::uint32_t>(file[0]) | static_cast<std::uint32_t>(file[1]) << 8 |
           static_cast<std::uint32_t>(file[2]) << 16 | static_cast<std::uint32_t>(file[3]) << 24);
  const auto at =
      std::search(file.begin(), file.begin() + header_end, rate_bytes.begin(), rate_bytes.end());
  ASSERT_NE(at, file.begin() + header_end) << "the header holds the tick rate as a double";
  const auto offset = at - file.begin();
  for (const double bad : {0.0, -60.0, 1e9, std::numeric_limits<double>::quiet_NaN()}) {
    std::vector<std::byte> copy(file.begin(), file.end() - 40);  // cut: salvage rebuilds the index
    std::memcpy(copy.data() + offset, &bad, sizeof(double));
    auto salvaged = salvage_replay(copy);
    ASSERT_FALSE(salvaged.ok()) << bad;
    EXPECT_NE(salvaged.error().find("tick_rate_hz"), std::string::npos) << salvaged.error();
  }
}

// A cut recording's chunks have no checksum yet (the index holds them), so salvage can only check
// their structure: with a byte changed anywhere, it refuses or gives a replay that the reader
// opens whole, its ticks in order, never a crash.
TEST(Replay, salvaging_a_cut_recording_with_a_changed_byte_gives_a_readable_replay_or_none) {
  const auto file = record_file(70, 8);
  const std::size_t cut = file.size() - 40;  // into the last chunk or the index
  const std::uint64_t seed = tickwire::test::test_seed(11);
  std::mt19937_64 random(seed);
  for (std::size_t at = 0; at < cut; ++at) {
    std::vector<std::byte> copy(file.begin(), file.begin() + static_cast<long>(cut));
    copy[at] ^= std::byte(1 + random() % 255);
    auto salvaged = salvage_replay(copy);
    if (!salvaged.ok()) {
      EXPECT_FALSE(salvaged.error().empty());
      continue;
    }
    auto reader = ReplayReader::open(salvaged->file);
    ASSERT_TRUE(reader.ok()) << "byte " << at << ": " << reader.error();
    std::uint32_t count = 0;
    std::optional<std::uint32_t> previous;
    while (auto tick = reader->next()) {
      if (previous) {
        ASSERT_GT(tick->tick, *previous) << "byte " << at;
      }
      previous = tick->tick;
      ++count;
    }
    EXPECT_EQ(count, salvaged->tick_count);
    EXPECT_TRUE(reader->cut_short());
  }
}

}  // namespace
}  // namespace tickwire::sim
