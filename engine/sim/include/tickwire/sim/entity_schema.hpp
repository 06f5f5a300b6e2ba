#pragma once
// What a game replicates: entity types, each a fixed list of fields with a quantization. The
// replicator only ever sees the quantized integers, so the server and every client agree to the
// bit on what was sent, and deltas between two states are exact.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickwire/status.hpp"

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
  // real: the name of another real field of the same type holding this field's rate of change
  // per second (a velocity for a position). Deltas are then taken against the position the
  // rate predicts, so an entity moving steadily costs nothing. Empty = no rate.
  std::string rate_field;

  FieldSpec with_rate(std::string field) && {
    rate_field = std::move(field);
    return std::move(*this);
  }

  static FieldSpec real(std::string name, double min, double max, double precision) {
    return {std::move(name), FieldKind::real, min, max, precision, {}};
  }
  static FieldSpec angle(std::string name, double precision) {
    return {std::move(name), FieldKind::angle, 0, 0, precision, {}};
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
  // Entity types from the game's own FlatBuffers schema, compiled to a binary schema
  // (`flatc --binary --schema game.fbs` gives game.bfbs). Every table with the attribute
  // `tw_entity` becomes a type, its scalar fields in declaration order its fields:
  //
  //   attribute "tw_entity"; attribute "tw_min"; attribute "tw_max"; attribute "tw_precision";
  //   attribute "tw_angle"; attribute "tw_rate";
  //   table Drone (tw_entity) {
  //     x:float (tw_min: "-1000", tw_max: "1000", tw_precision: "0.01", tw_rate: "vx");
  //     vx:float (tw_min: "-50", tw_max: "50", tw_precision: "0.01");
  //     heading:float (tw_angle, tw_precision: "0.006");
  //     health:ubyte (tw_max: "100");   // integers: tw_min / tw_max default to the type's range
  //     armed:bool;
  //   }
  //
  // Types are added in the order the tables appear in the schema's object list (by name). On
  // any problem the returned schema's validate() says which table and field.
  static EntitySchema from_flatbuffers(std::span<const std::byte> binary_schema);

  static constexpr std::size_t kMaxFields = 32;
  static constexpr std::size_t kMaxTypes = 1024;

  // Adds a type; returns its id. An invalid type is not added, and validate() says why from
  // then on (the schema is refused whole: ids of later types would not be what the game expects).
  TypeId add(EntityType type);
  // Fine when every type added so far is valid; otherwise which type and field is wrong, its
  // value and what to use. Every factory that takes a schema (ServerReplicator::create ...)
  // refuses an invalid one with this message.
  Status validate() const { return status_; }

  std::size_t type_count() const { return types_.size(); }
  // The id of the type named `name` (as given, or "namespace.Table" from a FlatBuffers schema).
  std::optional<TypeId> find_type(std::string_view name) const {
    for (std::size_t i = 0; i < types_.size(); ++i) {
      if (types_[i].type.name == name) return static_cast<TypeId>(i);
    }
    return std::nullopt;
  }
  const EntityType& type(TypeId id) const { return types_[id].type; }
  // The index of the field named `name` of type `id` (its position in EntityType::fields, what
  // WorldState::Entity::fields and dequantize() take); nothing if there is no such type or
  // field. Games look their fields up once, by name, rather than counting positions.
  std::optional<std::size_t> find_field(TypeId id, std::string_view name) const {
    if (id >= types_.size()) return std::nullopt;
    const std::vector<FieldSpec>& fields = types_[id].type.fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == name) return i;
    }
    return std::nullopt;
  }
  std::size_t field_count(TypeId id) const { return types_[id].type.fields.size(); }
  // Bits of field `field` of type `id` on the wire when sent whole.
  unsigned field_bits(TypeId id, std::size_t field) const { return types_[id].bits[field]; }
  // Largest quantized value + 1 of a field: deltas of angles wrap modulo this.
  std::uint32_t field_steps(TypeId id, std::size_t field) const { return types_[id].steps[field]; }
  // Bits to send a TypeId.
  unsigned type_bits() const;

  // The quantized fields an entity of type `id` is expected to have `elapsed_seconds` after it
  // had `fields`: fields with a rate move by it, the others stay. Integer results from the same
  // inputs on every machine (IEEE doubles, no contraction), so both ends predict alike.
  void predict(TypeId id, std::span<const std::uint32_t> fields, double elapsed_seconds,
               std::span<std::uint32_t> predicted) const;
  // The same when `predicted` already holds a copy of `fields`: only the fields with a rate are
  // written (an encoder copies a whole baseline's fields at once).
  void move_rate_fields(TypeId id, std::span<const std::uint32_t> fields, double elapsed_seconds,
                        std::span<std::uint32_t> predicted) const;
  // Field `field` predicted from `before` once its rate field is known to have become the value
  // in `after`: moved by the mean of the two rates (exact for steady acceleration, such as a
  // turn). Fields without a rate predict their old value.
  std::uint32_t predict_field(TypeId id, std::size_t field, std::span<const std::uint32_t> before,
                              std::span<const std::uint32_t> after, double elapsed_seconds) const;
  // predict_field() of every field at once.
  void predict(TypeId id, std::span<const std::uint32_t> before,
               std::span<const std::uint32_t> after, double elapsed_seconds,
               std::span<std::uint32_t> predicted) const;
  // The same when `predicted` already holds predict(id, before, elapsed_seconds): only the
  // fields whose rate differs between `before` and `after` are moved again (an encoder has
  // that prediction of every entity, and most rates stay the same from one snapshot to the
  // next).
  void predict_with_new_rates(TypeId id, std::span<const std::uint32_t> before,
                              std::span<const std::uint32_t> after, double elapsed_seconds,
                              std::span<std::uint32_t> predicted) const;
  // The order in which to code a type's fields: rate fields before the fields they move.
  std::span<const std::uint8_t> coding_order(TypeId id) const { return types_[id].coding_order; }
  bool has_rates(TypeId id) const { return types_[id].has_rates; }

  std::uint32_t quantize(TypeId id, std::size_t field, double value) const;
  // Every field of an entity of type `id`: values[i] quantized into quantized[i] (both
  // field_count(id) long).
  void quantize(TypeId id, std::span<const double> values,
                std::span<std::uint32_t> quantized) const;
  double dequantize(TypeId id, std::size_t field, std::uint32_t quantized) const;

 private:
  struct Compiled {
    EntityType type;
    std::vector<unsigned> bits;
    std::vector<std::uint32_t> steps;
    // How each field with a rate moves, in field order: what a prediction reads, side by side.
    struct RateMove {
      std::uint8_t field;
      std::uint8_t rate;  // the field holding its rate
      double zero;        // quantized rate value meaning "not moving"
      double scale;       // steps of the field per rate step per second
      double top;         // the field's largest quantized value
    };
    std::vector<RateMove> moves;
    std::vector<int> move_of;  // per field: its place in `moves`, or -1 without a rate
    bool has_rates = false;
    std::vector<std::uint8_t> coding_order;
  };
  std::vector<Compiled> types_;
  Status status_;  // the first error, kept: add() refuses nothing silently

  // A field with a rate moved by the mean of its rates in before/after.
  static std::uint32_t moved_field(const Compiled::RateMove& move,
                                   std::span<const std::uint32_t> before,
                                   std::span<const std::uint32_t> after, double elapsed_seconds);
};

}  // namespace tickwire::sim
