#include "snapshot_codec.hpp"

#include <algorithm>
#include <bit>

#include "bit_stream.hpp"

namespace tickwire::sim::detail {
namespace {

// Fields this narrow are cheaper sent whole than as a delta.
constexpr unsigned kWholeFieldBits = 4;
// Exp-Golomb orders are sent in this many bits, so at most 31.
constexpr unsigned kOrderBits = 5;

std::uint32_t zigzag(std::int64_t delta) {
  return static_cast<std::uint32_t>(delta < 0 ? (-delta * 2 - 1) : delta * 2);
}
std::int64_t unzigzag(std::uint32_t z) {
  return (z & 1u) != 0 ? -static_cast<std::int64_t>((std::uint64_t{z} + 1) / 2) : z / 2;
}

// The signed step from `base` to `value`; for angles the short way round.
std::int64_t field_delta(std::uint32_t base, std::uint32_t value, std::uint32_t steps, bool wraps) {
  std::int64_t delta = std::int64_t{value} - base;
  if (wraps) {
    if (delta > steps / 2) delta -= steps;
    if (delta < -static_cast<std::int64_t>(steps / 2)) delta += steps;
  }
  return delta;
}

// Deltas are Exp-Golomb coded with an order chosen per field for each snapshot from that
// snapshot's own deltas (sent in its header): small for a field that barely moves, larger for
// one that moves a lot, so each pays close to what its deltas are worth.
std::size_t exp_golomb_bits(std::uint32_t z, unsigned order) {
  const std::uint64_t x = std::uint64_t{z} + (std::uint64_t{1} << order);
  const auto n = static_cast<std::size_t>(std::bit_width(x)) - 1;
  return 2 * n - order + 1;
}

void write_exp_golomb(BitWriter& out, std::uint32_t z, unsigned order) {
  const std::uint64_t x = std::uint64_t{z} + (std::uint64_t{1} << order);
  const auto n = static_cast<unsigned>(std::bit_width(x)) - 1;
  out.write(0, n - order);
  if (n >= 32) out.write(static_cast<std::uint32_t>(x >> 32), n - 31);
  out.write(static_cast<std::uint32_t>(x), n >= 32 ? 32 : n + 1);
}

std::optional<std::uint32_t> read_exp_golomb(BitReader& in, unsigned order) {
  unsigned zeros = 0;
  while (in.ok() && !in.read_bool()) {
    if (++zeros + order > 32) return std::nullopt;
  }
  // The leading 1 was read; n - order zeros came before it, n more bits follow.
  const unsigned n = zeros + order;
  std::uint64_t x = 1;
  if (n > 32) return std::nullopt;
  if (n == 32) {
    x = (x << 32) | in.read(32);
  } else {
    x = (x << n) | in.read(n);
  }
  const std::uint64_t z = x - (std::uint64_t{1} << order);
  if (!in.ok() || z > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(z);
}

// How one snapshot codes the deltas of each type's fields, chosen from the snapshot's own
// deltas and sent in its header: the Exp-Golomb order per field, and which fields changed in
// every updated entity of the type (those need no changed bit per entity).
struct DeltaHeader {
  std::vector<bool> present;                      // per type: any updated entity with a baseline
  std::vector<std::vector<std::uint8_t>> orders;  // per type, per field
  std::vector<std::vector<bool>> always_changed;  // per type, per field
};

void write_field_change(BitWriter& out, std::uint32_t base, std::uint32_t value, unsigned bits,
                        std::uint32_t steps, bool wraps, unsigned order) {
  if (bits <= kWholeFieldBits) {
    out.write(value, bits);
    return;
  }
  write_exp_golomb(out, zigzag(field_delta(base, value, steps, wraps)), order);
}

// Reads a changed field; nullopt if it leaves the field's range.
std::optional<std::uint32_t> read_field_change(BitReader& in, std::uint32_t base, unsigned bits,
                                               std::uint32_t steps, bool wraps, unsigned order) {
  std::int64_t value = 0;
  if (bits <= kWholeFieldBits) {
    value = in.read(bits);
  } else {
    const auto z = read_exp_golomb(in, order);
    if (!z) return std::nullopt;
    value = std::int64_t{base} + unzigzag(*z);
    if (wraps) value = ((value % steps) + steps) % steps;
  }
  if (!in.ok() || value < 0 || value >= std::int64_t{steps}) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// Bits write_varuint() spends on `value`.
std::size_t varuint_bits(std::uint32_t value) {
  return 2 * static_cast<std::size_t>(std::bit_width(std::uint64_t{value} + 1)) - 1;
}

bool is_angle(const EntitySchema& schema, TypeId type, std::size_t field) {
  return schema.type(type).fields[field].kind == FieldKind::angle;
}

bool is_wide(const EntitySchema& schema, TypeId type, std::size_t field) {
  return schema.field_bits(type, field) > kWholeFieldBits;
}

// The header that makes this snapshot's deltas shortest.
DeltaHeader choose_delta_header(const EntitySchema& schema, const WorldState& baseline,
                                double elapsed_seconds, const WorldState& target,
                                const std::vector<std::size_t>& candidates) {
  const std::size_t types = schema.type_count();
  std::vector<std::vector<std::vector<std::uint32_t>>> deltas(types);
  DeltaHeader header;
  header.present.assign(types, false);
  header.orders.resize(types);
  header.always_changed.resize(types);
  for (std::size_t t = 0; t < types; ++t) {
    const std::size_t fields = schema.field_count(static_cast<TypeId>(t));
    deltas[t].resize(fields);
    header.orders[t].assign(fields, 0);
    header.always_changed[t].assign(fields, true);
  }
  for (const std::size_t index : candidates) {
    const WorldState::Entity entity = target.at(index);
    const auto base = baseline.find(entity.id);
    if (!base || base->type != entity.type) continue;
    header.present[entity.type] = true;
    for (std::size_t f = 0; f < entity.fields.size(); ++f) {
      const std::uint32_t reference =
          schema.predict_field(entity.type, f, base->fields, entity.fields, elapsed_seconds);
      if (entity.fields[f] == reference) {
        header.always_changed[entity.type][f] = false;
        continue;
      }
      if (!is_wide(schema, entity.type, f)) continue;
      deltas[entity.type][f].push_back(
          zigzag(field_delta(reference, entity.fields[f], schema.field_steps(entity.type, f),
                             is_angle(schema, entity.type, f))));
    }
  }
  for (std::size_t t = 0; t < types; ++t) {
    for (std::size_t f = 0; f < deltas[t].size(); ++f) {
      std::size_t best_cost = SIZE_MAX;
      const unsigned top =
          std::min(schema.field_bits(static_cast<TypeId>(t), f), (1u << kOrderBits) - 1);
      for (unsigned order = 0; order <= top && !deltas[t][f].empty(); ++order) {
        std::size_t cost = 0;
        for (const std::uint32_t z : deltas[t][f])
          cost += exp_golomb_bits(z, order);
        if (cost < best_cost) {
          best_cost = cost;
          header.orders[t][f] = static_cast<std::uint8_t>(order);
        }
      }
    }
  }
  return header;
}

// Per type a presence bit; for present types, per field an always-changed bit and, for wide
// fields, the order.
void write_delta_header(BitWriter& out, const EntitySchema& schema, const DeltaHeader& header) {
  for (std::size_t t = 0; t < header.present.size(); ++t) {
    out.write_bool(header.present[t]);
    if (!header.present[t]) continue;
    for (std::size_t f = 0; f < header.orders[t].size(); ++f) {
      out.write_bool(header.always_changed[t][f]);
      if (is_wide(schema, static_cast<TypeId>(t), f)) out.write(header.orders[t][f], kOrderBits);
    }
  }
}

DeltaHeader read_delta_header(BitReader& in, const EntitySchema& schema) {
  const std::size_t types = schema.type_count();
  DeltaHeader header;
  header.present.assign(types, false);
  header.orders.resize(types);
  header.always_changed.resize(types);
  for (std::size_t t = 0; t < types; ++t) {
    const auto type = static_cast<TypeId>(t);
    header.orders[t].assign(schema.field_count(type), 0);
    header.always_changed[t].assign(schema.field_count(type), false);
    header.present[t] = in.read_bool();
    if (!header.present[t]) continue;
    for (std::size_t f = 0; f < header.orders[t].size(); ++f) {
      header.always_changed[t][f] = in.read_bool();
      if (is_wide(schema, type, f))
        header.orders[t][f] = static_cast<std::uint8_t>(in.read(kOrderBits));
    }
  }
  return header;
}

// The part of an updated entity after its id gap.
void write_entity_body(BitWriter& out, const EntitySchema& schema, const DeltaHeader& header,
                       double elapsed_seconds, const std::optional<WorldState::Entity>& base,
                       const WorldState::Entity& entity) {
  const std::size_t fields = entity.fields.size();
  if (!base) {
    out.write(entity.type, schema.type_bits());
    for (std::size_t f = 0; f < fields; ++f) {
      out.write(entity.fields[f], schema.field_bits(entity.type, f));
    }
    return;
  }
  for (const std::size_t f : schema.coding_order(entity.type)) {
    const std::uint32_t reference =
        schema.predict_field(entity.type, f, base->fields, entity.fields, elapsed_seconds);
    const bool changed = entity.fields[f] != reference;
    if (!header.always_changed[entity.type][f]) out.write_bool(changed);
    if (changed) {
      write_field_change(out, reference, entity.fields[f], schema.field_bits(entity.type, f),
                         schema.field_steps(entity.type, f), is_angle(schema, entity.type, f),
                         header.orders[entity.type][f]);
    }
  }
}

void append_bits(BitWriter& out, const BitWriter& from) {
  const auto& bytes = from.bytes();
  std::size_t left = from.bit_count();
  for (std::size_t i = 0; left > 0; ++i) {
    const unsigned take = left >= 8 ? 8u : static_cast<unsigned>(left);
    out.write(static_cast<std::uint32_t>(bytes[i] >> (8 - take)), take);
    left -= take;
  }
}

// The baseline as it should look `elapsed_seconds` later: fields with a rate moved by it. Both
// ends take deltas against this, so an entity that keeps its velocity costs nothing.
const WorldState& expected_state(const EntitySchema& schema, const WorldState& baseline,
                                 double elapsed_seconds, WorldState& storage) {
  bool any_rates = false;
  for (std::size_t t = 0; t < schema.type_count() && !any_rates; ++t) {
    any_rates = schema.has_rates(static_cast<TypeId>(t));
  }
  if (!any_rates || elapsed_seconds == 0) return baseline;
  WorldStateAssembler assembler;
  std::uint32_t predicted[EntitySchema::kMaxFields];
  for (std::size_t i = 0; i < baseline.size(); ++i) {
    const WorldState::Entity entity = baseline.at(i);
    const std::span out(predicted, entity.fields.size());
    schema.predict(entity.type, entity.fields, elapsed_seconds, out);
    assembler.append(entity.id, entity.type, out);
  }
  storage = assembler.finish();
  return storage;
}

}  // namespace

EncodedSnapshot encode_snapshot(const EntitySchema& schema, const WorldState& actual_baseline,
                                double elapsed_seconds, const WorldState& target,
                                std::size_t max_bits,
                                const std::function<float(const WorldState::Entity&)>& priority) {
  WorldState storage;
  const WorldState& baseline = expected_state(schema, actual_baseline, elapsed_seconds, storage);
  // Walk both sorted id lists once: what was removed, and what is new or changed.
  std::vector<EntityId> removed;
  std::vector<std::size_t> candidates;  // indices into target
  std::size_t b = 0;
  for (std::size_t t = 0; t < target.size(); ++t) {
    const WorldState::Entity entity = target.at(t);
    while (b < baseline.size() && baseline.at(b).id < entity.id)
      removed.push_back(baseline.at(b++).id);
    if (b < baseline.size() && baseline.at(b).id == entity.id) {
      const WorldState::Entity base = baseline.at(b++);
      if (base.type != entity.type) {
        removed.push_back(base.id);  // a new type is a new entity under the same id
        candidates.push_back(t);
      } else if (!std::equal(base.fields.begin(), base.fields.end(), entity.fields.begin())) {
        candidates.push_back(t);
      }
    } else {
      candidates.push_back(t);
    }
  }
  while (b < baseline.size())
    removed.push_back(baseline.at(b++).id);

  // Bodies go in priority order while they fit. An id gap is known only once the set is chosen,
  // so each entity is first charged the gap from the nearest changed entity below it (a lower
  // bound; candidates are in id order here); then the real layout is measured and the least
  // important are given back until it fits.
  std::vector<std::size_t> gap_floor(target.size(), 0);
  {
    EntityId below = 0;
    for (const std::size_t index : candidates) {
      gap_floor[index] = varuint_bits(target.at(index).id - below - 1);
      below = target.at(index).id;
    }
  }

  std::vector<float> priority_of(target.size(), 1.0f);
  if (priority) {
    std::vector<std::pair<float, std::size_t>> ranked;
    ranked.reserve(candidates.size());
    for (const std::size_t index : candidates) {
      priority_of[index] = priority(target.at(index));
      ranked.emplace_back(priority_of[index], index);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    for (std::size_t i = 0; i < ranked.size(); ++i)
      candidates[i] = ranked[i].second;
  }

  BitWriter out;
  out.write_varuint(static_cast<std::uint32_t>(removed.size()));
  EntityId previous = 0;
  for (const EntityId id : removed) {
    out.write_varuint(id - previous - 1);
    previous = id;
  }

  struct Chosen {
    std::size_t index;
    BitWriter body;
  };
  const DeltaHeader header =
      choose_delta_header(schema, actual_baseline, elapsed_seconds, target, candidates);
  write_delta_header(out, schema, header);
  std::vector<Chosen> chosen;  // in priority order
  EncodedSnapshot result;
  std::size_t estimate =
      out.bit_count() + varuint_bits(static_cast<std::uint32_t>(candidates.size()));
  // Once this many candidates in a row did not fit, the budget is spent: the rest (lower in
  // priority) wait without being encoded. With hundreds of changes and room for a few dozen,
  // encoding every one only to throw most away was most of a snapshot's cost.
  constexpr std::size_t kMisfitsBeforeFull = 8;
  std::size_t misfits = 0;
  for (const std::size_t index : candidates) {
    const WorldState::Entity entity = target.at(index);
    if (max_bits != 0 && misfits >= kMisfitsBeforeFull) {
      result.deferred.push_back({entity.id, priority_of[index]});
      continue;
    }
    std::optional<WorldState::Entity> base = actual_baseline.find(entity.id);
    if (base && base->type != entity.type) base.reset();
    BitWriter body;
    write_entity_body(body, schema, header, elapsed_seconds, base, entity);
    const std::size_t cost = gap_floor[index] + body.bit_count();
    if (max_bits != 0 && estimate + cost > max_bits) {
      result.deferred.push_back({entity.id, priority_of[index]});
      ++misfits;
      continue;
    }
    misfits = 0;
    estimate += cost;
    chosen.push_back({index, std::move(body)});
  }
  const auto exact_bits = [&] {
    std::vector<std::size_t> indices;
    std::size_t body_bits = 0;
    for (const Chosen& entry : chosen) {
      indices.push_back(entry.index);
      body_bits += entry.body.bit_count();
    }
    std::sort(indices.begin(), indices.end());
    std::size_t bits =
        out.bit_count() + varuint_bits(static_cast<std::uint32_t>(indices.size())) + body_bits;
    EntityId below = 0;
    for (const std::size_t index : indices) {
      bits += varuint_bits(target.at(index).id - below - 1);
      below = target.at(index).id;
    }
    return bits;
  };
  while (max_bits != 0 && !chosen.empty() && exact_bits() > max_bits) {
    result.deferred.push_back(
        {target.at(chosen.back().index).id, priority_of[chosen.back().index]});
    chosen.pop_back();
  }
  std::sort(chosen.begin(), chosen.end(),
            [](const Chosen& x, const Chosen& y) { return x.index < y.index; });

  out.write_varuint(static_cast<std::uint32_t>(chosen.size()));
  previous = 0;
  for (const Chosen& entry : chosen) {
    const EntityId id = target.at(entry.index).id;
    out.write_varuint(id - previous - 1);
    previous = id;
    append_bits(out, entry.body);
    result.included.push_back(id);
  }

  // The client's view: the (expected) baseline minus removals, with the included updates.
  WorldStateAssembler view;
  std::size_t r = 0, c = 0;
  b = 0;
  while (b < baseline.size() || c < chosen.size()) {
    const bool take_base =
        c == chosen.size() ||
        (b < baseline.size() && baseline.at(b).id < target.at(chosen[c].index).id);
    if (take_base) {
      const WorldState::Entity base = baseline.at(b++);
      while (r < removed.size() && removed[r] < base.id)
        ++r;
      if (r < removed.size() && removed[r] == base.id) continue;
      view.append(base.id, base.type, base.fields);
    } else {
      const WorldState::Entity entity = target.at(chosen[c++].index);
      if (b < baseline.size() && baseline.at(b).id == entity.id) ++b;  // replaced by the update
      view.append(entity.id, entity.type, entity.fields);
    }
  }
  result.view = view.finish();
  result.bits = out.bit_count();
  result.bytes = out.bytes();
  return result;
}

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
