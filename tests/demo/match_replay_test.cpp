// Recording and replay of Arena matches: a match played over real ENet on 127.0.0.1 is recorded
// by the server; replaying the file through the rules gives the server's state hash at every
// tick. A replay cut short or corrupted is refused with a message, and the replay folder keeps
// only the newest replays.

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "arena_client.hpp"
#include "arena_replay.hpp"
#include "arena_server.hpp"
#include "match_recorder.hpp"
#include "ticketed_arena.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using tickwire::test::TempDirectory;

// Passes everything on to the recorder and keeps the server's own hash of every tick.
class HashingObserver final : public MatchObserver {
 public:
  explicit HashingObserver(std::shared_ptr<MatchRecorder> recorder)
      : recorder_(std::move(recorder)) {}
  void match_began(std::uint64_t id, const Config& rules) override {
    recorder_->match_began(id, rules);
  }
  void player_joined(std::uint64_t id, PlayerId p) override { recorder_->player_joined(id, p); }
  void player_left(std::uint64_t id, PlayerId p) override { recorder_->player_left(id, p); }
  void ticked(std::uint64_t id, const std::map<PlayerId, PlayerInput>& inputs,
              const World& world) override {
    recorder_->ticked(id, inputs, world);
    hashes.push_back(world.state().hash());
  }
  void match_closed(std::uint64_t id) override { recorder_->match_closed(id); }

  std::vector<std::uint64_t> hashes;  // read once the server has stopped

 private:
  std::shared_ptr<MatchRecorder> recorder_;
};

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(chars.data());
  return {data, data + chars.size()};
}

std::vector<fs::path> replays_in(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(folder))
    out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Plays a short match: Ann moves and fires from the start, Bob joins later, Ann leaves before
// the end (her entity goes at once: no reconnect grace). Returns the server's per-tick hashes.
std::vector<std::uint64_t> play_recorded_match(const fs::path& folder) {
  const test::TestLobby lobby;
  auto recorder = MatchRecorder::make({.directory = folder.string(), .keep_newest = 10});
  EXPECT_TRUE(recorder.ok()) << recorder.error();
  auto observer = std::make_shared<HashingObserver>(recorder.value());
  ServerConfig config = lobby.server_config();
  config.match_seconds = 2;
  config.linger_ms = 100;
  config.reconnect_grace_ms = 0;
  config.observer = observer;
  auto server = std::move(ArenaServer::start(config).value());
  std::atomic<bool> stop{false};
  std::thread thread([&] {
    while (!stop.load())
      server->run_for(std::chrono::milliseconds(20));
  });
  const auto connect = [&](std::uint64_t player) {
    return std::move(ArenaClient::connect(lobby.client_config(player, server->port())).value());
  };
  auto ann = connect(1);
  std::unique_ptr<ArenaClient> bob;
  // Generous: the match lasts 2 s of server time, however loaded the machine.
  const auto until = Clock::now() + std::chrono::seconds(30);
  int frame = 0;
  while (Clock::now() < until) {
    ++frame;
    if (ann) {
      ann->update(std::chrono::milliseconds(16), Intent{.move_x = 1,
                                                        .move_y = std::int8_t(frame % 3 - 1),
                                                        .aim = float(frame) * 0.1f,
                                                        .fire = frame % 7 == 0});
      if (ann->phase() == ClientPhase::playing && frame > 40) ann.reset();  // she quits
    }
    if (frame == 20) bob = connect(2);
    if (bob) {
      bob->update(std::chrono::milliseconds(16), Intent{.move_x = -1, .aim = 1.5f, .fire = true});
      if (bob->phase() == ClientPhase::disconnected) break;  // the match is over and closed
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(16));
  }
  // The match closes once Bob is gone; stopping the server closes any match still open.
  stop = true;
  thread.join();
  server.reset();
  return observer->hashes;
}

