// encode_snapshot, in the steps a snapshot is made of: the id diff against the client's
// baseline, the priority ranking of what changed, the delta header, the budget fit and the bit
// emission, then the view the client will hold.
//
// It runs once per client per snapshot, so every step is linear in the entities or better, and
// reuses one scratch area per thread instead of allocating: with hundreds of clients and
// entities, the allocations and the per-entity lookups were most of a server tick. The steps are
// kept out of line ([[gnu::noinline]]): inlined into encode_snapshot() they ran about 2 % more
// instructions (callgrind of tickwire-bench-encode).

#include <algorithm>
#include <bit>

#include "delta_coding.hpp"
#include "delta_widths.hpp"
#include "snapshot_codec.hpp"

namespace tickwire::sim::detail {
namespace {

constexpr std::uint32_t kNoBase = UINT32_MAX;

// An entity that is new or changed since the baseline.
struct Candidate {
  std::uint32_t index;           // in target
  std::uint32_t base;            // in the baseline, or kNoBase: sent whole
  std::uint32_t gap_floor_bits;  // the id gap from the nearest candidate below (a lower bound)
  float priority;
  std::uint32_t deltas = 0;     // offset of its fields' zigzag deltas in Scratch::zigzags
  std::uint32_t changed = 0;    // with a baseline: bit f set if field f changed, once measured
  std::uint32_t body_bits = 0;  // its body under the chosen header, once fitted
};
static_assert(EntitySchema::kMaxFields <= 32, "Candidate::changed has a bit per field");

// How a field is coded, per type * kMaxFields + field: the schema's answers gathered into one
// flat table per snapshot, since the per-field loops below ask them for every entity.
struct FieldCoding {
  std::uint32_t steps = 0;
  std::uint8_t bits = 0;
  bool wide = false;   // coded as an Exp-Golomb delta (else whole)
  bool angle = false;  // wraps around
};

// Reused by every snapshot encoded on a thread: the buffers keep their capacity.
struct Scratch {
  std::vector<FieldCoding> coding;  // per type * kMaxFields + field
  std::vector<EntityId> removed;
  std::vector<Candidate> candidates;     // id order, then priority order
  std::vector<std::uint64_t> rank_keys;  // rank_candidates()'s sort
  // The candidates in id order once ranked, where rank_rest() gathers the rest from.
  std::vector<Candidate> ranked;
  bool unranked = false;  // measure_sample() took them all in id order
  // The baseline's fields as the rates moved them, laid out as the baseline's own fields
  // (WorldState::field_offset).
  std::vector<std::uint32_t> expected;
  // Per measured candidate with a baseline, per field: the zigzag delta from the predicted
  // reference, set for the changed wide fields only (Candidate::deltas is where they start).
  std::vector<std::uint32_t> zigzags;
  std::size_t zigzags_used = 0;
  std::vector<std::uint32_t> chosen;       // positions in `candidates`
  std::vector<std::uint32_t> by_id;        // the same, sorted by id while the budget is checked
  std::vector<std::uint32_t> chosen_at;    // per target index: its place in `candidates` + 1, or 0
  std::vector<DeltaWidths> header_deltas;  // per type * kMaxFields + field
  DeltaHeader header;
  // The header's choices. Per type, the fields some updated entity of the type keeps (bit f):
  // those have a changed bit. Per type * kMaxFields + field, the Exp-Golomb order.
  std::vector<std::uint32_t> keeps;
  std::vector<std::uint8_t> changed_bits;  // per type: how many fields have one (keeps' count)
  std::vector<std::uint8_t> order;
  // Per target index: whether its change waits, and with which priority, so that the deferred
  // list comes out in id order without a sort.
  std::vector<std::uint8_t> waits;
  std::vector<float> deferred_priority;
  BitWriter out;
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

void gather_field_coding(const EntitySchema& schema, Scratch& s) {
  s.coding.assign(schema.type_count() * EntitySchema::kMaxFields, {});
  for (std::size_t t = 0; t < schema.type_count(); ++t) {
    const auto type = static_cast<TypeId>(t);
    for (std::size_t f = 0; f < schema.field_count(type); ++f) {
      s.coding[t * EntitySchema::kMaxFields + f] = {
          schema.field_steps(type, f), static_cast<std::uint8_t>(schema.field_bits(type, f)),
          is_wide(schema, type, f), is_angle(schema, type, f)};
    }
  }
}

const FieldCoding* coding_of(const Scratch& s, TypeId type) {
  return s.coding.data() + std::size_t{type} * EntitySchema::kMaxFields;
}

// Step 1, the id diff: walks both sorted id lists once. Fills the removed ids, the candidates
// (in id order, with their id-gap floor) and the baseline's expected fields (what the client
// predicts for entities this snapshot does not mention).
[[gnu::noinline]] void diff_ids(const EntitySchema& schema, const WorldState& baseline,
                                double elapsed_seconds, const EntitySelection& target, Scratch& s) {
  baseline.predict_fields(schema, elapsed_seconds, s.expected);

  // Written through plain pointers into buffers sized for the most there can be: with a
  // push_back per entity the compiler must load every vector's bounds again after each one.
  const std::size_t base_count = baseline.size();
  const std::size_t target_count = target.size();
  s.removed.resize(base_count);  // each baseline entity at most once
  s.candidates.resize(target_count);
  EntityId* removed = s.removed.data();
  Candidate* candidates = s.candidates.data();
  std::size_t removed_count = 0;
  std::size_t candidate_count = 0;
  const auto add = [&](std::size_t index, std::uint32_t base) {
    candidates[candidate_count++] = {static_cast<std::uint32_t>(index), base, 0, 1.0f};
  };
  const std::uint32_t* expected_fields = s.expected.data();
  std::size_t b = 0;
  for (std::size_t t = 0; t < target_count; ++t) {
    const WorldState::Entity entity = target.at(t);
    while (b < base_count && baseline.id_at(b) < entity.id)
      removed[removed_count++] = baseline.id_at(b++);
    if (b < base_count && baseline.id_at(b) == entity.id) {
      const WorldState::Entity base = baseline.at(b);
      const std::uint32_t* expected = expected_fields + baseline.field_offset(b);
      if (base.type != entity.type) {
        removed[removed_count++] = base.id;  // a new type is a new entity under the same id
        add(t, kNoBase);
      } else {
        // A plain loop: std::equal becomes a memcmp call, dearer than eight compares.
        bool same = true;
        for (std::size_t f = 0; f < entity.fields.size(); ++f)
          same &= entity.fields[f] == expected[f];
        if (!same) add(t, static_cast<std::uint32_t>(b));
      }
      ++b;
    } else {
      add(t, kNoBase);
    }
  }
  while (b < base_count)
    removed[removed_count++] = baseline.id_at(b++);
  s.removed.resize(removed_count);
  s.candidates.resize(candidate_count);

  // An id gap is known only once the set is chosen: each candidate is first charged the gap
  // from the nearest candidate below it, a lower bound.
  EntityId below = 0;
  for (Candidate& c : s.candidates) {
    const EntityId id = target.id_at(c.index);
    c.gap_floor_bits = static_cast<std::uint32_t>(varuint_bits(id - below - 1));
    below = id;
  }
}

// The ranking's order, as a key that sorts ascending: higher priority first, ties in id order
// (the candidate's `position` among the candidates, which are in id order when ranked). The
// priority's bits above the position: a float's bits order as the float once the sign is folded
// in (negative ones flipped whole); -0 counts as 0.
std::uint64_t rank_key(float priority, std::size_t position) {
  const auto bits = std::bit_cast<std::uint32_t>(priority + 0.0f);
  const std::uint32_t ascending = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
  return (std::uint64_t{~ascending} << 32) | position;
}

using Waiting = std::span<const EncodedSnapshot::Deferred>;

// Step 2, the priority ranking: asks `priority` about each candidate (1 without it), in id order,
// adds what the candidate accumulated while it waited, and orders the first `wanted` of them by
// that (the rest stay unordered until rank_rest()). Leaves the keys in Scratch::rank_keys and the
// candidates in id order in Scratch::ranked, for rank_rest().
[[gnu::noinline]] void rank_candidates(const EntitySelection& target,
                                       const EntityPriority& priority, Waiting waiting,
                                       std::size_t wanted, Scratch& s) {
  if (!priority && waiting.empty()) return;  // all 1, already in id order
  // Both lists are in id order: one walk pairs them.
  std::size_t w = 0;
  for (Candidate& c : s.candidates) {
    const WorldState::Entity entity = target.at(c.index);
    const float base = priority ? priority(entity) : 1.0f;
    while (w < waiting.size() && waiting[w].id < entity.id)
      ++w;
    const bool waited = w < waiting.size() && waiting[w].id == entity.id;
    c.priority = base + (waited ? waiting[w].priority : 0.0f);
  }
  // Sorted as 64-bit keys, then moved into that order: cheaper than sorting the candidates.
  std::vector<std::uint64_t>& keys = s.rank_keys;
  keys.resize(s.candidates.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    keys[i] = rank_key(s.candidates[i].priority, i);
  if (wanted < keys.size()) {
    std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(wanted), keys.end());
    std::sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(wanted));
  } else {
    std::sort(keys.begin(), keys.end());
  }
  s.ranked.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i)
    s.ranked[i] = s.candidates[static_cast<std::uint32_t>(keys[i])];
  s.candidates.swap(s.ranked);
}

// Orders the candidates rank_candidates() left unordered, from `from` on (none of them measured
// yet), by their keys.
void rank_rest(std::size_t from, Scratch& s) {
  std::vector<std::uint64_t>& keys = s.rank_keys;
  std::sort(keys.begin() + static_cast<std::ptrdiff_t>(from), keys.end());
  for (std::size_t i = from; i < keys.size(); ++i)
    s.candidates[i] = s.ranked[static_cast<std::uint32_t>(keys[i])];
}

// Empties what measure_deltas() counts for the delta header, before the sample is measured.
void reset_header_counts(const EntitySchema& schema, Scratch& s) {
  const std::size_t types = schema.type_count();
  DeltaHeader& header = s.header;
  header.present.assign(types, false);
  header.orders.resize(types);
  header.always_changed.resize(types);
  s.header_deltas.resize(types * EntitySchema::kMaxFields);
  s.keeps.assign(types, 0);
  s.changed_bits.resize(types);
  s.order.assign(types * EntitySchema::kMaxFields, 0);
  for (std::size_t t = 0; t < types; ++t) {
    const std::size_t fields = schema.field_count(static_cast<TypeId>(t));
    header.orders[t].assign(fields, 0);
    header.always_changed[t].assign(fields, true);
    for (std::size_t f = 0; f < fields; ++f)
      s.header_deltas[t * EntitySchema::kMaxFields + f].reset();
  }
}

// Bits of a new entity's body (after its id gap): its type and every field whole.
std::size_t whole_body_bits(const EntitySchema& schema, const WorldState::Entity& entity,
                            const Scratch& s) {
  const FieldCoding* coding = coding_of(s, entity.type);
  std::size_t bits = schema.type_bits();
  for (std::size_t f = 0; f < entity.fields.size(); ++f)
    bits += coding[f].bits;
  return bits;
}

// Measures a candidate's deltas against its baseline (references predicted with the mean of the
// old and new rates): which fields changed, and the zigzag deltas of the wide ones into
// Scratch::zigzags. Returns the bits of its body (after its id gap) before the header is known:
// every field with a changed bit, deltas at Exp-Golomb order 0 (more than the header's order
// costs for large deltas, at most a bit or two less for tiny ones).
std::size_t measure_deltas(const EntitySchema& schema, const WorldState& baseline,
                           double elapsed_seconds, const EntitySelection& target, Candidate& c,
                           Scratch& s) {
  const WorldState::Entity entity = target.at(c.index);
  if (c.base == kNoBase) return whole_body_bits(schema, entity, s);
  const WorldState::Entity base = baseline.at(c.base);
  // The baseline as its own rates moved it (diff_ids() predicted it already), moved again with
  // the mean rates where they changed.
  std::uint32_t references[EntitySchema::kMaxFields];
  const std::size_t fields = entity.fields.size();
  const std::uint32_t* expected = s.expected.data() + baseline.field_offset(c.base);
  for (std::size_t f = 0; f < fields; ++f)  // std::copy would call memmove
    references[f] = expected[f];
  schema.predict_with_new_rates(entity.type, base.fields, entity.fields, elapsed_seconds,
                                std::span(references, fields));
  std::uint32_t changed = 0;
  for (std::size_t f = 0; f < fields; ++f)
    changed |= std::uint32_t{entity.fields[f] != references[f]} << f;
  c.changed = changed;
  c.deltas = static_cast<std::uint32_t>(s.zigzags_used);
  s.zigzags_used += fields;
  std::uint32_t* zigzags = s.zigzags.data() + c.deltas;
  // What the delta header is chosen from (choose_delta_header()), counted on the way: the
  // sample is exactly what it is chosen from.
  s.header.present[entity.type] = true;
  const std::uint32_t all = fields == 32 ? ~0u : (1u << fields) - 1;
  s.keeps[entity.type] |= all & ~changed;
  const FieldCoding* coding = coding_of(s, entity.type);
  DeltaWidths* widths =
      s.header_deltas.data() + std::size_t{entity.type} * EntitySchema::kMaxFields;
  std::size_t bits = fields;  // the changed bits
  // Only the changed fields cost more; most fields of most updates did not change.
  for (std::uint32_t left = changed; left != 0; left &= left - 1) {
    const auto f = static_cast<std::size_t>(std::countr_zero(left));
    const FieldCoding& field = coding[f];
    if (!field.wide) {
      bits += field.bits;
      continue;
    }
    const std::uint32_t z =
        zigzag(field_delta(references[f], entity.fields[f], field.steps, field.angle));
    zigzags[f] = z;
    widths[f].add(z);
    bits += exp_golomb_bits(z, 0);
  }
  return bits;
}

// Measures every candidate in id order, unranked, if their rough cost comes to at most twice the
// budget: then measure_sample() would take all of them in whatever order the ranking gave (the
// same sample and header), and the ranking matters only if they do not all fit (encode_snapshot).
// False, with nothing measured, once the rough cost passes that.
bool measure_all_unranked(const EntitySchema& schema, const WorldState& baseline,
                          double elapsed_seconds, const EntitySelection& target,
                          std::size_t max_bits, Scratch& s) {
  std::size_t rough = 0;
  for (Candidate& c : s.candidates) {
    rough += c.gap_floor_bits + measure_deltas(schema, baseline, elapsed_seconds, target, c, s);
    if (rough > 2 * max_bits) {
      s.zigzags_used = 0;
      reset_header_counts(schema, s);
      return false;
    }
  }
  return true;
}

// Step 3, the sample: the candidates, in priority order, that may fit this snapshot, measured.
// Without a budget, all of them; with one, those until their rough cost passes twice the budget:
// the real coding would have to be under half the rough cost for a candidate past the cut to
// fit. Returns how many there are; the rest wait for a later snapshot. Sets Scratch::unranked
// when it measured them all without ranking them.
[[gnu::noinline]] std::size_t measure_sample(const EntitySchema& schema, const WorldState& baseline,
                                             double elapsed_seconds, const EntitySelection& target,
                                             std::size_t max_bits, const EntityPriority& priority,
                                             Waiting waiting, Scratch& s) {
  // Room for every candidate's fields at once, so that measuring one does not grow it.
  s.zigzags_used = 0;
  if (s.zigzags.size() < s.candidates.size() * EntitySchema::kMaxFields)
    s.zigzags.resize(s.candidates.size() * EntitySchema::kMaxFields);
  reset_header_counts(schema, s);
  // A client whose last snapshot left nothing waiting most likely gets everything that changed
  // in this one too: the ranking is then skipped (three snapshots in four at 128 clients in
  // tickwire-bench-encode).
  s.unranked = max_bits != 0 && priority && waiting.empty() &&
               measure_all_unranked(schema, baseline, elapsed_seconds, target, max_bits, s);
  if (s.unranked) return s.candidates.size();
  std::size_t sampled = 0;
  std::size_t rough = 0;
  // Candidates ordered by priority so far (rank_candidates sorted a first batch).
  std::size_t ordered = 0;
  constexpr std::size_t kRankBatch = 64;
  for (; sampled < s.candidates.size(); ++sampled) {
    if (max_bits != 0 && rough > 2 * max_bits) break;
    if (sampled == ordered) {
      if (ordered == 0) {
        ordered = max_bits == 0 ? s.candidates.size() : kRankBatch;
        rank_candidates(target, priority, waiting, ordered, s);
      } else if (priority || !waiting.empty()) {
        rank_rest(ordered, s);
        ordered = s.candidates.size();
      } else {
        ordered = s.candidates.size();
      }
    }
    Candidate& c = s.candidates[sampled];
    rough += c.gap_floor_bits + measure_deltas(schema, baseline, elapsed_seconds, target, c, s);
  }
  return sampled;
}

// Step 4, the delta header that makes the sample's deltas shortest (into Scratch::header), from
// what measure_deltas() counted of them.
[[gnu::noinline]] void choose_delta_header(const EntitySchema& schema, Scratch& s) {
  const std::size_t types = schema.type_count();
  DeltaHeader& header = s.header;
  for (std::size_t t = 0; t < types; ++t) {
    for (std::size_t f = 0; f < header.orders[t].size(); ++f) {
      const DeltaWidths& deltas = s.header_deltas[t * EntitySchema::kMaxFields + f];
      std::size_t best_cost = SIZE_MAX;
      // Past the width of the largest delta every delta costs order + 1 bits, more with each
      // order: the orders above it cannot win, so they are not tried.
      const unsigned top = std::min(
          {schema.field_bits(static_cast<TypeId>(t), f), (1u << kOrderBits) - 1, deltas.widest});
      for (unsigned order = 0; order <= top && deltas.count != 0; ++order) {
        const std::size_t cost = deltas.cost(order);
        if (cost < best_cost) {
          best_cost = cost;
          header.orders[t][f] = static_cast<std::uint8_t>(order);
        }
      }
      s.order[t * EntitySchema::kMaxFields + f] = header.orders[t][f];
      header.always_changed[t][f] = ((s.keeps[t] >> f) & 1) == 0;
    }
    // Counted once here rather than for every candidate fitted: without -mpopcnt a popcount is a
    // library call.
    s.changed_bits[t] = static_cast<std::uint8_t>(std::popcount(s.keeps[t]));
  }
}

// The exact bits of a candidate's body under `header`.
std::size_t body_bits(const EntitySchema& schema, const EntitySelection& target, const Candidate& c,
                      const Scratch& s) {
  const WorldState::Entity entity = target.at(c.index);
  if (c.base == kNoBase) return whole_body_bits(schema, entity, s);
  const FieldCoding* coding = coding_of(s, entity.type);
  const std::uint8_t* order = s.order.data() + std::size_t{entity.type} * EntitySchema::kMaxFields;
  const std::uint32_t* zigzags = s.zigzags.data() + c.deltas;
  std::size_t bits = s.changed_bits[entity.type];
  for (std::uint32_t left = c.changed; left != 0; left &= left - 1) {
    const auto f = static_cast<std::size_t>(std::countr_zero(left));
    bits += coding[f].wide ? exp_golomb_bits(zigzags[f], order[f]) : coding[f].bits;
  }
  return bits;
}

// Step 5, the budget fit: bodies go in priority order while they fit (each charged its gap
// floor), then the real layout is measured and the least important are given back until it
// fits. Leaves the chosen candidates in Scratch::chosen in id order and reports the rest as
// deferred.
[[gnu::noinline]] void fit_budget(const EntitySchema& schema, const EntitySelection& target,
                                  std::size_t header_bits, std::size_t sampled,
                                  std::size_t max_bits, Scratch& s, EncodedSnapshot& result) {
  s.chosen.clear();
  s.waits.assign(target.size(), 0);
  s.deferred_priority.resize(target.size());
  const auto defer = [&](const Candidate& c) {
    s.waits[c.index] = 1;
    s.deferred_priority[c.index] = c.priority;
  };
  std::size_t estimate =
      header_bits + varuint_bits(static_cast<std::uint32_t>(s.candidates.size()));
  // Once this many candidates in a row did not fit, the budget is spent: the rest (lower in
  // priority) wait without being measured.
  constexpr std::size_t kMisfitsBeforeFull = 8;
  std::size_t misfits = 0;
  for (std::size_t i = 0; i < sampled; ++i) {
    Candidate& c = s.candidates[i];
    if (max_bits != 0 && misfits >= kMisfitsBeforeFull) {
      defer(c);
      continue;
    }
    c.body_bits = static_cast<std::uint32_t>(body_bits(schema, target, c, s));
    const std::size_t cost = c.gap_floor_bits + c.body_bits;
    if (max_bits != 0 && estimate + cost > max_bits) {
      defer(c);
      ++misfits;
      continue;
    }
    misfits = 0;
    estimate += cost;
    s.chosen.push_back(static_cast<std::uint32_t>(i));
  }
  for (std::size_t i = sampled; i < s.candidates.size(); ++i)
    defer(s.candidates[i]);

  // Give back the least important (the last chosen) until the real layout fits. The chosen are
  // put in id order once (marked by target index, which is id order, then collected: cheaper
  // than sorting them); each give-back removes one from that order and re-adds the gaps.
  std::vector<std::uint32_t>& by_id = s.by_id;
  s.chosen_at.assign(target.size(), 0);
  for (const std::uint32_t i : s.chosen)
    s.chosen_at[s.candidates[i].index] = i + 1;
  by_id.clear();
  for (const std::uint32_t at : s.chosen_at) {
    if (at != 0) by_id.push_back(at - 1);
  }
  const auto id_of = [&](std::uint32_t chosen) { return target.id_at(s.candidates[chosen].index); };
  std::size_t exact = header_bits + varuint_bits(static_cast<std::uint32_t>(by_id.size()));
  EntityId below = 0;
  for (const std::uint32_t i : by_id) {
    const EntityId id = id_of(i);
    exact += varuint_bits(id - below - 1) + s.candidates[i].body_bits;
    below = id;
  }
  // Each give-back updates the exact size from the neighbours of the one given back, instead
  // of adding up the whole layout again.
  while (max_bits != 0 && !s.chosen.empty() && exact > max_bits) {
    const std::uint32_t least = s.chosen.back();
    defer(s.candidates[least]);
    s.chosen.pop_back();
    const auto at = std::find(by_id.begin(), by_id.end(), least);
    const EntityId id = id_of(least);
    const EntityId before = at == by_id.begin() ? 0 : id_of(*(at - 1));
    exact -= varuint_bits(id - before - 1) + s.candidates[least].body_bits;
    if (at + 1 != by_id.end()) {
      const EntityId after = id_of(*(at + 1));
      exact = exact - varuint_bits(after - id - 1) + varuint_bits(after - before - 1);
    }
    exact = exact - varuint_bits(static_cast<std::uint32_t>(by_id.size())) +
            varuint_bits(static_cast<std::uint32_t>(by_id.size() - 1));
    by_id.erase(at);
  }
  s.chosen.swap(by_id);
  for (std::size_t t = 0; t < target.size(); ++t) {
    if (s.waits[t] != 0) result.deferred.push_back({target.id_at(t), s.deferred_priority[t]});
  }
}

// Step 6, the bit emission of the chosen bodies, in id order, after the header.
[[gnu::noinline]] void write_updates(const EntitySchema& schema, const EntitySelection& target,
                                     Scratch& s, EncodedSnapshot& result) {
  BitWriter& out = s.out;
  out.write_varuint(static_cast<std::uint32_t>(s.chosen.size()));
  CodeBatch batch(out);
  EntityId previous = 0;
  for (const std::uint32_t i : s.chosen) {
    const Candidate& c = s.candidates[i];
    const WorldState::Entity entity = target.at(c.index);
    // A varuint is the Exp-Golomb code of order 0.
    batch.add(exp_golomb_code(entity.id - previous - 1, 0));
    previous = entity.id;
    result.included.push_back(entity.id);
    const FieldCoding* coding = coding_of(s, entity.type);
    if (c.base == kNoBase) {
      batch.add(entity.type, schema.type_bits());
      for (std::size_t f = 0; f < entity.fields.size(); ++f)
        batch.add(entity.fields[f], coding[f].bits);
      continue;
    }
    const std::uint8_t* order =
        s.order.data() + std::size_t{entity.type} * EntitySchema::kMaxFields;
    const std::uint32_t keeps = s.keeps[entity.type];
    const std::uint32_t* zigzags = s.zigzags.data() + c.deltas;
    for (const std::size_t f : schema.coding_order(entity.type)) {
      // The changed bit, if the field has one, then the field's code if it changed.
      const unsigned changed_bits = (keeps >> f) & 1;
      if (((c.changed >> f) & 1) == 0) {
        batch.add(0, changed_bits);
      } else if (coding[f].wide) {
        batch.add(exp_golomb_code(zigzags[f], order[f]), 1, changed_bits);
      } else {
        const std::uint64_t changed_bit = changed_bits;  // 1: changed, if it has the bit
        batch.add((changed_bit << coding[f].bits) | entity.fields[f],
                  changed_bits + coding[f].bits);
      }
    }
  }
  batch.flush();
}

// Step 7, the client's view: the expected baseline minus removals, with the chosen updates.
[[gnu::noinline]] WorldState build_view(const WorldState& baseline, const EntitySelection& target,
                                        const Scratch& s, WorldState recycled) {
  WorldStateAssembler view(std::move(recycled));
  std::size_t b = 0, r = 0, c = 0;
  const auto expected_fields = [&](std::size_t index) {
    return std::span(s.expected.data() + baseline.field_offset(index),
                     baseline.at(index).fields.size());
  };
  while (b < baseline.size() || c < s.chosen.size()) {
    const EntityId next_update =
        c < s.chosen.size() ? target.at(s.candidates[s.chosen[c]].index).id : 0;
    const bool take_base =
        c == s.chosen.size() || (b < baseline.size() && baseline.at(b).id < next_update);
    if (take_base) {
      const EntityId id = baseline.at(b).id;
      while (r < s.removed.size() && s.removed[r] < id)
        ++r;
      if (!(r < s.removed.size() && s.removed[r] == id))
        view.append(id, baseline.at(b).type, expected_fields(b));
      ++b;
    } else {
      const WorldState::Entity entity = target.at(s.candidates[s.chosen[c++]].index);
      if (b < baseline.size() && baseline.at(b).id == entity.id) ++b;  // replaced by the update
      view.append(entity.id, entity.type, entity.fields);
    }
  }
  return view.finish();
}

}  // namespace

