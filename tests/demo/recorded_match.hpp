#pragma once
// A 20 s Arena match recorded the way the server records one (MatchRecorder, a state hash every
// tick), and the world after every tick as it played straight: the oracle of the replay
// playback and seek tests.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <tickwire/sim/world_state.hpp>

#include "../support/temp_directory.hpp"
#include "arena_replay.hpp"
#include "match_recorder.hpp"

namespace arena::test {

namespace fs = std::filesystem;

inline constexpr std::uint64_t kMatchId = 3;
inline constexpr std::uint32_t kMatchTicks = 60 * 20;

inline Config match_rules() {
  Config rules;
  rules.drones = 6;
  rules.match_ticks = kMatchTicks;
  rules.tick_rate_hz = 60;
  return rules;
}

// What each player does at `tick`: something that changes often, so that a seek that lands
// with the wrong inputs shows in the state. Through the wire encoding, as the server gets it.
inline PlayerInput input_of(PlayerId player, std::uint64_t tick) {
  const auto phase = static_cast<int>((tick / 20 + player) % 3);
  const PlayerInput sent{.move_x = static_cast<std::int8_t>(phase - 1),
                         .move_y = static_cast<std::int8_t>(player % 2 == 0 ? 1 : -1),
                         .aim = static_cast<float>(tick % 63) * 0.1F,
                         .fire = tick % 11 == player,
                         .view_tick = static_cast<double>(tick)};
  return decode_input(encode_input(sent, tick), tick).value();
}

// A match recorded into a replay file, and the world after every tick as it played straight.
struct RecordedMatch {
  std::vector<std::byte> file;
  std::vector<tickwire::sim::WorldState> states;  // [t]: after tick t; [0] before the first
};

inline std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(chars.data());
  return {data, data + chars.size()};
}

// Players 1 and 2 play from the start, 3 joins at 6 s, and 1 leaves at 15 s: seeks across both
// must replay the joins and leaves too.
inline RecordedMatch record_match() {
  const tickwire::test::TempDirectory folder("tickwire-playback-test");
  RecordedMatch out;
  {
    auto made = MatchRecorder::make(
        {.directory = folder.string(), .keep_newest = 0, .hash_every_ticks = 1});
    EXPECT_TRUE(made.ok()) << made.error();
    if (!made.ok()) return out;
    MatchRecorder& recorder = *made.value();
    const Config rules = match_rules();
    World world(rules);
    recorder.match_began(kMatchId, rules);
    std::vector<PlayerId> players;
    const auto join = [&](PlayerId p) {
      world.add_player(p);
      recorder.player_joined(kMatchId, p);
      players.push_back(p);
    };
    // Tick 0 is the world before the first tick: the first players join with tick 1's record.
    out.states.push_back(world.state());
    join(1);
    join(2);
    while (!world.match_over()) {
      const std::uint64_t tick = world.tick() + 1;
      if (tick == 6 * 60) join(3);
      if (tick == 15 * 60) {
        world.remove_player(1);
        recorder.player_left(kMatchId, 1);
        std::erase(players, PlayerId{1});
      }
      std::map<PlayerId, PlayerInput> inputs;
      for (const PlayerId p : players) {
        // Player 2's inputs stop coming for 100 ticks in every 300 (a lagging client): the
        // recording carries that over from tick to tick, so a seek that lands with another
        // tick's inputs shows.
        if (p == 2 && tick / 100 % 3 == 1) continue;
        inputs[p] = input_of(p, tick);
      }
      world.step(inputs);
      recorder.ticked(kMatchId, inputs, world);
      out.states.push_back(world.state());
    }
    recorder.match_closed(kMatchId);
    EXPECT_EQ(recorder.stats().replays_written, 1u);
  }
  for (const auto& entry : fs::directory_iterator(folder.path()))
    out.file = read_file(entry.path());
  return out;
}

}  // namespace arena::test
