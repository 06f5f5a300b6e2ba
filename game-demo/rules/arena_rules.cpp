#include "arena_rules.hpp"

#include <array>

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

namespace arena {

std::span<const std::byte> binary_schema();  // embedded arena.bfbs

const tickwire::sim::EntitySchema& schema() {
  static const tickwire::sim::EntitySchema kSchema =
      tickwire::sim::EntitySchema::from_flatbuffers(binary_schema());
  return kSchema;
}

// Types are numbered in the schema's own order; look them up by name.
tickwire::sim::TypeId player_type() {
  static const tickwire::sim::TypeId kId = schema().find_type("arena.Player").value();
  return kId;
}

tickwire::sim::TypeId drone_type() {
  static const tickwire::sim::TypeId kId = schema().find_type("arena.Drone").value();
  return kId;
}

namespace {
std::size_t field_of(tickwire::sim::TypeId type, std::string_view name) {
  return schema().find_field(type, name).value();
}
}  // namespace

const PlayerFields& player_fields() {
  const auto t = player_type();
  static const PlayerFields kFields{
      field_of(t, "x"),   field_of(t, "y"),      field_of(t, "vx"),    field_of(t, "vy"),
      field_of(t, "aim"), field_of(t, "health"), field_of(t, "score"), field_of(t, "alive")};
  return kFields;
}

const DroneFields& drone_fields() {
  const auto t = drone_type();
  static const DroneFields kFields{field_of(t, "x"), field_of(t, "y"), field_of(t, "vx"),
                                   field_of(t, "vy")};
  return kFields;
}

namespace {
// Every Config a World gets has a tick rate of 1..1000 (ArenaServer::start and replay decoding
// check it), which HitHistory takes: a refusal is a bug in the caller, said as it is.
tickwire::sim::HitHistory hit_history_for(const Config& config) {
  auto history = tickwire::sim::HitHistory::create({.tick_rate_hz = config.tick_rate_hz});
  if (!history) throw std::invalid_argument("arena rules: " + history.error());
  return std::move(history.value());
}
}  // namespace

World::World(Config config)
    : config_(config), random_(config.seed), history_(hit_history_for(config)) {
  std::uniform_real_distribution<double> place(-config_.half_size, config_.half_size);
  std::uniform_real_distribution<double> turn(-3.14159, 3.14159);
  for (int i = 0; i < config_.drones; ++i) {
    const double heading = turn(random_);
    drones_.push_back({place(random_), place(random_), std::cos(heading) * config_.drone_speed,
                       std::sin(heading) * config_.drone_speed});
  }
}

std::pair<double, double> World::spawn_point() {
  std::uniform_real_distribution<double> place(-config_.half_size * 0.8, config_.half_size * 0.8);
  const double x = place(random_);
  return {x, place(random_)};
}

void World::add_player(PlayerId id) {
  // Drone ids start there: a player above would break the state's id order (state()).
  if (id >= kFirstDrone) {
    throw std::invalid_argument("arena rules: player id " + std::to_string(id) + " is not below " +
                                std::to_string(kFirstDrone));
  }
  PlayerState player;
  std::tie(player.x, player.y) = spawn_point();
  players_.try_emplace(id, player);
}

void World::remove_player(PlayerId id) {
  players_.erase(id);
}

void World::set_position(PlayerId id, double x, double y) {
  const auto it = players_.find(id);
  if (it == players_.end()) return;
  const double limit = config_.half_size - config_.player_radius;
  it->second.x = std::clamp(x, -limit, limit);
  it->second.y = std::clamp(y, -limit, limit);
}

const PlayerState* World::player(PlayerId id) const {
  const auto it = players_.find(id);
  return it == players_.end() ? nullptr : &it->second;
}

void World::move_player(const Config& config, PlayerState& player, const PlayerInput& input) {
  // Diagonal movement is normalised: the speed limit holds in every direction.
  double dx = input.move_x, dy = input.move_y;
  const double length = std::hypot(dx, dy);
  if (length > 0) {
    dx /= length;
    dy /= length;
  }
  player.vx = dx * config.player_speed;
  player.vy = dy * config.player_speed;
  const double limit = config.half_size - config.player_radius;
  player.x = std::clamp(player.x + player.vx / config.tick_rate_hz, -limit, limit);
  player.y = std::clamp(player.y + player.vy / config.tick_rate_hz, -limit, limit);
  player.aim = input.aim;
}

void World::move_drones() {
  std::uniform_real_distribution<double> wobble(-0.3, 0.3);
  const double limit = config_.half_size - config_.drone_radius;
  for (Drone& d : drones_) {
    // Wander: turn a little now and then, bounce off the walls.
    if (random_() % 30 == 0) {
      const double heading = std::atan2(d.vy, d.vx) + wobble(random_);
      d.vx = std::cos(heading) * config_.drone_speed;
      d.vy = std::sin(heading) * config_.drone_speed;
    }
    d.x += d.vx / config_.tick_rate_hz;
    d.y += d.vy / config_.tick_rate_hz;
    if (std::abs(d.x) > limit) d.vx = -d.vx, d.x = std::clamp(d.x, -limit, limit);
    if (std::abs(d.y) > limit) d.vy = -d.vy, d.y = std::clamp(d.y, -limit, limit);
  }
}

void World::fire(PlayerId id, PlayerState& shooter, const PlayerInput& input) {
  shooter.cooldown = config_.fire_cooldown_ticks;
  const auto hit =
      history_.raycast(input.view_tick, tick_, shooter.x, shooter.y, std::cos(input.aim),
                       std::sin(input.aim), config_.weapon_range, id);
  if (!hit) return;
  hits_.push_back({id, hit->id});
  if (hit->id >= kFirstDrone) {
    shooter.score = std::min(shooter.score + 1, 999);
    return;
  }
  const auto target = players_.find(static_cast<PlayerId>(hit->id));
  if (target == players_.end() || !target->second.alive) return;
  target->second.health -= config_.damage;
  if (target->second.health <= 0) {
    target->second.alive = false;
    target->second.health = 0;
    target->second.respawn = config_.respawn_ticks;
    shooter.score = std::min(shooter.score + 5, 999);
  }
}

namespace {

// The input of each player in turn: players and inputs are both in id order, so one walk pairs
// them (a lookup per player costs a walk down the inputs' tree, cold by the next tick).
class InputsInOrder {
 public:
  explicit InputsInOrder(const std::map<PlayerId, PlayerInput>& inputs)
      : next_(inputs.begin()), end_(inputs.end()) {}
  // The input of `id`, which is above the id asked before; nullptr for none.
  const PlayerInput* of(PlayerId id) {
    while (next_ != end_ && next_->first < id)
      ++next_;
    return next_ != end_ && next_->first == id ? &next_->second : nullptr;
  }

