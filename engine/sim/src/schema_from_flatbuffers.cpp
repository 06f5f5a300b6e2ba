// EntitySchema::from_flatbuffers: entity types read from a game's binary FlatBuffers schema.

#include <flatbuffers/reflection_generated.h>

#include <tickwire/schemas/aligned_view.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "tickwire/sim/entity_schema.hpp"

namespace tickwire::sim {
namespace {

const reflection::KeyValue* attribute(const reflection::Field& field, const char* key) {
  return field.attributes() != nullptr ? field.attributes()->LookupByKey(key) : nullptr;
}

std::optional<double> number(const reflection::KeyValue* kv) {
  if (kv == nullptr || kv->value() == nullptr) return std::nullopt;
  double value = 0;
  const char* begin = kv->value()->c_str();
  const char* end = begin + kv->value()->size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// The range of an integer base type.
std::pair<double, double> integer_range(reflection::BaseType type) {
  switch (type) {
    case reflection::Byte:
      return {-128, 127};
    case reflection::UByte:
      return {0, 255};
    case reflection::Short:
      return {-32768, 32767};
    case reflection::UShort:
      return {0, 65535};
    case reflection::Int:
      return {-2147483648.0, 2147483647.0};
    default:
      return {0, 4294967295.0};  // wider types: what 32 quantized bits can carry
  }
}

}  // namespace

EntitySchema EntitySchema::from_flatbuffers(std::span<const std::byte> binary_schema) {
  EntitySchema schema;
  const schemas::AlignedView view(binary_schema);
  const std::uint8_t* data = view.data();
  flatbuffers::Verifier verifier(data, binary_schema.size());
  if (!reflection::VerifySchemaBuffer(verifier)) {
    schema.status_ =
        Status::error("not a binary FlatBuffers schema (make one with flatc --binary --schema)");
    return schema;
  }
  const reflection::Schema* fbs = reflection::GetSchema(data);
  for (const reflection::Object* object : *fbs->objects()) {
    if (object->attributes() == nullptr ||
        object->attributes()->LookupByKey("tw_entity") == nullptr) {
      continue;
    }
    const std::string type_name = object->name()->str();
    std::vector<const reflection::Field*> declared(object->fields()->begin(),
                                                   object->fields()->end());
    std::sort(
        declared.begin(), declared.end(),
        [](const reflection::Field* a, const reflection::Field* b) { return a->id() < b->id(); });
    EntityType type{type_name, {}};
    for (const reflection::Field* field : declared) {
      const std::string name = field->name()->str();
      const auto base = field->type()->base_type();
      const auto fail = [&](const std::string& what) {
        schema.status_ = Status::error("table '" + type_name + "' field '" + name + "': " + what);
      };
      FieldSpec spec;
      spec.name = name;
      if (base == reflection::Bool) {
        spec = FieldSpec::boolean(name);
      } else if (base == reflection::Float || base == reflection::Double) {
        const auto precision = number(attribute(*field, "tw_precision"));
        if (!precision) {
          fail("needs tw_precision");
          return schema;
        }
        if (attribute(*field, "tw_angle") != nullptr) {
          spec = FieldSpec::angle(name, *precision);
        } else {
          const auto min = number(attribute(*field, "tw_min"));
          const auto max = number(attribute(*field, "tw_max"));
          if (!min || !max) {
            fail("needs tw_min and tw_max (or tw_angle)");
            return schema;
          }
          spec = FieldSpec::real(name, *min, *max, *precision);
        }
        if (const auto* rate = attribute(*field, "tw_rate");
            rate != nullptr && rate->value() != nullptr) {
          spec.rate_field = rate->value()->str();
        }
      } else if (base >= reflection::Byte && base <= reflection::ULong) {
        const auto [low, high] = integer_range(base);
        const double min = number(attribute(*field, "tw_min")).value_or(low);
        const double max = number(attribute(*field, "tw_max")).value_or(high);
        spec = FieldSpec::integer(name, static_cast<std::int64_t>(min),
                                  static_cast<std::int64_t>(max));
      } else {
        fail("only scalar fields (bool, integers, float, double) can be replicated");
        return schema;
      }
      type.fields.push_back(std::move(spec));
    }
    schema.add(std::move(type));
    if (!schema.status_.ok()) return schema;
  }
  if (schema.types_.empty() && schema.status_.ok()) {
    schema.status_ = Status::error("the schema has no table with the tw_entity attribute");
  }
  return schema;
}

}  // namespace tickwire::sim
