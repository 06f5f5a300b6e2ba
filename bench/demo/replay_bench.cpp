// What recording a match costs the Arena server's tick, against the tick's own simulation, in the
// same run: World::step for N players among the drones, then MatchRecorder::ticked (the tick's
// joins, leaves and inputs encoded, the state hash, the chunk written to a real file), each timed
// in CPU time on this thread. The step alone is less than a server tick (which also snapshots and
// polls the network), so recording/step overstates recording's share of the tick.
//
// Also: the replay's size per minute, and how fast a replay re-simulates (ticks per second of
// CPU), which is what a seek that re-simulates costs; and a seek back to late in a long match
// with MatchReplay's keyframes against without them (every seek back re-simulating from tick 1,
// as before keyframes), in the same run.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "../../tests/support/temp_directory.hpp"
#include "arena_replay.hpp"
#include "cpu_timing.hpp"
#include "match_recorder.hpp"

namespace {

namespace fs = std::filesystem;

struct Options {
  std::vector<int> players = {8, 32, 64, 128};
  int ticks = 60 * 60;  // one minute at 60 Hz
  int drones = 30;
  int seek_minutes = 30;  // the long match the seek is timed in (8 players)
  double seek_to = 0.9;   // where the seek goes back to, as a share of the match
};

struct Result {
  double step_median_us = 0, step_mean_us = 0;
  double record_median_us = 0, record_mean_us = 0, record_p99_us = 0;
  double writer_mean_us = 0;  // the recorder's writer thread, per tick
  double kib_per_minute = 0;
  double replay_ticks_per_cpu_second = 0;
};

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

// Records a match of `players` (timing the step and the recorder), then re-simulates its replay.
// The replay file's bytes go to `keep` when given.
Result measure(const Options& options, int players, const fs::path& folder,
               std::vector<std::byte>* keep = nullptr) {
  Result result;
  arena::Config rules;
  rules.drones = options.drones;
  rules.match_ticks = static_cast<std::uint32_t>(options.ticks) + 1;
  auto recorder = std::move(
      arena::MatchRecorder::make({.directory = folder.string(), .keep_newest = 0}).value());
  arena::World world(rules);
  const std::uint64_t match = static_cast<std::uint64_t>(players);
  recorder->match_began(match, rules);
  for (int p = 1; p <= players; ++p) {
    world.add_player(static_cast<arena::PlayerId>(p));
    recorder->player_joined(match, static_cast<arena::PlayerId>(p));
  }
  std::mt19937 random(3);
  std::map<arena::PlayerId, arena::PlayerInput> inputs;
  std::vector<double> step_us, record_us;
  for (int t = 1; t <= options.ticks; ++t) {
    // Players change keys and aim every few ticks; the tick they saw (for lag compensation)
    // moves on every tick, as a client's does.
    for (int p = 1; p <= players; ++p) {
      inputs[static_cast<arena::PlayerId>(p)].view_tick = t - 6;
      if ((t + p) % 6 != 0 && t != 1) continue;
      arena::PlayerInput input;
      input.move_x = static_cast<std::int8_t>(static_cast<int>(random() % 3) - 1);
      input.move_y = static_cast<std::int8_t>(static_cast<int>(random() % 3) - 1);
      input.aim = static_cast<float>(random() % 628) / 100.0f;
      input.fire = random() % 4 == 0;
      input.view_tick = t - 6;
      inputs[static_cast<arena::PlayerId>(p)] = input;
    }
    const double start = arena::thread_cpu_us();
    world.step(inputs);
    const double stepped = arena::thread_cpu_us();
    recorder->ticked(match, inputs, world);
    const double recorded = arena::thread_cpu_us();
    step_us.push_back(stepped - start);
    record_us.push_back(recorded - stepped);
  }
  recorder->match_closed(match);
  result.writer_mean_us = recorder->writer_cpu_seconds() * 1e6 / options.ticks;
  result.step_mean_us = mean(step_us);
  result.record_mean_us = mean(record_us);
  std::sort(step_us.begin(), step_us.end());
  std::sort(record_us.begin(), record_us.end());
  result.step_median_us = arena::percentile_of_sorted(step_us, 0.5);
  result.record_median_us = arena::percentile_of_sorted(record_us, 0.5);
  result.record_p99_us = arena::percentile_of_sorted(record_us, 0.99);

  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!arena::is_replay_file_name(entry.path().filename().string())) continue;
    const double minutes = options.ticks / rules.tick_rate_hz / 60;
    result.kib_per_minute = static_cast<double>(entry.file_size()) / 1024 / minutes;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    const auto* data = reinterpret_cast<const std::byte*>(chars.data());
    const double start = arena::thread_cpu_us();
    auto replay = arena::MatchReplay::open({data, data + chars.size()});
    int ticks = 0;
    while (replay && replay->step() == arena::MatchReplay::Step::stepped)
      ++ticks;
    const double cpu_s = (arena::thread_cpu_us() - start) / 1e6;
    if (ticks != options.ticks) std::fprintf(stderr, "replay stopped at tick %d\n", ticks);
    result.replay_ticks_per_cpu_second = ticks / cpu_s;
    if (keep != nullptr) *keep = {data, data + chars.size()};
    fs::remove(entry.path());
  }
  return result;
}

struct SeekTiming {
  double cpu_ms = 0;
  std::uint64_t ticks_simulated = 0;
  std::size_t keyframes = 0;
  std::uint64_t interval_ticks = 0;
};

