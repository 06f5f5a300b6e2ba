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
#include <tickwire/sim/replay_keyframes.hpp>

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
// against the hash the server recorded. Keeps keyframes (copies of the World) as it passes them,
// so that a seek re-simulates from the nearest one rather than from the first tick.
class MatchReplay {
 public:
  // Checks the file (tickwire::sim::ReplayReader) and that it is an Arena replay of these rules,
  // and `keyframes` (validate(), naming the field).
  static tickwire::Result<MatchReplay> open(
      std::vector<std::byte> file, const tickwire::sim::ReplayKeyframesConfig& keyframes = {});
  // The same for the file at `path`; an unreadable file is refused saying so.
  static tickwire::Result<MatchReplay> open_file(
      const std::string& path, const tickwire::sim::ReplayKeyframesConfig& keyframes = {});

  enum class Step {
    stepped,   // the world moved one recorded tick on, to the state the server had
    end,       // no more ticks
    bad_data,  // the tick's data is not an Arena step: the file is not from an Arena server
    diverged,  // the state differs from the recorded hash: other rules or a broken build
  };
  Step step();
  // Goes to `tick` (the last tick at most): from the nearest keyframe at or before it, or from
  // where the world stands when that is nearer (forwards), or from the start when neither is;
  // then steps up to it. The world is the same as stepping there from the start, since a
  // keyframe is a copy of it taken on the way. Returns the last step's outcome.
  Step seek(std::uint64_t tick);

  const World& world() const { return world_; }
  const tickwire::sim::ReplayInfo& info() const { return reader_.info(); }
  std::uint32_t last_tick() const { return reader_.last_tick(); }
  // Salvaged from a recording its server did not finish: the match went on past last_tick().
  bool cut_short() const { return reader_.cut_short(); }
  // The state hash of the last tick stepped, as replayed.
  std::uint64_t state_hash() const { return state_hash_; }
  // How many keyframes are kept, and the ticks between them now (the most a seek re-simulates).
  std::size_t keyframe_count() const { return keyframes_.size(); }
  std::uint64_t keyframe_interval_ticks() const { return keyframes_.interval_ticks(); }
  // Ticks simulated since open(), seeks included: what playing and seeking have cost.
  std::uint64_t ticks_simulated() const { return ticks_simulated_; }

 private:
  // Everything a tick's step carries on from the tick before: a keyframe restores all of it.
  struct Resumable {
    World world;
    std::map<PlayerId, PlayerInput> inputs;
    std::uint64_t state_hash = 0;
  };
  MatchReplay(tickwire::sim::ReplayReader reader, Config rules,
              const tickwire::sim::ReplayKeyframesConfig& keyframes);
  // Puts the world back to the keyframe taken after `tick`, and the reader on the tick after.
  void resume_from(std::uint64_t tick, const Resumable& keyframe);
  tickwire::sim::ReplayReader reader_;
  Config rules_;
  World world_;
  std::map<PlayerId, PlayerInput> inputs_;  // of the last tick stepped
  std::uint64_t state_hash_ = 0;
  std::uint64_t ticks_simulated_ = 0;
  tickwire::sim::ReplayKeyframes<Resumable> keyframes_;
};

}  // namespace arena
