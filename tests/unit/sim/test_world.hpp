#pragma once
// A small evolving world for sim tests: drones that wander, rest, appear and disappear, with a
// seed so a failing run can be replayed.

#include <cstdint>
#include <map>
#include <numbers>
#include <random>

#include "tickwire/sim/entity_schema.hpp"
#include "tickwire/sim/world_state.hpp"

namespace tickwire::sim::test {

inline EntitySchema make_test_schema() {
  EntitySchema schema;
  schema.add({"drone",
              {FieldSpec::real("x", -1000, 1000, 0.01), FieldSpec::real("y", -1000, 1000, 0.01),
               FieldSpec::angle("heading", 2 * std::numbers::pi / 1024),
               FieldSpec::integer("health", 0, 100)}});
  schema.add({"flag", {FieldSpec::boolean("carried"), FieldSpec::integer("team", 0, 3)}});
  return schema;
}

class TestWorld {
 public:
  TestWorld(std::uint64_t seed, int entities) : random_(seed) {
    for (int i = 0; i < entities; ++i)
      spawn();
  }

  // One tick: some drones move, a few change health, now and then one dies or is born.
  void step() {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (auto& [id, drone] : drones_) {
      if (drone.moving) {
        drone.x += std::cos(drone.heading) * 0.3;
        drone.y += std::sin(drone.heading) * 0.3;
        drone.heading += (unit(random_) - 0.5) * 0.1;
      }
      if (unit(random_) < 0.02) drone.moving = !drone.moving;
      if (unit(random_) < 0.01) drone.health = static_cast<int>(random_() % 101);
    }
    if (unit(random_) < 0.1 && !drones_.empty()) {
      auto it = drones_.begin();
      std::advance(it, static_cast<long>(random_() % drones_.size()));
      drones_.erase(it);
    }
    if (unit(random_) < 0.1) spawn();
  }

  WorldState state(const EntitySchema& schema) const {
    WorldState::Builder builder;
    for (const auto& [id, drone] : drones_) {
      const double values[] = {drone.x, drone.y, drone.heading, double(drone.health)};
      builder.set_values(schema, id, 0, values);
    }
    const double flag[] = {1, 2};
    builder.set_values(schema, 1, 1, flag);
    return builder.build();
  }

 private:
  struct Drone {
    double x, y, heading;
    int health;
    bool moving;
  };
  void spawn() {
    std::uniform_real_distribution<double> place(-500.0, 500.0);
    drones_[next_id_++] = {place(random_), place(random_), place(random_) / 100, 100,
                           random_() % 4 == 0};
  }
  std::mt19937_64 random_;
  std::map<EntityId, Drone> drones_;
  EntityId next_id_ = 2;  // id 1 is the flag
};

}  // namespace tickwire::sim::test
