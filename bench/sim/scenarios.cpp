#include "scenarios.hpp"

#include <cmath>
#include <numbers>
#include <random>

namespace tickwire::bench {
namespace {

using sim::EntityId;
using sim::FieldSpec;
constexpr double kTick = 1.0 / 60;
constexpr double kPi = std::numbers::pi;

// Collects raw values and quantizes them into a world state.
class StateWriter {
 public:
  explicit StateWriter(const sim::EntitySchema& schema) : schema_(schema) {}
  void add(EntityId id, sim::TypeId type, std::vector<double> values) {
    builder_.set_values(schema_, id, type, values);
  }
  sim::WorldState finish() { return builder_.build(); }

 private:
  const sim::EntitySchema& schema_;
  sim::WorldState::Builder builder_;
};

class RestingCubes final : public Scenario {
 public:
  explicit RestingCubes(std::uint64_t seed) : random_(seed) {
    schema_.add(
        {"cube",
         {FieldSpec::real("x", -256, 256, 1.0 / 512).with_rate("vx"),
          FieldSpec::real("y", -256, 256, 1.0 / 512).with_rate("vy"),
          FieldSpec::real("z", 0, 64, 1.0 / 512).with_rate("vz"),
          FieldSpec::angle("yaw", 2 * kPi / 4096), FieldSpec::angle("pitch", 2 * kPi / 4096),
          FieldSpec::angle("roll", 2 * kPi / 4096), FieldSpec::real("vx", -32, 32, 1.0 / 256),
          FieldSpec::real("vy", -32, 32, 1.0 / 256), FieldSpec::real("vz", -32, 32, 1.0 / 256),
          FieldSpec::boolean("interacting")}});
    std::uniform_real_distribution<double> place(-200, 200);
    for (int i = 0; i < 900; ++i) {
      Cube cube{place(random_), place(random_), 0.5, place(random_) / 64, 0, 0, 0, 0, false};
      cubes_.push_back(cube);
    }
    // Three groups of ten roll along: the player pushing a pile through the others.
    for (int i = 0; i < 30; ++i) {
      cubes_[static_cast<std::size_t>(i * 29)].moving = true;
      cubes_[static_cast<std::size_t>(i * 29)].vx = 3 + (i % 3);
      cubes_[static_cast<std::size_t>(i * 29)].vy = (i % 3) - 1.0;
    }
  }
  std::string name() const override { return "(a) 900 cubes, 30 moving"; }
  const sim::EntitySchema& schema() const override { return schema_; }
  std::size_t uncompressed_bits_per_entity() const override { return 321; }
  std::size_t clients() const override { return 1; }
  void step() override {
    for (Cube& c : cubes_) {
      if (!c.moving) continue;
      c.x += c.vx * kTick;
      c.y += c.vy * kTick;
      c.pitch += 4 * kTick;  // tumbling
      c.roll += 1.5 * kTick;
      if (std::abs(c.x) > 250) c.vx = -c.vx;
      if (std::abs(c.y) > 250) c.vy = -c.vy;
    }
  }
  sim::WorldState state() const override {
    StateWriter writer(schema_);
    for (std::size_t i = 0; i < cubes_.size(); ++i) {
      const Cube& c = cubes_[i];
      writer.add(static_cast<EntityId>(i + 1), 0,
                 {c.x, c.y, c.z, c.yaw, c.pitch, c.roll, c.vx, c.vy, 0, c.moving ? 1.0 : 0.0});
    }
    return writer.finish();
  }
  void raw(std::vector<std::pair<EntityId, std::vector<float>>>& out) const override {
    out.clear();
    for (std::size_t i = 0; i < cubes_.size(); ++i) {
      const Cube& c = cubes_[i];
      // Gaffer's cube: position, orientation quaternion, linear velocity, interacting.
      out.push_back(
          {static_cast<EntityId>(i + 1),
           {float(c.x), float(c.y), float(c.z), float(std::cos(c.pitch / 2)), 0,
            float(std::sin(c.pitch / 2)), 0, float(c.vx), float(c.vy), 0, c.moving ? 1.0f : 0.0f}});
    }
  }

