#pragma once
// The three worlds the snapshot benchmark replicates, each stepped at 60 Hz.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"
#include "tickwire/sim/world_state.hpp"

namespace tickwire::bench {

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::string name() const = 0;
  virtual const sim::EntitySchema& schema() const = 0;
  // Bits of one entity's state sent raw: its id and every field as a 32-bit float (Gaffer on
  // Games' "uncompressed" measure: 321 bits for a cube).
  virtual std::size_t uncompressed_bits_per_entity() const = 0;
  virtual std::size_t clients() const = 0;
  virtual void step() = 0;  // one 60 Hz tick
  virtual sim::WorldState state() const = 0;
  // The raw field values of every entity, for the plain FlatBuffers baseline.
  virtual void raw(std::vector<std::pair<sim::EntityId, std::vector<float>>>& out) const = 0;
};

// (a) 900 cubes mostly at rest, a few groups of ten tumbling across the floor.
std::unique_ptr<Scenario> make_resting_cubes(std::uint64_t seed);
// (b) 256 entities all moving and turning. `velocity_step` is the precision of velocities in
// m/s (positions are kept to 1/256 m).
std::unique_ptr<Scenario> make_moving_crowd(std::uint64_t seed, double velocity_step);
// (c) 64 players steered by inputs (direction changes, aim every tick), each also a client.
std::unique_ptr<Scenario> make_players(std::uint64_t seed, double velocity_step);

}  // namespace tickwire::bench