TEST(MatchReplay, replaying_a_recorded_match_gives_the_servers_state_hash_at_every_tick) {
  TempDirectory folder{"tickwire-arena-test"};
  const std::vector<std::uint64_t> server_hashes = play_recorded_match(folder.path());
  const auto files = replays_in(folder.path());
  ASSERT_EQ(files.size(), 1u);  // no ".part" left behind
  EXPECT_TRUE(is_replay_file_name(files[0].filename().string())) << files[0];
  ASSERT_EQ(server_hashes.size(), 120u);  // two seconds at 60 Hz, played to the end

  auto replay = MatchReplay::open(read_file(files[0]));
  ASSERT_TRUE(replay.ok()) << replay.error();
  EXPECT_EQ(replay->info().match_id, 7u);
  std::size_t tick = 0;
  for (MatchReplay::Step step = replay->step(); step != MatchReplay::Step::end;
       step = replay->step()) {
    ASSERT_EQ(step, MatchReplay::Step::stepped) << "at tick " << tick + 1;
    ASSERT_LT(tick, server_hashes.size());
    ASSERT_EQ(replay->state_hash(), server_hashes[tick]) << "at tick " << tick + 1;
    ++tick;
  }
  EXPECT_EQ(tick, server_hashes.size());
  EXPECT_TRUE(replay->world().match_over());

  // Seeking back re-simulates to the same state.
  ASSERT_EQ(replay->seek(60), MatchReplay::Step::stepped);
  EXPECT_EQ(replay->world().tick(), 60u);
  EXPECT_EQ(replay->state_hash(), server_hashes[59]);

  // The same file cut short, or with one byte changed, is refused, saying why.
  const auto bytes = read_file(files[0]);
  auto cut = MatchReplay::open({bytes.begin(), bytes.begin() + long(bytes.size() / 2)});
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().find("truncated"), std::string::npos) << cut.error();
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= std::byte{0x40};
  auto corrupt = MatchReplay::open(flipped);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().find("corrupt"), std::string::npos) << corrupt.error();
}

TEST(MatchReplay, the_replay_folder_keeps_the_newest_replays_only) {
  TempDirectory folder{"tickwire-arena-test"};
  // A file that is not a replay is never pruned.
  std::ofstream(folder.path() / "notes.txt") << "keep me";
  {
    auto recorder = MatchRecorder::make({.directory = folder.path().string(), .keep_newest = 2});
    ASSERT_TRUE(recorder.ok()) << recorder.error();
    Config rules;
    rules.drones = 2;
    for (std::uint64_t match = 1; match <= 4; ++match) {
      World world(rules);
      recorder.value()->match_began(match, rules);
      world.step({});
      recorder.value()->ticked(match, {}, world);
      recorder.value()->match_closed(match);
      // Names order replays by the millisecond their match began.
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    EXPECT_EQ(recorder.value()->stats().replays_written, 4u);
    EXPECT_EQ(recorder.value()->stats().replays_pruned, 2u);
  }
  const auto files = replays_in(folder.path());
  ASSERT_EQ(files.size(), 3u);
  std::vector<std::uint64_t> kept;
  for (const auto& file : files) {
    if (file.filename() == "notes.txt") continue;
    auto replay = MatchReplay::open(read_file(file));
    ASSERT_TRUE(replay.ok()) << replay.error();
    kept.push_back(replay->info().match_id);
  }
  EXPECT_EQ(kept, (std::vector<std::uint64_t>{3, 4}));
}

// The recorder's writer thread meets the full disk; the tick's thread must give that recording up
// (nothing half-written left behind, counted) while the match goes on, and record the next one.
TEST(MatchReplay, a_full_disk_ends_that_matchs_recording_and_the_next_match_is_recorded) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: mounts a small tmpfs in its own namespace";
  // A mount namespace of this test process's own, so that the tmpfs is nobody else's business.
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
      << std::strerror(errno);
  TempDirectory folder{"tickwire-arena-test"};
  ASSERT_EQ(::mount("tickwire-test", folder.path().c_str(), "tmpfs", 0, "size=64k"), 0)
      << std::strerror(errno);
  {
    auto made = MatchRecorder::make(
        {.directory = folder.path().string(), .keep_newest = 0, .ticks_per_chunk = 16});
    ASSERT_TRUE(made.ok()) << made.error();
    MatchRecorder& recorder = *made.value();
    Config rules;
    rules.drones = 2;
    // 32 players whose inputs change every tick: about 64 KiB within 300 ticks.
    World full(rules);
    recorder.match_began(1, rules);
    std::map<PlayerId, PlayerInput> inputs;
    for (PlayerId p = 1; p <= 32; ++p) {
      full.add_player(p);
      recorder.player_joined(1, p);
    }
    for (std::uint64_t tick = 1; tick <= 1000; ++tick) {
      for (PlayerId p = 1; p <= 32; ++p)
        inputs[p] = {.aim = static_cast<float>((tick + p) % 63) * 0.1F,
                     .view_tick = static_cast<double>(tick)};
      full.step(inputs);
      recorder.ticked(1, inputs, full);
    }
    recorder.match_closed(1);
    EXPECT_EQ(recorder.stats().write_errors, 1u);
    EXPECT_EQ(recorder.stats().replays_written, 0u);
    EXPECT_TRUE(replays_in(folder.path()).empty()) << "a partial recording was left behind";

    World next(rules);
    recorder.match_began(2, rules);
    next.step({});
    recorder.ticked(2, {}, next);
    recorder.match_closed(2);
    EXPECT_EQ(recorder.stats().write_errors, 1u);
    EXPECT_EQ(recorder.stats().replays_written, 1u);
    const auto files = replays_in(folder.path());
    ASSERT_EQ(files.size(), 1u);
    auto replay = MatchReplay::open(read_file(files[0]));
    ASSERT_TRUE(replay.ok()) << replay.error();
    EXPECT_EQ(replay->info().match_id, 2u);
  }
  EXPECT_EQ(::umount2(folder.path().c_str(), MNT_DETACH), 0) << std::strerror(errno);
}

