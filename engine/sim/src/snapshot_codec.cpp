#include "snapshot_codec.hpp"

#include <algorithm>
#include <bit>

#include "bit_stream.hpp"

namespace tickwire::sim::detail {
namespace {

// Fields this narrow are cheaper sent whole than as a delta with a size class.
constexpr unsigned kWholeFieldBits = 4;
// Delta size classes: prefix '0' → 4 bits, '10' → 8, '110' → 12, '111' → the whole value.
constexpr unsigned kDeltaClassBits[] = {4, 8, 12};

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

void write_field_change(BitWriter& out, std::uint32_t base, std::uint32_t value, unsigned bits,
                        std::uint32_t steps, bool wraps) {
  if (bits <= kWholeFieldBits) {
    out.write(value, bits);
    return;
  }
  const std::uint32_t z = zigzag(field_delta(base, value, steps, wraps));
  for (unsigned size_class = 0; size_class < 3; ++size_class) {
    if (z < (1u << kDeltaClassBits[size_class])) {
      out.write((1u << (size_class + 1)) - 2, size_class + 1);  // 0, 10, 110
      out.write(z, kDeltaClassBits[size_class]);
      return;
    }
  }
  out.write(0b111, 3);
  out.write(value, bits);
}

// Reads a changed field; nullopt if it leaves the field's range.
std::optional<std::uint32_t> read_field_change(BitReader& in, std::uint32_t base, unsigned bits,
                                               std::uint32_t steps, bool wraps) {
  std::int64_t value = 0;
  if (bits <= kWholeFieldBits) {
    value = in.read(bits);
  } else {
    unsigned size_class = 0;
    while (size_class < 3 && in.read_bool())
      ++size_class;
    if (size_class == 3) {
      value = in.read(bits);
    } else {
      value = std::int64_t{base} + unzigzag(in.read(kDeltaClassBits[size_class]));
      if (wraps) value = ((value % steps) + steps) % steps;
    }
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

// The part of an updated entity after its id gap.
void write_entity_body(BitWriter& out, const EntitySchema& schema,
                       const std::optional<WorldState::Entity>& base,
                       const WorldState::Entity& entity) {
  const std::size_t fields = entity.fields.size();
  if (!base) {
    out.write(entity.type, schema.type_bits());
    for (std::size_t f = 0; f < fields; ++f) {
      out.write(entity.fields[f], schema.field_bits(entity.type, f));
    }
    return;
  }
  for (std::size_t f = 0; f < fields; ++f) {
    const bool changed = entity.fields[f] != base->fields[f];
    out.write_bool(changed);
    if (changed) {
      write_field_change(out, base->fields[f], entity.fields[f], schema.field_bits(entity.type, f),
                         schema.field_steps(entity.type, f), is_angle(schema, entity.type, f));
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

}  // namespace

EncodedSnapshot encode_snapshot(const EntitySchema& schema, const WorldState& baseline,
                                const WorldState& target, std::size_t max_bits,
                                const std::function<float(const WorldState::Entity&)>& priority) {
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

  if (priority) {
    std::vector<std::pair<float, std::size_t>> ranked;
    ranked.reserve(candidates.size());
    for (const std::size_t index : candidates)
      ranked.emplace_back(priority(target.at(index)), index);
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

  // Bodies in priority order while they fit. An id gap is known only once the set is chosen,
  // so each entity is first charged the gap from the nearest changed entity below it (a lower
  // bound); then the real layout is measured and the least important are given back until it
  // fits.
  std::vector<std::size_t> gap_floor(target.size(), 0);
  {
    std::vector<std::size_t> by_id = candidates;
    std::sort(by_id.begin(), by_id.end());
    EntityId below = 0;
    for (const std::size_t index : by_id) {
      gap_floor[index] = varuint_bits(target.at(index).id - below - 1);
      below = target.at(index).id;
    }
  }
  struct Chosen {
    std::size_t index;
    BitWriter body;
  };
  std::vector<Chosen> chosen;  // in priority order
  EncodedSnapshot result;
  std::size_t estimate =
      out.bit_count() + varuint_bits(static_cast<std::uint32_t>(candidates.size()));
  for (const std::size_t index : candidates) {
    const WorldState::Entity entity = target.at(index);
    std::optional<WorldState::Entity> base = baseline.find(entity.id);
    if (base && base->type != entity.type) base.reset();
    BitWriter body;
    write_entity_body(body, schema, base, entity);
    const std::size_t cost = gap_floor[index] + body.bit_count();
    if (max_bits != 0 && estimate + cost > max_bits) {
      result.deferred.push_back(entity.id);
      continue;
    }
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
    result.deferred.push_back(target.at(chosen.back().index).id);
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

  // The client's view: baseline minus removals, with the included updates applied.
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

std::optional<WorldState> decode_snapshot(const EntitySchema& schema, const WorldState& baseline,
                                          std::span<const std::uint8_t> bytes,
                                          std::size_t max_entities) {
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
      if (!was_removed) base = baseline.at(b);
      ++b;
    }
    TypeId type = 0;
    if (base) {
      type = base->type;
      for (std::size_t f = 0; f < base->fields.size(); ++f) {
        fields[f] = base->fields[f];
        if (!in.read_bool()) continue;
        const auto value =
            read_field_change(in, base->fields[f], schema.field_bits(type, f),
                              schema.field_steps(type, f), is_angle(schema, type, f));
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
