#pragma once
// Arena: a top-down arena where players move (WASD), aim and fire a hitscan weapon, among
// wandering drones. The server runs these rules; clients run the same step for prediction.
// Deterministic: the same inputs from the same state give the same state (drones wander from a
// seeded generator).

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include <tickwire/sim/entity_schema.hpp>
#include <tickwire/sim/lag_compensation.hpp>
#include <tickwire/sim/world_state.hpp>

namespace arena {

using PlayerId = std::uint32_t;

struct Config {
  double half_size = 60;    // the arena spans [-half_size, half_size] both ways, metres
  double player_speed = 6;  // metres per second; no input makes a player faster
  double player_radius = 0.5;
  double drone_speed = 2;
  double drone_radius = 0.6;
  int drones = 30;
  double weapon_range = 40;
  int damage = 34;  // three hits down a player
  std::uint32_t fire_cooldown_ticks = 15;
  std::uint32_t respawn_ticks = 120;
  std::uint32_t match_ticks = 60 * 180;  // three minutes at 60 Hz
  double tick_rate_hz = 60;
  std::uint64_t seed = 1;
};

// One tick of a player's input, already clamped to what the rules allow.
struct PlayerInput {
  std::int8_t move_x = 0;  // -1, 0, 1
  std::int8_t move_y = 0;
  float aim = 0;  // radians
  bool fire = false;
  double view_tick = 0;  // what the shooter saw, for lag compensation (read only when firing)
};

// The input of `tick` as it goes on the wire (bit-packed, arena_input.cpp), and back: decoding
// checks and clamps, and gives nothing for bytes that are not an input. Aim and the lag
// compensation's view tick are quantized: a client predicts with decode_input(encode_input(...)),
// what the server will apply.
std::vector<std::byte> encode_input(const PlayerInput& input, std::uint64_t tick);
std::optional<PlayerInput> decode_input(std::span<const std::byte> bytes, std::uint64_t tick);

// The entity types, from arena.fbs embedded at build time.
const tickwire::sim::EntitySchema& schema();
tickwire::sim::TypeId player_type();
tickwire::sim::TypeId drone_type();
// Where each replicated field sits in an entity's fields, looked up by name in arena.fbs once
// (a field missing from the schema throws std::bad_optional_access at the first call).
struct PlayerFields {
  std::size_t x, y, vx, vy, aim, health, score, alive;
};
struct DroneFields {
  std::size_t x, y, vx, vy;
};
const PlayerFields& player_fields();
const DroneFields& drone_fields();

struct PlayerState {
  double x = 0, y = 0, vx = 0, vy = 0;
  float aim = 0;
  int health = 100;
  int score = 0;
  bool alive = true;
  std::uint32_t cooldown = 0;  // ticks until the weapon fires again
  std::uint32_t respawn = 0;   // ticks until a dead player comes back
};

struct Hit {
  PlayerId shooter;
  tickwire::sim::EntityId target;
};

class World {
 public:
  // `config.tick_rate_hz` must be 1..1000 (std::invalid_argument, naming it, otherwise).
  explicit World(Config config = {});

  // Player ids must be below kFirstDrone (the server numbers its players itself); another is
  // refused with std::invalid_argument.
  void add_player(PlayerId id);
  // Puts a player somewhere (a spawn editor, tests).
  void set_position(PlayerId id, double x, double y);
  void remove_player(PlayerId id);

  // Simulates one tick with each player's input (a player without one keeps standing still).
  void step(const std::map<PlayerId, PlayerInput>& inputs);

  std::uint64_t tick() const { return tick_; }
  bool match_over() const { return tick_ >= config_.match_ticks; }
  const PlayerState* player(PlayerId id) const;
  const std::vector<Hit>& hits() const { return hits_; }  // of the last tick

  // Replicated state: players have entity id = player id, drones 1'000'000 + index. Built into
  // `recycled`'s buffers (an older state that is no longer needed), if given.
  tickwire::sim::WorldState state(tickwire::sim::WorldState recycled = {}) const;

  // Moves one player by one tick of input, as the server would: what a client predicts with.
  static void move_player(const Config& config, PlayerState& player, const PlayerInput& input);

  static constexpr tickwire::sim::EntityId kFirstDrone = 1'000'000;

 private:
  struct Drone {
    double x, y, vx, vy;
  };
  void move_drones();
  void fire(PlayerId id, PlayerState& shooter, const PlayerInput& input);
  std::pair<double, double> spawn_point();

  Config config_;
  std::uint64_t tick_ = 0;
  std::map<PlayerId, PlayerState> players_;
  std::vector<Drone> drones_;
  std::mt19937_64 random_;
  tickwire::sim::HitHistory history_;
  std::vector<Hit> hits_;
};

}  // namespace arena
