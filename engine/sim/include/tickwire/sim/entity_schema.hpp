#pragma once
// What a game replicates: entity types, each a fixed list of fields with a quantization. The
// replicator only ever sees the quantized integers, so the server and every client agree to the
// bit on what was sent, and deltas between two states are exact.

#include <cstdint>
#include <string>
#include <vector>

namespace tickwire::sim {

using EntityId = std::uint32_t;  // chosen by the game; 0 is not a valid id
using TypeId = std::uint16_t;    // index of the type in its EntitySchema

enum class FieldKind : std::uint8_t {
  real,     // a number in [min, max], kept to `precision` (positions, velocities)
  angle,    // radians, wraps around; kept to `precision` radians
  integer,  // a whole number in [min, max] (health, ammo, state enums)
  boolean,
};

struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::real;
  double min = 0;        // real, integer: lowest value; lower values are clamped
  double max = 0;        // real, integer: highest value; higher values are clamped
  double precision = 0;  // real, angle: the step the value is rounded to (> 0)

  static FieldSpec real(std::string name, double min, double max, double precision) {
    return {std::move(name), FieldKind::real, min, max, precision};
  }
  static FieldSpec angle(std::string name, double precision) {
    return {std::move(name), FieldKind::angle, 0, 0, precision};
  }
  static FieldSpec integer(std::string name, std::int64_t min, std::int64_t max) {
    return {std::move(name), FieldKind::integer, static_cast<double>(min), static_cast<double>(max),
            1};
  }
  static FieldSpec boolean(std::string name) {
    return {std::move(name), FieldKind::boolean, 0, 1, 1};
  }
};

struct EntityType {
  std::string name;
  std::vector<FieldSpec> fields;  // at most kMaxFields
};

class EntitySchema {
 public:
  static constexpr std::size_t kMaxFields = 32;
  static constexpr std::size_t kMaxTypes = 1024;

  // Adds a type; returns its id. An invalid type is not added: check validate() / error().
  TypeId add(EntityType type);
  // Empty when every type added so far is valid; otherwise what is wrong with which field.
  const std::string& error() const { return error_; }

  std::size_t type_count() const { return types_.size(); }
  const EntityType& type(TypeId id) const { return types_[id].type; }
  std::size_t field_count(TypeId id) const { return types_[id].type.fields.size(); }
  // Bits of field `field` of type `id` on the wire when sent whole.
  unsigned field_bits(TypeId id, std::size_t field) const { return types_[id].bits[field]; }
  // Largest quantized value + 1 of a field: deltas of angles wrap modulo this.
  std::uint32_t field_steps(TypeId id, std::size_t field) const { return types_[id].steps[field]; }
  // Bits to send a TypeId.
  unsigned type_bits() const;

  std::uint32_t quantize(TypeId id, std::size_t field, double value) const;
  double dequantize(TypeId id, std::size_t field, std::uint32_t quantized) const;

 private:
  struct Compiled {
    EntityType type;
    std::vector<unsigned> bits;
    std::vector<std::uint32_t> steps;
  };
  std::vector<Compiled> types_;
  std::string error_;
};

}  // namespace tickwire::sim