// The tick's thread hands its ticks to the writer in batches of about 32 KiB, whatever the
// chunks: with 64 players whose inputs change every tick, a 256-tick chunk (about 110 KB) is
// made from ticks that came in several batches, and one batch holds the end of a chunk and the
// start of the next. The replay still plays every tick back to the state the match had.
TEST(MatchReplay, a_busy_match_handed_over_in_many_batches_replays_tick_for_tick) {
  const TempDirectory folder("tickwire-batches-test");
  constexpr PlayerId kPlayers = 64;
  constexpr std::uint64_t kTicks = 800;
  std::vector<std::uint64_t> hashes;
  {
    auto made = MatchRecorder::make(
        {.directory = folder.path().string(), .keep_newest = 0, .hash_every_ticks = 1});
    ASSERT_TRUE(made.ok()) << made.error();
    MatchRecorder& recorder = *made.value();
    Config rules;
    rules.drones = 4;
    World world(rules);
    recorder.match_began(1, rules);
    for (PlayerId p = 1; p <= kPlayers; ++p) {
      world.add_player(p);
      recorder.player_joined(1, p);
    }
    std::map<PlayerId, PlayerInput> inputs;
    for (std::uint64_t tick = 1; tick <= kTicks; ++tick) {
      for (PlayerId p = 1; p <= kPlayers; ++p) {
        inputs[p] = {.move_x = static_cast<std::int8_t>((tick / 30 + p) % 3 - 1),
                     .aim = static_cast<float>((tick + p) % 63) * 0.1F,
                     .fire = (tick + p) % 9 == 0,
                     .view_tick = static_cast<double>(tick)};
      }
      world.step(inputs);
      recorder.ticked(1, inputs, world);
      hashes.push_back(world.state().hash());
    }
    recorder.match_closed(1);
    EXPECT_EQ(recorder.stats().write_errors, 0u);
    EXPECT_EQ(recorder.stats().replays_written, 1u);
  }
  const auto files = replays_in(folder.path());
  ASSERT_EQ(files.size(), 1u);
  const auto bytes = read_file(files[0]);
  // Three whole chunks and a part: more than two batches' worth a chunk on average.
  EXPECT_GT(bytes.size(), 3u * 2u * 32u * 1024u) << "the match did not fill the batches";
  auto replay = MatchReplay::open(bytes);
  ASSERT_TRUE(replay.ok()) << replay.error();
  for (std::uint64_t tick = 1; tick <= kTicks; ++tick) {
    ASSERT_EQ(replay->step(), MatchReplay::Step::stepped) << "tick " << tick;
    ASSERT_EQ(replay->state_hash(), hashes[tick - 1]) << "tick " << tick;
  }
  EXPECT_EQ(replay->step(), MatchReplay::Step::end);
}

TEST(MatchReplay, a_recording_config_names_its_bad_field) {
  const auto status = RecordingConfig{.directory = ""}.validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("recording.directory"), std::string::npos) << status.message();
  const auto made = MatchRecorder::make({.directory = "/dev/null/replays"});
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("/dev/null/replays"), std::string::npos) << made.error();
}

}  // namespace
}  // namespace arena
