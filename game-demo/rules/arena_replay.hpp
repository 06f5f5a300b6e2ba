#pragma once
// Arena's replays: what the server records each tick (tickwire::sim::ReplayRecorder carries it)
// and the re-simulation that plays a recording back through the same rules. The World is
// deterministic, so the players' joins, leaves and inputs, with the rules and their seed, give
// back every tick's state; each tick's recorded state hash proves it (docs/replay.md).

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include <tickwire/sim/replay.hpp>

#include "arena_rules.hpp"

namespace arena {

// The game and rules version in every Arena replay's header. Raise the version whenever a
// change to the rules makes the same inputs give another match: old replays are then refused
// instead of playing back wrong.
inline constexpr char kReplayGame[] = "arena";
inline constexpr std::uint32_t kReplayRulesVersion = 1;

std::vector<std::byte> encode_replay_rules(const Config& rules);
std::optional<Config> decode_replay_rules(std::span<const std::byte> bytes);

// What changed the World in one tick, in the order it happened.
struct ReplayStep {
  struct Membership {
    PlayerId player;
    bool joined;  // false: left
  };
  std::vector<Membership> membership;  // before the tick's step
  // New or different from the tick before, by increasing player id. A vector, not a map: the
  // server fills one every tick, reusing its memory.
  std::vector<std::pair<PlayerId, PlayerInput>> changed_inputs;
  std::vector<PlayerId> stopped;  // no input from this tick on
};

// The inputs of one tick by increasing player id (a World::step's map, flattened).
using TickInputs = std::vector<std::pair<PlayerId, PlayerInput>>;
// The step that turns the inputs of the tick before, `previous`, into `current`.
void diff_inputs(const TickInputs& previous, const std::map<PlayerId, PlayerInput>& current,
                 ReplayStep& step);
// Applies a step's input changes to `inputs` (the tick before's): they become this tick's.
void apply_inputs(const ReplayStep& step, std::map<PlayerId, PlayerInput>& inputs);

// Into `fbb` (cleared first, so that a recorder reuses one builder's memory every tick); the
// bytes stay valid until its next use.
std::span<const std::byte> encode_replay_step(const ReplayStep& step,
                                              flatbuffers::FlatBufferBuilder& fbb);
std::vector<std::byte> encode_replay_step(const ReplayStep& step);
// Nothing for bytes that are not a Step (a replay is a file from anywhere).
std::optional<ReplayStep> decode_replay_step(std::span<const std::byte> bytes);

// Plays a recorded match back through the rules, tick by tick, and checks each tick's state
// against the hash the server recorded.
class MatchReplay {
 public:
  // Checks the file (tickwire::sim::ReplayReader) and that it is an Arena replay of these rules.
  static tickwire::Result<MatchReplay> open(std::vector<std::byte> file);
  // The same for the file at `path`; an unreadable file is refused saying so.
  static tickwire::Result<MatchReplay> open_file(const std::string& path);

  enum class Step {
    stepped,   // the world moved one recorded tick on, to the state the server had
    end,       // no more ticks
    bad_data,  // the tick's data is not an Arena step: the file is not from an Arena server
    diverged,  // the state differs from the recorded hash: other rules or a broken build
  };
  Step step();
  // Starts over and steps up to `tick` (re-simulation: the World has no keyframes). Returns the
  // last step's outcome.
  Step seek(std::uint64_t tick);

  const World& world() const { return world_; }
  const tickwire::sim::ReplayInfo& info() const { return reader_.info(); }
  std::uint32_t last_tick() const { return reader_.last_tick(); }
  // Salvaged from a recording its server did not finish: the match went on past last_tick().
  bool cut_short() const { return reader_.cut_short(); }
  // The state hash of the last tick stepped, as replayed.
  std::uint64_t state_hash() const { return state_hash_; }

 private:
  MatchReplay(tickwire::sim::ReplayReader reader, Config rules);
  tickwire::sim::ReplayReader reader_;
  Config rules_;
  World world_;
  std::map<PlayerId, PlayerInput> inputs_;  // of the last tick stepped
  std::uint64_t state_hash_ = 0;
};

}  // namespace arena
