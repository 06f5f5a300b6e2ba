// encode_snapshot()'s last steps, once the sample is measured and the delta header chosen:
// the budget fit, the bit emission and the view the client will hold
// (snapshot_encoder_steps.hpp says what each does).

#include <algorithm>
#include <bit>

#include "snapshot_encoder_steps.hpp"

namespace tickwire::sim::detail::encoding {
namespace {

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

}  // namespace

void fit_budget(const EntitySchema& schema, const EntitySelection& target, std::size_t header_bits,
                std::size_t sampled, std::size_t max_bits, Scratch& s, EncodedSnapshot& result) {
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

void write_updates(const EntitySchema& schema, const EntitySelection& target, Scratch& s,
                   EncodedSnapshot& result) {
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

WorldState build_view(const WorldState& baseline, const EntitySelection& target, const Scratch& s,
                      WorldState recycled) {
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

}  // namespace tickwire::sim::detail::encoding
