#pragma once
// What encode_snapshot()'s steps share: the candidates, the per-field coding table and one
// thread's scratch buffers. snapshot_encoder.cpp has the steps that decide what is worth sending
// (the id diff, the ranking, the measuring, the delta header) and runs them all;
// snapshot_output.cpp has those that send it (the budget fit, the bit emission, the view the
// client will hold).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bit_stream.hpp"
#include "delta_coding.hpp"
#include "delta_widths.hpp"
#include "snapshot_codec.hpp"

namespace tickwire::sim::detail::encoding {

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

inline const FieldCoding* coding_of(const Scratch& s, TypeId type) {
  return s.coding.data() + std::size_t{type} * EntitySchema::kMaxFields;
}

// Bits of a new entity's body (after its id gap): its type and every field whole.
inline std::size_t whole_body_bits(const EntitySchema& schema, const WorldState::Entity& entity,
                                   const Scratch& s) {
  const FieldCoding* coding = coding_of(s, entity.type);
  std::size_t bits = schema.type_bits();
  for (std::size_t f = 0; f < entity.fields.size(); ++f)
    bits += coding[f].bits;
  return bits;
}

// Step 5, the budget fit: bodies go in priority order while they fit (each charged its gap
// floor), then the real layout is measured and the least important are given back until it
// fits. Leaves the chosen candidates in Scratch::chosen in id order and reports the rest as
// deferred.
void fit_budget(const EntitySchema& schema, const EntitySelection& target, std::size_t header_bits,
                std::size_t sampled, std::size_t max_bits, Scratch& s, EncodedSnapshot& result);
// Step 6, the bit emission of the chosen bodies, in id order, after the header.
void write_updates(const EntitySchema& schema, const EntitySelection& target, Scratch& s,
                   EncodedSnapshot& result);
// Step 7, the client's view: the expected baseline minus removals, with the chosen updates.
WorldState build_view(const WorldState& baseline, const EntitySelection& target, const Scratch& s,
                      WorldState recycled);

}  // namespace tickwire::sim::detail::encoding
