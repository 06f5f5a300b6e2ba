#pragma once
// The replicated state of a world at one tick: entities sorted by id, each with its type and its
// fields already quantized by an EntitySchema. Immutable once built; cheap to read by index.

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"

namespace tickwire::sim {
namespace detail {

// std::allocator, except that a vector's resize() leaves new elements default-initialized
// (numbers: not zeroed). WorldStateAssembler sizes a state's vectors to their capacity and writes
// every element it appends before anything reads one (WorldStateAssembler::reserve() says how
// the first offset gets its 0), so zeroing them first was waste: 2.7 % of a client's snapshot
// decoding at 256 players (callgrind of tickwire-bench-encode), less on the server's side.
template <typename T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  using is_always_equal = std::true_type;
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* at) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(at)) U;
  }
  template <typename U, typename... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }
};

template <typename T>
using DefaultInitVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace detail

class WorldState {
 public:
  struct Entity {
    EntityId id;
    TypeId type;
    std::span<const std::uint32_t> fields;  // quantized, one per field of the type
  };

  // Collects entities in any order; build() sorts them. Setting an id twice keeps the last.
  class Builder {
   public:
    void set(EntityId id, TypeId type, std::span<const std::uint32_t> quantized_fields);
    // Quantizes `values` (one per field of `type`) with `schema` and sets them.
    void set_values(const EntitySchema& schema, EntityId id, TypeId type,
                    std::span<const double> values);
    WorldState build();
    void clear();

   private:
    struct Pending {
      EntityId id;
      TypeId type;
      std::uint32_t offset;
      std::uint32_t count;
      std::uint32_t order;
    };
    std::vector<Pending> pending_;
    std::vector<std::uint32_t> values_;
  };

  std::size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }
  // Inline: encoders call it for every entity of every client's snapshot.
  Entity at(std::size_t index) const {
    return {ids_[index], types_[index],
            std::span(values_.data() + offsets_[index], offsets_[index + 1] - offsets_[index])};
  }
  EntityId id_at(std::size_t index) const { return ids_[index]; }
  // Where the fields of the entity at `index` start among all entities' fields, laid out in
  // index order; field_offset(size()) is the count of all fields. Lets a caller keep a per-field
  // array parallel to this state's fields.
  std::size_t field_offset(std::size_t index) const {
    return offsets_.empty() ? 0 : offsets_[index];
  }
  // Every entity's fields as `schema` predicts them `elapsed_seconds` later
  // (EntitySchema::predict), laid out as field_offset() says, into `predicted` (resized; its
  // buffer is reused). What an encoder compares the next state with.
  void predict_fields(const EntitySchema& schema, double elapsed_seconds,
                      std::vector<std::uint32_t>& predicted) const;
  // This state with every entity's fields predicted so.
  WorldState predicted(const EntitySchema& schema, double elapsed_seconds) const;
  // The entity with this id, if present (binary search).
  std::optional<Entity> find(EntityId id) const;
  std::optional<std::size_t> index_of(EntityId id) const;

  // A 64-bit FNV-1a hash of every id, type and field: equal states hash equal on every machine.
  std::uint64_t hash() const;

  bool operator==(const WorldState& other) const = default;

 private:
  friend class WorldStateAssembler;
  // predict_fields() into either kind of vector.
  template <typename Values>
  void predict_into(const EntitySchema& schema, double elapsed_seconds, Values& predicted) const;

  detail::DefaultInitVector<EntityId> ids_;
  detail::DefaultInitVector<TypeId> types_;
  detail::DefaultInitVector<std::uint32_t>
      offsets_;  // size() + 1 entries: fields of i are [offsets_[i], offsets_[i+1])
  detail::DefaultInitVector<std::uint32_t> values_;
};

// Appends entities in increasing id order, for decoders that produce them sorted already.
class WorldStateAssembler {
 public:
  WorldStateAssembler() = default;
  // Builds into `recycled`'s buffers (emptied first): no allocation once they are large enough.
  explicit WorldStateAssembler(WorldState recycled);
  // False (and nothing appended) if `id` is not greater than the last id appended. Inline:
  // encoders and decoders append every entity of every snapshot.
  bool append(EntityId id, TypeId type, std::span<const std::uint32_t> fields) {
    if (entities_ != 0 && id <= state_.ids_[entities_ - 1]) return false;
    if (entities_ == state_.ids_.size() || state_.values_.size() - values_ < fields.size())
      grow(fields.size());
    state_.ids_[entities_] = id;
    state_.types_[entities_] = type;
    std::uint32_t* values = state_.values_.data() + values_;
    for (std::size_t f = 0; f < fields.size(); ++f)  // std::copy of a few fields calls memmove
      values[f] = fields[f];
    values_ += fields.size();
    state_.offsets_[++entities_] = static_cast<std::uint32_t>(values_);
    return true;
  }
  // Room for `entities` entities with `fields` fields in all, so that appending them allocates
  // nothing more.
  void reserve(std::size_t entities, std::size_t fields);
  WorldState finish();

 private:
  // Makes room for one more entity with `fields` fields. The state's vectors are kept at their
  // full size while assembling (what is appended is written in place, without a push_back per
  // value) and cut to what was appended by finish().
  void grow(std::size_t fields);

  WorldState state_;
  std::size_t entities_ = 0;  // appended so far
  std::size_t values_ = 0;    // their fields
};

}  // namespace tickwire::sim
