#include "tickwire/sim/world_state.hpp"

#include <algorithm>

namespace tickwire::sim {

void WorldState::Builder::set(EntityId id, TypeId type, std::span<const std::uint32_t> fields) {
  pending_.push_back({id, type, static_cast<std::uint32_t>(values_.size()),
                      static_cast<std::uint32_t>(fields.size()),
                      static_cast<std::uint32_t>(pending_.size())});
  values_.insert(values_.end(), fields.begin(), fields.end());
}

void WorldState::Builder::set_values(const EntitySchema& schema, EntityId id, TypeId type,
                                     std::span<const double> values) {
  std::uint32_t quantized[EntitySchema::kMaxFields];
  schema.quantize(type, values, std::span(quantized, values.size()));
  set(id, type, std::span(quantized, values.size()));
}

void WorldState::Builder::clear() {
  pending_.clear();
  values_.clear();
}

WorldState WorldState::Builder::build() {
  // Sort by id, the last set() of an id first among equals, then keep the first of each id.
  std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.id != b.id ? a.id < b.id : a.order > b.order;
  });
  WorldStateAssembler assembler;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (i > 0 && pending_[i].id == pending_[i - 1].id) continue;
    const Pending& entity = pending_[i];
    assembler.append(entity.id, entity.type,
                     std::span(values_.data() + entity.offset, entity.count));
  }
  clear();
  return assembler.finish();
}

WorldStateAssembler::WorldStateAssembler(WorldState recycled) : state_(std::move(recycled)) {
  // Every buffer at the capacity it has: appending writes in place until it is full.
  state_.ids_.resize(state_.ids_.capacity());
  state_.types_.resize(state_.ids_.size());
  state_.offsets_.resize(state_.ids_.size() + 1);
  state_.values_.resize(state_.values_.capacity());
  state_.offsets_[0] = 0;
}

void WorldStateAssembler::grow(std::size_t fields) {
  // Doubled where full (reserve() leaves what has room as it is).
  const bool no_entity_room = entities_ == state_.ids_.size();
  const bool no_field_room = state_.values_.size() - values_ < fields;
  reserve(no_entity_room ? std::max<std::size_t>(2 * entities_, 16) : 0,
          no_field_room ? std::max(2 * state_.values_.size(), values_ + fields) : 0);
}

void WorldStateAssembler::reserve(std::size_t entities, std::size_t fields) {
  if (state_.ids_.size() < entities) {
    state_.ids_.resize(entities);
    state_.types_.resize(entities);
    state_.offsets_.resize(entities + 1);
    // New elements are not zeroed (DefaultInitAllocator): append() writes every other offset,
    // and an assembler made empty, or emptied by finish(), gets its first one here.
    state_.offsets_[0] = 0;
  }
  if (state_.values_.size() < fields) state_.values_.resize(fields);
}

WorldState WorldStateAssembler::finish() {
  state_.ids_.resize(entities_);
  state_.types_.resize(entities_);
  // No entities, no offsets (WorldState::field_offset).
  state_.offsets_.resize(entities_ == 0 ? 0 : entities_ + 1);
  state_.values_.resize(values_);
  WorldState out = std::move(state_);
  state_ = WorldState();
  entities_ = 0;
  values_ = 0;
  return out;
}

void WorldState::predict_fields(const EntitySchema& schema, double elapsed_seconds,
                                std::vector<std::uint32_t>& predicted) const {
  predict_into(schema, elapsed_seconds, predicted);
}

template <typename Values>
void WorldState::predict_into(const EntitySchema& schema, double elapsed_seconds,
                              Values& predicted) const {
  // Copied at once, then only the fields with a rate are moved: most fields have none.
  predicted.assign(values_.begin(), values_.end());
  if (elapsed_seconds == 0) return;
  for (std::size_t i = 0; i < size(); ++i) {
    if (!schema.has_rates(types_[i])) continue;
    const std::size_t first = offsets_[i];
    const std::size_t count = offsets_[i + 1] - first;
    schema.move_rate_fields(types_[i], std::span(values_.data() + first, count), elapsed_seconds,
                            std::span(predicted.data() + first, count));
  }
}

WorldState WorldState::predicted(const EntitySchema& schema, double elapsed_seconds) const {
  WorldState out;
  out.ids_ = ids_;
  out.types_ = types_;
  out.offsets_ = offsets_;
  predict_into(schema, elapsed_seconds, out.values_);
  return out;
}

std::optional<std::size_t> WorldState::index_of(EntityId id) const {
  const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return std::nullopt;
  return static_cast<std::size_t>(it - ids_.begin());
}

std::optional<WorldState::Entity> WorldState::find(EntityId id) const {
  const auto index = index_of(id);
  if (!index) return std::nullopt;
  return at(*index);
}

std::uint64_t WorldState::hash() const {
  std::uint64_t hash = 14695981039346656037ull;
  const auto mix = [&hash](std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
      hash ^= (value >> (8 * i)) & 0xFFu;
      hash *= 1099511628211ull;
    }
  };
  for (std::size_t i = 0; i < size(); ++i) {
    const Entity entity = at(i);
    mix(entity.id);
    mix(entity.type);
    for (const std::uint32_t field : entity.fields)
      mix(field);
  }
  return hash;
}

}  // namespace tickwire::sim
