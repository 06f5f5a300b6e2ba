// encode_snapshot, in the steps a snapshot is made of: the id diff against the client's
// baseline, the priority ranking of what changed, the delta header, the budget fit and the bit
// emission, then the view the client will hold. The first four are here, the last three in
// snapshot_output.cpp; snapshot_encoder_steps.hpp holds what they share.
//
// It runs once per client per snapshot, so every step is linear in the entities or better, and
// reuses one scratch area per thread instead of allocating: with hundreds of clients and
// entities, the allocations and the per-entity lookups were most of a server tick. The steps are
// kept out of line ([[gnu::noinline]]): inlined into encode_snapshot() they ran about 2 % more
// instructions (callgrind of tickwire-bench-encode).

#include <algorithm>
#include <bit>

#include "snapshot_encoder_steps.hpp"

namespace tickwire::sim::detail {
namespace encoding {
namespace {
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

}  // namespace
}  // namespace encoding

void encode_snapshot(const EntitySchema& schema, const WorldState& baseline, double elapsed_seconds,
                     const EntitySelection& target, std::size_t max_bits,
                     const EntityPriority& priority, EncodedSnapshot& result,
                     std::span<const EncodedSnapshot::Deferred> waiting) {
  using namespace encoding;  // the steps
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
