#include "snapshot_codec.hpp"

#include <algorithm>

#include "bit_stream.hpp"
#include "delta_coding.hpp"

namespace tickwire::sim::detail {
namespace {

// The baseline as it should look `elapsed_seconds` later: fields with a rate moved by it. Both
// ends take deltas against this, so an entity that keeps its velocity costs nothing.
const WorldState& expected_state(const EntitySchema& schema, const WorldState& baseline,
                                 double elapsed_seconds, WorldState& storage) {
  bool any_rates = false;
  for (std::size_t t = 0; t < schema.type_count() && !any_rates; ++t) {
    any_rates = schema.has_rates(static_cast<TypeId>(t));
  }
  if (!any_rates || elapsed_seconds == 0) return baseline;
  storage = baseline.predicted(schema, elapsed_seconds);
  return storage;
}

}  // namespace

std::optional<WorldState> decode_snapshot(const EntitySchema& schema,
                                          const WorldState& actual_baseline, double elapsed_seconds,
                                          std::span<const std::uint8_t> bytes,
                                          std::size_t max_entities) {
  WorldState storage;
  const WorldState& baseline = expected_state(schema, actual_baseline, elapsed_seconds, storage);
  BitReader in(bytes);
  const std::uint32_t removed_count = in.read_varuint();
  if (!in.ok() || removed_count > baseline.size()) return std::nullopt;
  std::vector<EntityId> removed(removed_count);
  std::uint64_t previous = 0;
  for (auto& id : removed) {
    const std::uint64_t next = previous + in.read_varuint() + 1;
    if (!in.ok() || next > UINT32_MAX) return std::nullopt;
    id = static_cast<EntityId>(next);
    previous = next;
  }
  const DeltaHeader header = read_delta_header(in, schema);
  const std::uint32_t updated_count = in.read_varuint();
  if (!in.ok() || updated_count > max_entities) return std::nullopt;

  WorldStateAssembler out;
  // Room for the baseline's entities at once (most updates replace one of them); a snapshot
  // that adds more grows it. Not what the update count claims: that comes from the sender.
  out.reserve(baseline.size(), baseline.field_offset(baseline.size()));
  std::size_t b = 0, r = 0, kept = 0;
  // Copies baseline entities with ids below `limit` (all when limit is beyond every id), unless
  // removed; false if that makes the state too large.
  const auto keep_baseline_below = [&](std::uint64_t limit) {
    for (; b < baseline.size() && baseline.at(b).id < limit; ++b) {
      const WorldState::Entity base = baseline.at(b);
      while (r < removed.size() && removed[r] < base.id)
        ++r;
      if (r < removed.size() && removed[r] == base.id) continue;
      if (++kept > max_entities) return false;
      out.append(base.id, base.type, base.fields);
    }
    return true;
  };

  std::uint32_t fields[EntitySchema::kMaxFields];
  previous = 0;
  for (std::uint32_t u = 0; u < updated_count; ++u) {
    const std::uint64_t next = previous + in.read_varuint() + 1;
    if (!in.ok() || next > UINT32_MAX) return std::nullopt;
    const auto id = static_cast<EntityId>(next);
    previous = next;
    if (!keep_baseline_below(id)) return std::nullopt;
    std::optional<WorldState::Entity> base;
    if (b < baseline.size() && baseline.at(b).id == id) {
      const bool was_removed = std::binary_search(removed.begin(), removed.end(), id);
      if (!was_removed) base = actual_baseline.at(b);  // deltas start from the real baseline
      ++b;
    }
    TypeId type = 0;
    if (base) {
      type = base->type;
      const std::span decoded(fields, base->fields.size());
      for (const std::size_t f : schema.coding_order(type)) {
        // Rate fields come first, so the rate this prediction needs is already decoded.
        const std::uint32_t reference =
            schema.predict_field(type, f, base->fields, decoded, elapsed_seconds);
        fields[f] = reference;
        if (!header.always_changed[type][f] && !in.read_bool()) continue;
        const auto value = read_field_change(in, reference, schema.field_bits(type, f),
                                             schema.field_steps(type, f), is_angle(schema, type, f),
                                             header.orders[type][f]);
        if (!value) return std::nullopt;
        fields[f] = *value;
      }
    } else {
      type = static_cast<TypeId>(in.read(schema.type_bits()));
      if (!in.ok() || type >= schema.type_count()) return std::nullopt;
      for (std::size_t f = 0; f < schema.field_count(type); ++f) {
        fields[f] = in.read(schema.field_bits(type, f));
        if (fields[f] >= schema.field_steps(type, f)) return std::nullopt;
      }
    }
    if (!in.ok() || ++kept > max_entities) return std::nullopt;
    out.append(id, type, std::span(fields, schema.field_count(type)));
  }
  if (!keep_baseline_below(std::uint64_t{UINT32_MAX} + 1)) return std::nullopt;
  // Only the zero padding of the last byte may remain.
  if (!in.ok() || in.bits_left() >= 8) return std::nullopt;
  return out.finish();
}

}  // namespace tickwire::sim::detail