 private:
  struct Cube {
    double x, y, z, yaw, pitch, roll, vx, vy;
    bool moving;
  };
  sim::EntitySchema schema_;
  std::vector<Cube> cubes_;
  std::mt19937_64 random_;
};

// 2D movers: position, heading, velocity.
sim::EntitySchema mover_schema(bool with_player_fields, double velocity_step) {
  std::vector<FieldSpec> fields = {FieldSpec::real("x", -1024, 1024, 1.0 / 256).with_rate("vx"),
                                   FieldSpec::real("y", -1024, 1024, 1.0 / 256).with_rate("vy"),
                                   FieldSpec::angle("heading", 2 * kPi / 1024),
                                   FieldSpec::real("vx", -64, 64, velocity_step),
                                   FieldSpec::real("vy", -64, 64, velocity_step)};
  if (with_player_fields) {
    fields.push_back(FieldSpec::integer("health", 0, 100));
    fields.push_back(FieldSpec::integer("score", 0, 1000));
  }
  sim::EntitySchema schema;
  schema.add({with_player_fields ? "player" : "mover", fields});
  return schema;
}

class MovingCrowd : public Scenario {
 public:
  MovingCrowd(std::uint64_t seed, int count, bool players, double velocity_step)
      : schema_(mover_schema(players, velocity_step)), players_(players), random_(seed) {
    std::uniform_real_distribution<double> place(-500, 500), turn(-kPi, kPi);
    for (int i = 0; i < count; ++i) {
      movers_.push_back({place(random_), place(random_), turn(random_), 5.0, 0.0, 100, 0});
    }
  }
  std::string name() const override {
    return players_ ? "(c) 64 players with inputs" : "(b) 256 entities, all moving";
  }
  const sim::EntitySchema& schema() const override { return schema_; }
  std::size_t uncompressed_bits_per_entity() const override {
    return 32 * (1 + schema_.field_count(0));
  }
  std::size_t clients() const override { return players_ ? movers_.size() : 1; }
  void step() override {
    std::uniform_real_distribution<double> unit(0, 1);
    for (Mover& m : movers_) {
      if (players_) {
        // Inputs: a new direction now and then (WASD), the aim follows the mouse every tick.
        if (unit(random_) < 0.03) m.turn_rate = (unit(random_) - 0.5) * 6;
        if (unit(random_) < 0.005) m.health = static_cast<int>(random_() % 101);
        if (unit(random_) < 0.002) ++m.score;
      } else if (unit(random_) < 0.02) {
        m.turn_rate = (unit(random_) - 0.5) * 2;
      }
      m.heading += m.turn_rate * kTick;
      m.x += std::cos(m.heading) * m.speed * kTick;
      m.y += std::sin(m.heading) * m.speed * kTick;
      if (std::abs(m.x) > 1000 || std::abs(m.y) > 1000) m.heading += kPi;
    }
  }
  sim::WorldState state() const override {
    StateWriter writer(schema_);
    for (std::size_t i = 0; i < movers_.size(); ++i) {
      const Mover& m = movers_[i];
      std::vector<double> values = {m.x, m.y, m.heading, std::cos(m.heading) * m.speed,
                                    std::sin(m.heading) * m.speed};
      if (players_) {
        values.push_back(m.health);
        values.push_back(m.score);
      }
      writer.add(static_cast<EntityId>(i + 1), 0, std::move(values));
    }
    return writer.finish();
  }
  void raw(std::vector<std::pair<EntityId, std::vector<float>>>& out) const override {
    out.clear();
    for (std::size_t i = 0; i < movers_.size(); ++i) {
      const Mover& m = movers_[i];
      std::vector<float> values = {float(m.x), float(m.y), float(m.heading),
                                   float(std::cos(m.heading) * m.speed),
                                   float(std::sin(m.heading) * m.speed)};
      if (players_) {
        values.push_back(float(m.health));
        values.push_back(float(m.score));
      }
      out.push_back({static_cast<EntityId>(i + 1), std::move(values)});
    }
  }

 private:
  struct Mover {
    double x, y, heading, speed, turn_rate;
    int health, score;
  };
  sim::EntitySchema schema_;
  bool players_;
  std::vector<Mover> movers_;
  std::mt19937_64 random_;
};

}  // namespace

std::unique_ptr<Scenario> make_resting_cubes(std::uint64_t seed) {
  return std::make_unique<RestingCubes>(seed);
}
std::unique_ptr<Scenario> make_moving_crowd(std::uint64_t seed, double velocity_step) {
  return std::make_unique<MovingCrowd>(seed, 256, false, velocity_step);
}
std::unique_ptr<Scenario> make_players(std::uint64_t seed, double velocity_step) {
  return std::make_unique<MovingCrowd>(seed, 64, true, velocity_step);
}

}  // namespace tickwire::bench
