// Arena's replay records (arena_replay.fbs) and their playback through the rules.

#include "arena_replay.hpp"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include <tickwire/schemas/aligned_view.hpp>

#include "arena_replay_generated.h"

namespace arena {
namespace {

namespace fb = arena::replay;
namespace sim = tickwire::sim;

std::vector<std::byte> bytes_of(const flatbuffers::FlatBufferBuilder& fbb) {
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return {data, data + fbb.GetSize()};
}

// A replay's rules come from a file: keep them where the World is safe to run (a drone count in
// the millions or a NaN arena would hang or poison the playback).
bool rules_are_sane(const Config& c) {
  const auto finite_positive = [](double v) { return std::isfinite(v) && v > 0 && v < 1e6; };
  return finite_positive(c.half_size) && finite_positive(c.player_speed) &&
         finite_positive(c.player_radius) && finite_positive(c.drone_speed) &&
         finite_positive(c.drone_radius) && finite_positive(c.weapon_range) && c.drones >= 0 &&
         c.drones <= 10'000 && c.damage >= 0 && c.damage <= 1000 && c.tick_rate_hz >= 1 &&
         c.tick_rate_hz <= 1000;
}

bool same_input(const PlayerInput& a, const PlayerInput& b) {
  return a.move_x == b.move_x && a.move_y == b.move_y && a.aim == b.aim && a.fire == b.fire &&
         a.view_tick == b.view_tick;
}

}  // namespace

void diff_inputs(const TickInputs& previous, const std::map<PlayerId, PlayerInput>& current,
                 ReplayStep& step) {
  step.changed_inputs.clear();
  step.stopped.clear();
  // Both are sorted by player: one merge pass.
  auto before = previous.begin();
  for (const auto& [player, input] : current) {
    while (before != previous.end() && before->first < player) {
      step.stopped.push_back((before++)->first);
    }
    if (before != previous.end() && before->first == player) {
      if (!same_input(before->second, input)) step.changed_inputs.emplace_back(player, input);
      ++before;
    } else {
      step.changed_inputs.emplace_back(player, input);
    }
  }
  for (; before != previous.end(); ++before)
    step.stopped.push_back(before->first);
}

void apply_inputs(const ReplayStep& step, std::map<PlayerId, PlayerInput>& inputs) {
  for (const PlayerId player : step.stopped)
    inputs.erase(player);
  for (const auto& [player, input] : step.changed_inputs)
    inputs[player] = input;
}

std::vector<std::byte> encode_replay_rules(const Config& c) {
  flatbuffers::FlatBufferBuilder fbb(160);
  fbb.Finish(fb::CreateRules(fbb, c.half_size, c.player_speed, c.player_radius, c.drone_speed,
                             c.drone_radius, c.drones, c.weapon_range, c.damage,
                             c.fire_cooldown_ticks, c.respawn_ticks, c.match_ticks, c.tick_rate_hz,
                             c.seed));
  return bytes_of(fbb);
}

std::optional<Config> decode_replay_rules(std::span<const std::byte> bytes) {
  constexpr std::size_t kMaxRulesBytes = 1024;
  if (bytes.size() > kMaxRulesBytes) return std::nullopt;
  const tickwire::schemas::AlignedView view(bytes);
  flatbuffers::Verifier verifier(view.data(), view.size(), 2, 2);
  if (!verifier.VerifyBuffer<fb::Rules>(nullptr)) return std::nullopt;
  const auto* r = flatbuffers::GetRoot<fb::Rules>(view.data());
  Config c;
  c.half_size = r->half_size();
  c.player_speed = r->player_speed();
  c.player_radius = r->player_radius();
  c.drone_speed = r->drone_speed();
  c.drone_radius = r->drone_radius();
  c.drones = r->drones();
  c.weapon_range = r->weapon_range();
  c.damage = r->damage();
  c.fire_cooldown_ticks = r->fire_cooldown_ticks();
  c.respawn_ticks = r->respawn_ticks();
  c.match_ticks = r->match_ticks();
  c.tick_rate_hz = r->tick_rate_hz();
  c.seed = r->seed();
  if (!rules_are_sane(c)) return std::nullopt;
  return c;
}

std::span<const std::byte> encode_replay_step(const ReplayStep& step,
                                              flatbuffers::FlatBufferBuilder& fbb) {
  fbb.Clear();
  flatbuffers::Offset<flatbuffers::Vector<const fb::Membership*>> membership;
  if (!step.membership.empty()) {
    fb::Membership* out = nullptr;
    membership = fbb.CreateUninitializedVectorOfStructs(step.membership.size(), &out);
    for (const auto& m : step.membership)
      *out++ = fb::Membership(m.player, m.joined);
  }
  flatbuffers::Offset<flatbuffers::Vector<const fb::TickInput*>> inputs;
  if (!step.changed_inputs.empty()) {
    fb::TickInput* out = nullptr;
    inputs = fbb.CreateUninitializedVectorOfStructs(step.changed_inputs.size(), &out);
    for (const auto& [player, input] : step.changed_inputs) {
      *out++ =
          fb::TickInput(player, input.move_x, input.move_y, input.fire, input.aim, input.view_tick);
    }
  }
  const auto stopped = step.stopped.empty() ? 0 : fbb.CreateVector(step.stopped).o;
  fbb.Finish(fb::CreateStep(fbb, membership, inputs, stopped));
  return {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

std::vector<std::byte> encode_replay_step(const ReplayStep& step) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const auto bytes = encode_replay_step(step, fbb);
  return {bytes.begin(), bytes.end()};
}

std::optional<ReplayStep> decode_replay_step(std::span<const std::byte> bytes) {
  // Room for every player a server admits (a few thousand) and their joins and leaves.
  constexpr std::size_t kMaxStepBytes = 1 << 20;
  if (bytes.size() > kMaxStepBytes) return std::nullopt;
  const tickwire::schemas::AlignedView view(bytes);
  flatbuffers::Verifier verifier(view.data(), view.size(), 2, 2);
  if (!fb::VerifyStepBuffer(verifier)) return std::nullopt;
  const auto* step = fb::GetStep(view.data());
  ReplayStep out;
  if (const auto* membership = step->membership()) {
    for (const fb::Membership* m : *membership)
      out.membership.push_back({m->player(), m->joined()});
  }
  if (const auto* inputs = step->inputs()) {
    // The verifier does not check that 8-byte structs are 8-byte aligned: a crafted file could
    // put them off, and reading through a misaligned struct is undefined.
    if (reinterpret_cast<std::uintptr_t>(inputs->Data()) % alignof(fb::TickInput) != 0) {
      return std::nullopt;
    }
    for (const fb::TickInput* i : *inputs) {
      if (i->player() >= World::kFirstDrone) return std::nullopt;
      // The same clamps as inputs from the network: a file is no more trusted than a player.
      PlayerInput input;
      input.move_x = static_cast<std::int8_t>(std::clamp<int>(i->move_x(), -1, 1));
      input.move_y = static_cast<std::int8_t>(std::clamp<int>(i->move_y(), -1, 1));
      input.aim = std::isfinite(i->aim()) ? i->aim() : 0.0f;
      input.fire = i->fire();
      input.view_tick = std::isfinite(i->view_tick()) ? i->view_tick() : 0.0;
      // Increasing player ids, as the recorder writes them; anything else is not its file.
      if (!out.changed_inputs.empty() && out.changed_inputs.back().first >= i->player())
        return std::nullopt;
      out.changed_inputs.emplace_back(i->player(), input);
    }
  }
  if (const auto* stopped = step->stopped()) out.stopped.assign(stopped->begin(), stopped->end());
  return out;
}

tickwire::Result<MatchReplay> MatchReplay::open_file(const std::string& path,
                                                     const sim::ReplayKeyframesConfig& keyframes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tickwire::Status::error("cannot open " + path);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  if (in.bad()) return tickwire::Status::error("cannot read " + path);
  const auto* data = reinterpret_cast<const std::byte*>(chars.data());
  return open({data, data + chars.size()}, keyframes);
}

tickwire::Result<MatchReplay> MatchReplay::open(std::vector<std::byte> file,
                                                const sim::ReplayKeyframesConfig& keyframes) {
  if (auto status = keyframes.validate(); !status.ok()) return status;
  auto reader = sim::ReplayReader::open(std::move(file));
  if (!reader) return tickwire::Status::error(reader.error());
  const sim::ReplayInfo& info = reader->info();
  if (info.game != kReplayGame) {
    return tickwire::Status::error("not an Arena replay: it was recorded by \"" + info.game + "\"");
  }
  if (info.game_version != kReplayRulesVersion) {
    return tickwire::Status::error(
        "Arena replay of rules version " + std::to_string(info.game_version) +
        ", this build plays version " + std::to_string(kReplayRulesVersion));
  }
  auto rules = decode_replay_rules(info.initial_state);
  if (!rules) return tickwire::Status::error("Arena replay is corrupt: its rules do not decode");
  return MatchReplay(std::move(reader.value()), *rules, keyframes);
}

MatchReplay::MatchReplay(sim::ReplayReader reader, Config rules,
                         const sim::ReplayKeyframesConfig& keyframes)
    : reader_(std::move(reader)), rules_(rules), world_(rules), keyframes_(keyframes) {}

MatchReplay::Step MatchReplay::step() {
  const auto tick = reader_.next();
  if (!tick) return Step::end;
  const auto recorded = decode_replay_step(tick->data);
  if (!recorded) return Step::bad_data;
  for (const auto& m : recorded->membership) {
    if (m.player >= World::kFirstDrone) return Step::bad_data;
    if (m.joined) {
      world_.add_player(m.player);
    } else {
      world_.remove_player(m.player);
    }
  }
  apply_inputs(*recorded, inputs_);
  world_.step(inputs_);
  ++ticks_simulated_;
  if (world_.tick() != tick->tick) return Step::diverged;  // a tick missing from the recording
  state_hash_ = world_.state().hash();
  if (tick->state_hash != 0 && tick->state_hash != state_hash_) return Step::diverged;
  // Only a tick that reproduced the recording (as far as its hash says) becomes a keyframe.
  if (keyframes_.due(world_.tick()))
    keyframes_.keep(world_.tick(), Resumable{world_, inputs_, state_hash_});
  return Step::stepped;
}

void MatchReplay::resume_from(std::uint64_t tick, const Resumable& keyframe) {
  world_ = keyframe.world;
  inputs_ = keyframe.inputs;
  state_hash_ = keyframe.state_hash;
  (void)reader_.seek(static_cast<std::uint32_t>(tick + 1));
}

MatchReplay::Step MatchReplay::seek(std::uint64_t tick) {
  const auto* keyframe = keyframes_.at_or_before(tick);
  const bool backwards = tick < world_.tick();
  if (keyframe != nullptr && (backwards || keyframe->first > world_.tick())) {
    resume_from(keyframe->first, keyframe->second);
  } else if (backwards) {
    world_ = World(rules_);
    inputs_.clear();
    state_hash_ = 0;
    (void)reader_.seek(0);
  }
  // The reader's cursor is on the tick after the world's.
  Step last = Step::stepped;
  while (world_.tick() < tick) {
    last = step();
    if (last != Step::stepped) break;
  }
  return last;
}

}  // namespace arena