// Plays the replay to its end (as a viewer who watched it through), then seeks back to `target`.
SeekTiming time_seek_back(const std::vector<std::byte>& file, std::uint64_t target,
                          const tickwire::sim::ReplayKeyframesConfig& keyframes) {
  SeekTiming timing;
  auto replay = arena::MatchReplay::open(file, keyframes);
  if (!replay) {
    std::fprintf(stderr, "replay refused: %s\n", replay.error().c_str());
    return timing;
  }
  (void)replay->seek(replay->last_tick());
  const std::uint64_t before = replay->ticks_simulated();
  const double start = arena::thread_cpu_us();
  const auto outcome = replay->seek(target);
  timing.cpu_ms = (arena::thread_cpu_us() - start) / 1e3;
  timing.ticks_simulated = replay->ticks_simulated() - before;
  timing.keyframes = replay->keyframe_count();
  timing.interval_ticks = replay->keyframe_interval_ticks();
  if (outcome != arena::MatchReplay::Step::stepped || replay->world().tick() != target)
    std::fprintf(stderr, "the seek stopped at tick %llu\n",
                 static_cast<unsigned long long>(replay->world().tick()));
  return timing;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Arena: what recording a match costs per tick, against the tick's simulation"};
  app.add_option("--players", options.players, "player counts to measure")->capture_default_str();
  app.add_option("--ticks", options.ticks, "ticks recorded per count")->capture_default_str();
  app.add_option("--drones", options.drones, "drones in the match")->capture_default_str();
  app.add_option("--seek-minutes", options.seek_minutes, "length of the match the seek is timed in")
      ->capture_default_str();
  app.add_option("--seek-to", options.seek_to, "where the seek goes back to (share of the match)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const tickwire::test::TempDirectory directory("tickwire-replay-bench");
  const fs::path& folder = directory.path();

  std::printf(
      "Recording an Arena match: %d ticks at 60 Hz, %d drones. CPU time per tick on this thread:\n"
      "'step' is World::step (the simulation, a part of the server's tick), 'record' is\n"
      "MatchRecorder::ticked (encode the tick, hash the state now and then), 'writer' the CPU per\n"
      "tick of the recorder's writer thread (make each chunk, write it to a file); record/step\n"
      "counts both.\n"
      "Replay: the file's size per minute, and re-simulation speed (seeking costs that).\n\n",
      options.ticks, options.drones);
  std::printf("%7s %12s %12s %14s %14s %13s %14s %12s %10s %16s\n", "players", "step med us",
              "step mean us", "record med us", "record mean us", "record p99 us", "writer mean us",
              "record/step", "KiB/min", "replay ticks/s");
  bool ok = true;
  for (const int players : options.players) {
    const Result r = measure(options, players, folder);
    const double share =
        r.step_mean_us > 0 ? (r.record_mean_us + r.writer_mean_us) / r.step_mean_us : 0;
    ok = ok && r.replay_ticks_per_cpu_second > 0;
    std::printf("%7d %12.1f %12.1f %14.2f %14.2f %13.2f %14.2f %11.1f%% %10.1f %16.0f\n", players,
                r.step_median_us, r.step_mean_us, r.record_median_us, r.record_mean_us,
                r.record_p99_us, r.writer_mean_us, share * 100, r.kib_per_minute,
                r.replay_ticks_per_cpu_second);
    std::fflush(stdout);
  }

  // A seek back late in a long match, after playing it through: keyframes against none.
  Options long_match = options;
  long_match.ticks = options.seek_minutes * 60 * 60;
  std::vector<std::byte> file;
  (void)measure(long_match, 8, folder, &file);
  const auto target =
      static_cast<std::uint64_t>(options.seek_to * static_cast<double>(long_match.ticks));
  const tickwire::sim::ReplayKeyframesConfig with_keyframes{};
  const SeekTiming before = time_seek_back(file, target, {.max_keyframes = 0});
  const SeekTiming after = time_seek_back(file, target, with_keyframes);
  std::printf(
      "\nSeek back to tick %llu of a %d-minute match (8 players), after playing it through, CPU\n"
      "time on this thread: without keyframes (re-simulates from tick 1) and with MatchReplay's\n"
      "default keyframes (every %u ticks at first, at most %zu kept).\n\n",
      static_cast<unsigned long long>(target), options.seek_minutes, with_keyframes.interval_ticks,
      with_keyframes.max_keyframes);
  std::printf("%-18s %10s %16s %10s %15s\n", "seek", "cpu ms", "ticks simulated", "keyframes",
              "interval ticks");
  std::printf("%-18s %10.2f %16llu %10s %15s\n", "without keyframes", before.cpu_ms,
              static_cast<unsigned long long>(before.ticks_simulated), "-", "-");
  std::printf("%-18s %10.2f %16llu %10zu %15llu\n", "with keyframes", after.cpu_ms,
              static_cast<unsigned long long>(after.ticks_simulated), after.keyframes,
              static_cast<unsigned long long>(after.interval_ticks));
  std::printf("speed-up: %.0fx\n", after.cpu_ms > 0 ? before.cpu_ms / after.cpu_ms : 0.0);
  ok = ok && after.ticks_simulated <= after.interval_ticks;

  std::printf("\nGoal: recording costs at most 5 %% of the server's tick CPU.\n");
  return ok ? 0 : 1;
}
