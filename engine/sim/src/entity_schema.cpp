#include "tickwire/sim/entity_schema.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <numbers>
#include <sstream>

namespace tickwire::sim {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
// Quantized values must fit 32 bits with room for the delta arithmetic.
constexpr double kMaxSteps = 4294967295.0;

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string field_error(const std::string& type, const FieldSpec& field, const std::string& what) {
  return "entity type '" + type + "' field '" + field.name + "': " + what;
}

}  // namespace

TypeId EntitySchema::add(EntityType type) {
  // The first error is the one to fix; the ones after it may only follow from it.
  const auto refuse = [this](std::string message) {
    if (status_.ok()) status_ = Status::error(std::move(message));
    return TypeId{0};
  };
  if (types_.size() >= kMaxTypes) {
    return refuse("entity type '" + type.name + "' is one too many: at most " +
                  std::to_string(kMaxTypes) + " types");
  }
  if (type.fields.size() > kMaxFields) {
    return refuse("entity type '" + type.name + "' has " + std::to_string(type.fields.size()) +
                  " fields; at most " + std::to_string(kMaxFields));
  }
  Compiled compiled;
  for (const FieldSpec& field : type.fields) {
    double steps = 1;
    switch (field.kind) {
      case FieldKind::real:
        if (!(field.precision > 0) || !(field.max > field.min)) {
          return refuse(field_error(
              type.name, field,
              "precision = " + number(field.precision) + ", min = " + number(field.min) +
                  ", max = " + number(field.max) + " is invalid: use precision > 0 and max > min"));
        }
        steps = std::ceil((field.max - field.min) / field.precision) + 1;
        break;
      case FieldKind::angle:
        if (!(field.precision > 0) || field.precision > kTwoPi) {
          return refuse(field_error(
              type.name, field,
              "precision = " + number(field.precision) + " is invalid: use 0 < precision <= 2 pi"));
        }
        steps = std::round(kTwoPi / field.precision);
        break;
      case FieldKind::integer:
        if (!(field.max >= field.min)) {
          return refuse(field_error(type.name, field,
                                    "min = " + number(field.min) + ", max = " + number(field.max) +
                                        " is invalid: use max >= min"));
        }
        steps = field.max - field.min + 1;
        break;
      case FieldKind::boolean:
        steps = 2;
        break;
    }
    if (steps > kMaxSteps) {
      return refuse(field_error(type.name, field, "range / precision needs more than 32 bits"));
    }
    const auto count = static_cast<std::uint32_t>(steps);
    compiled.steps.push_back(count);
    compiled.bits.push_back(count <= 1 ? 0u : static_cast<unsigned>(std::bit_width(count - 1)));
  }
  // Rates name other real fields of the same type.
  compiled.move_of.assign(type.fields.size(), -1);
  for (std::size_t f = 0; f < type.fields.size(); ++f) {
    const FieldSpec& field = type.fields[f];
    if (field.rate_field.empty()) continue;
    const auto rate =
        std::find_if(type.fields.begin(), type.fields.end(),
                     [&](const FieldSpec& other) { return other.name == field.rate_field; });
    if (field.kind != FieldKind::real || rate == type.fields.end() ||
        rate->kind != FieldKind::real || rate->name == field.name) {
      return refuse(field_error(
          type.name, field,
          "rate_field '" + field.rate_field + "' is invalid: use the name of another real field"));
    }
    compiled.move_of[f] = static_cast<int>(compiled.moves.size());
    compiled.moves.push_back({static_cast<std::uint8_t>(f),
                              static_cast<std::uint8_t>(rate - type.fields.begin()),
                              -rate->min / rate->precision, rate->precision / field.precision,
                              static_cast<double>(compiled.steps[f] - 1)});
    compiled.has_rates = true;
  }
  // Rate fields first, so that a decoder knows the new rate before the field it moves.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t f = 0; f < type.fields.size(); ++f) {
      const bool is_rate =
          std::any_of(compiled.moves.begin(), compiled.moves.end(),
                      [&](const Compiled::RateMove& move) { return move.rate == f; });
      if (is_rate == (pass == 0)) compiled.coding_order.push_back(static_cast<std::uint8_t>(f));
    }
  }
  compiled.type = std::move(type);
  types_.push_back(std::move(compiled));
  return static_cast<TypeId>(types_.size() - 1);
}

unsigned EntitySchema::type_bits() const {
  return types_.size() <= 1 ? 0u : static_cast<unsigned>(std::bit_width(types_.size() - 1));
}

namespace {
// std::round (halves away from zero) without the library call it compiles to on baseline
// x86-64: the same result for every double, so both ends still predict alike.
double round_half_away(double x) {
  // Below 2^52 the truncation is exact in an int64, and so is x minus it.
  if (!(std::fabs(x) < 0x1p52)) return std::round(x);
  const auto truncated = static_cast<double>(static_cast<std::int64_t>(x));
  const double fraction = x - truncated;
  if (fraction >= 0.5) return truncated + 1;
  if (fraction <= -0.5) return truncated - 1;
  return truncated;
}
}  // namespace