void encode_snapshot(const EntitySchema& schema, const WorldState& baseline, double elapsed_seconds,
                     const EntitySelection& target, std::size_t max_bits,
                     const EntityPriority& priority, EncodedSnapshot& result,
                     std::span<const EncodedSnapshot::Deferred> waiting) {
  Scratch& s = thread_scratch();
  gather_field_coding(schema, s);
  result.bits = 0;
  result.included.clear();
  result.deferred.clear();
  diff_ids(schema, baseline, elapsed_seconds, target, s);
  const std::size_t sampled =
      measure_sample(schema, baseline, elapsed_seconds, target, max_bits, priority, waiting, s);
  choose_delta_header(schema, s);

  BitWriter& out = s.out;
  out.clear();
  out.write_varuint(static_cast<std::uint32_t>(s.removed.size()));
  EntityId previous = 0;
  for (const EntityId id : s.removed) {
    out.write_varuint(id - previous - 1);
    previous = id;
  }
  write_delta_header(out, schema, s.header);
  fit_budget(schema, target, out.bit_count(), sampled, max_bits, s, result);
  if (s.unranked && !result.deferred.empty()) {
    // Not all of them fit: which do is the ranking's to say. (When all fit, they fit in any
    // order, and the chosen come out in id order either way.)
    result.deferred.clear();
    rank_candidates(target, priority, waiting, s.candidates.size(), s);
    fit_budget(schema, target, out.bit_count(), sampled, max_bits, s, result);
  }
  write_updates(schema, target, s, result);

  result.view = build_view(baseline, target, s, std::move(result.view));
  result.bits = out.bit_count();
  result.bytes.assign(out.bytes().begin(), out.bytes().end());
}

EncodedSnapshot encode_snapshot(const EntitySchema& schema, const WorldState& baseline,
                                double elapsed_seconds, const EntitySelection& target,
                                std::size_t max_bits, const EntityPriority& priority,
                                WorldState recycled_view) {
  EncodedSnapshot result;
  result.view = std::move(recycled_view);
  encode_snapshot(schema, baseline, elapsed_seconds, target, max_bits, priority, result);
  return result;
}

}  // namespace tickwire::sim::detail