 private:
  std::map<PlayerId, PlayerInput>::const_iterator next_, end_;
};

}  // namespace

void World::step(const std::map<PlayerId, PlayerInput>& inputs) {
  ++tick_;
  hits_.clear();
  move_drones();
  InputsInOrder moves(inputs);
  for (auto& [id, player] : players_) {
    if (!player.alive) {
      if (--player.respawn == 0) {
        player.alive = true;
        player.health = 100;
        std::tie(player.x, player.y) = spawn_point();
      }
      continue;
    }
    const PlayerInput* input = moves.of(id);
    move_player(config_, player, input != nullptr ? *input : PlayerInput{});
    if (player.cooldown > 0) --player.cooldown;
  }
  // Shots are tested against where everything was when each shooter saw it (history of
  // earlier ticks), so record this tick's volumes after resolving them.
  InputsInOrder shots(inputs);
  for (auto& [id, player] : players_) {
    const PlayerInput* input = shots.of(id);
    if (player.alive && player.cooldown == 0 && input != nullptr && input->fire) {
      fire(id, player, *input);
    }
  }
  std::vector<tickwire::sim::HitCircle> volumes = history_.recycled();
  volumes.reserve(players_.size() + drones_.size());
  for (const auto& [id, player] : players_) {
    if (player.alive) volumes.push_back({id, player.x, player.y, config_.player_radius});
  }
  for (std::size_t i = 0; i < drones_.size(); ++i) {
    volumes.push_back({kFirstDrone + static_cast<tickwire::sim::EntityId>(i), drones_[i].x,
                       drones_[i].y, config_.drone_radius});
  }
  history_.record(tick_, std::move(volumes));
}

tickwire::sim::WorldState World::state(tickwire::sim::WorldState recycled) const {
  // Players (ids below kFirstDrone, in the map's order), then drones: already in id order, so
  // the state is assembled in place, into `recycled`'s buffers, without the Builder's sort.
  tickwire::sim::WorldStateAssembler assembler(std::move(recycled));
  const std::size_t player_field_count = schema().field_count(player_type());
  const std::size_t drone_field_count = schema().field_count(drone_type());
  assembler.reserve(players_.size() + drones_.size(),
                    players_.size() * player_field_count + drones_.size() * drone_field_count);
  // Values in the schema's field order, placed by name.
  std::array<double, tickwire::sim::EntitySchema::kMaxFields> values{};
  std::array<std::uint32_t, tickwire::sim::EntitySchema::kMaxFields> quantized{};
  const auto append = [&](tickwire::sim::EntityId id, tickwire::sim::TypeId type,
                          std::size_t field_count) {
    schema().quantize(type, std::span(values.data(), field_count),
                      std::span(quantized.data(), field_count));
    assembler.append(id, type, std::span(quantized.data(), field_count));
  };
  const PlayerFields& pf = player_fields();
  for (const auto& [id, p] : players_) {
    values[pf.x] = p.x;
    values[pf.y] = p.y;
    values[pf.vx] = p.vx;
    values[pf.vy] = p.vy;
    values[pf.aim] = p.aim;
    values[pf.health] = p.health;
    values[pf.score] = p.score;
    values[pf.alive] = p.alive ? 1.0 : 0.0;
    append(id, player_type(), player_field_count);
  }
  const DroneFields& df = drone_fields();
  for (std::size_t i = 0; i < drones_.size(); ++i) {
    const Drone& d = drones_[i];
    values[df.x] = d.x;
    values[df.y] = d.y;
    values[df.vx] = d.vx;
    values[df.vy] = d.vy;
    append(kFirstDrone + static_cast<tickwire::sim::EntityId>(i), drone_type(), drone_field_count);
  }
  return assembler.finish();
}

}  // namespace arena
