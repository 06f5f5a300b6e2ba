#pragma once
// The bit-packed body of a snapshot: what changed between the state a client is known to have
// (its baseline) and the state it should have. Unchanged entities cost nothing; removals cost an
// id gap; changed fields cost a few bits of delta; new entities are sent whole. A bit budget
// picks the most important changes first and defers the rest to later snapshots.
//
// Layout: varuint removed count, then the removed ids as gaps; the Exp-Golomb order of each
// field's deltas in this snapshot; varuint updated count, then per
// updated entity its id gap and either (id in baseline) per field a changed bit and a delta, or
// (new id) its type and every field whole.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"
#include "tickwire/sim/replicator.hpp"
#include "tickwire/sim/world_state.hpp"

namespace tickwire::sim::detail {

// The entities a snapshot is encoded from: a whole world, or the part of it a client may see,
// given as indices into the world in increasing order. A server used to copy each client's part
// into a WorldState of its own every snapshot; reading through the indices costs nothing more.
class EntitySelection {
 public:
  // The whole world. Implicit: most callers encode a world as it is.
  EntitySelection(const WorldState& world)  // NOLINT(google-explicit-constructor)
      : world_(&world), size_(world.size()) {}
  // world.at(indices[0]), world.at(indices[1]), ...; indices strictly increasing, all in range.
  EntitySelection(const WorldState& world, std::span<const std::uint32_t> indices)
      : world_(&world), indices_(indices.data()), size_(indices.size()) {}

  std::size_t size() const { return size_; }
  WorldState::Entity at(std::size_t i) const { return world_->at(world_index(i)); }
  EntityId id_at(std::size_t i) const { return world_->id_at(world_index(i)); }

 private:
  std::size_t world_index(std::size_t i) const { return indices_ != nullptr ? indices_[i] : i; }
  const WorldState* world_;
  const std::uint32_t* indices_ = nullptr;
  std::size_t size_;
};

struct EncodedSnapshot {
  std::vector<std::uint8_t> bytes;
  std::size_t bits = 0;
  // What the client holds after applying this snapshot to its baseline: the baseline with the
  // removals and the included updates. Deltas of later snapshots are taken against it.
  WorldState view;
  std::vector<EntityId> included;  // updated entities that fit the budget
  // Changed or new entities left for a later snapshot, in id order, with the priority they had
  // in this one (1 without a priority function).
  struct Deferred {
    EntityId id;
    float priority;
  };
  std::vector<Deferred> deferred;
};

// Encodes `target` against `baseline` (an empty baseline gives a full snapshot), which is
// `elapsed_seconds` older: fields with a rate are compared with where the rate moved them.
// `max_bits` = 0 means no budget. `priority`, if set, orders the changed entities (higher first;
// ties by id); it is called at most once per changed entity, in increasing id order, and not at
// all when every change fits and nothing waits (no `waiting`, below). `recycled_view` is storage
// for the result's view (an old view whose buffers are reused). Thread-safe: calls on different
// threads share nothing but their arguments.
EncodedSnapshot encode_snapshot(const EntitySchema& schema, const WorldState& baseline,
                                double elapsed_seconds, const EntitySelection& target,
                                std::size_t max_bits, const EntityPriority& priority,
                                WorldState recycled_view = {});
// The same into `result`, whose buffers are reused (a server keeps one per client, so that a
// snapshot allocates nothing once they have grown): its view is the storage for the new view,
// its other contents are replaced. `waiting`, in id order (a previous snapshot's `deferred`),
// adds to an entity's priority what it accumulated while it waited: its priority is then
// priority(entity) (or 1) plus that. It must not be `result.deferred`.
void encode_snapshot(const EntitySchema& schema, const WorldState& baseline, double elapsed_seconds,
                     const EntitySelection& target, std::size_t max_bits,
                     const EntityPriority& priority, EncodedSnapshot& result,
                     std::span<const EncodedSnapshot::Deferred> waiting = {});

// Applies an encoded body to `baseline`. Nothing on failure: truncated or garbage bytes, unknown
// types, out-of-range values, ids out of order, or more than `max_entities` entities.
std::optional<WorldState> decode_snapshot(const EntitySchema& schema, const WorldState& baseline,
                                          double elapsed_seconds,
                                          std::span<const std::uint8_t> bytes,
                                          std::size_t max_entities);

}  // namespace tickwire::sim::detail