std::uint32_t EntitySchema::moved_field(const Compiled::RateMove& move,
                                        std::span<const std::uint32_t> before,
                                        std::span<const std::uint32_t> after,
                                        double elapsed_seconds) {
  // The mean rate in rate steps, relative to standing still; doubles, no contraction (see the
  // header): the same bits on every machine.
  const double mean_rate = (before[move.rate] - move.zero + (after[move.rate] - move.zero)) / 2;
  const double moved = round_half_away(mean_rate * move.scale * elapsed_seconds);
  return static_cast<std::uint32_t>(std::clamp(before[move.field] + moved, 0.0, move.top));
}

void EntitySchema::predict(TypeId id, std::span<const std::uint32_t> fields, double elapsed_seconds,
                           std::span<std::uint32_t> predicted) const {
  predict(id, fields, fields, elapsed_seconds, predicted);
}

void EntitySchema::move_rate_fields(TypeId id, std::span<const std::uint32_t> fields,
                                    double elapsed_seconds,
                                    std::span<std::uint32_t> predicted) const {
  if (elapsed_seconds == 0) return;
  for (const Compiled::RateMove& move : types_[id].moves)
    predicted[move.field] = moved_field(move, fields, fields, elapsed_seconds);
}

void EntitySchema::predict(TypeId id, std::span<const std::uint32_t> before,
                           std::span<const std::uint32_t> after, double elapsed_seconds,
                           std::span<std::uint32_t> predicted) const {
  // Every field as it was, then only those with a rate moved: most fields have no rate. A plain
  // loop: std::copy of a few fields calls memmove.
  for (std::size_t f = 0; f < before.size(); ++f)
    predicted[f] = before[f];
  if (elapsed_seconds == 0) return;
  for (const Compiled::RateMove& move : types_[id].moves)
    predicted[move.field] = moved_field(move, before, after, elapsed_seconds);
}

void EntitySchema::predict_with_new_rates(TypeId id, std::span<const std::uint32_t> before,
                                          std::span<const std::uint32_t> after,
                                          double elapsed_seconds,
                                          std::span<std::uint32_t> predicted) const {
  if (elapsed_seconds == 0) return;
  for (const Compiled::RateMove& move : types_[id].moves) {
    // With the same rate at both ends the mean rate is that rate: predicted[f] is already it.
    if (after[move.rate] != before[move.rate])
      predicted[move.field] = moved_field(move, before, after, elapsed_seconds);
  }
}

std::uint32_t EntitySchema::predict_field(TypeId id, std::size_t field,
                                          std::span<const std::uint32_t> before,
                                          std::span<const std::uint32_t> after,
                                          double elapsed_seconds) const {
  const Compiled& type = types_[id];
  if (type.move_of[field] < 0 || elapsed_seconds == 0) return before[field];
  return moved_field(type.moves[static_cast<std::size_t>(type.move_of[field])], before, after,
                     elapsed_seconds);
}

std::uint32_t EntitySchema::quantize(TypeId id, std::size_t field, double value) const {
  const Compiled& type = types_[id];
  const FieldSpec& spec = type.type.fields[field];
  const double top = static_cast<double>(type.steps[field] - 1);
  switch (spec.kind) {
    case FieldKind::real:
      return static_cast<std::uint32_t>(
          std::clamp(std::round((value - spec.min) / spec.precision), 0.0, top));
    case FieldKind::angle: {
      double turns = std::fmod(value, kTwoPi);
      if (turns < 0) turns += kTwoPi;
      const auto q = static_cast<std::uint32_t>(std::round(turns / kTwoPi * type.steps[field]));
      return q % type.steps[field];
    }
    case FieldKind::integer:
      return static_cast<std::uint32_t>(std::clamp(std::round(value - spec.min), 0.0, top));
    case FieldKind::boolean:
      return value != 0 ? 1u : 0u;
  }
  return 0;
}

void EntitySchema::quantize(TypeId id, std::span<const double> values,
                            std::span<std::uint32_t> quantized) const {
  assert(values.size() == field_count(id) && quantized.size() == values.size());
  for (std::size_t f = 0; f < values.size(); ++f)
    quantized[f] = quantize(id, f, values[f]);
}

double EntitySchema::dequantize(TypeId id, std::size_t field, std::uint32_t quantized) const {
  const Compiled& type = types_[id];
  const FieldSpec& spec = type.type.fields[field];
  switch (spec.kind) {
    case FieldKind::real:
      return spec.min + quantized * spec.precision;
    case FieldKind::angle:
      return static_cast<double>(quantized) / type.steps[field] * kTwoPi;
    case FieldKind::integer:
      return spec.min + quantized;
    case FieldKind::boolean:
      return quantized != 0 ? 1.0 : 0.0;
  }
  return 0;
}

}  // namespace tickwire::sim
