#pragma once
// Which entities are near a point, without walking the world: a uniform grid over the plane that
// a server fills once per snapshot tick (one insert per entity) and that each client's interest
// query then reads (only the cells a circle touches). It answers ServerReplicator::interest
// (relevancy) in time proportional to what is near, not to the size of the world.
//
// It knows nothing of fields or schemas: the game inserts each entity's position under its
// index in the WorldState being replicated. Two dimensions only (a 3D game with little height
// can ignore height; one with much needs another index). Queries only read, so several encoding
// threads may query one grid at once while nothing inserts.

#include <cstdint>
#include <vector>

#include "tickwire/status.hpp"

namespace tickwire::sim {

class SpatialGrid {
 public:
  // `cell_size` is in the game's own units (metres in the Arena), > 0 and finite. A cell about
  // the size of the query radius (or a third of it) keeps queries to a handful of cells.
  static Result<SpatialGrid> create(double cell_size);
  // `cell_size` must be valid (asserted in debug builds only): create() checks it.
  explicit SpatialGrid(double cell_size);

  // Empties the grid, keeping its storage.
  void clear();
  // Adds the entity at `index` (its position in the WorldState replicated) at (x, y). Finite
  // coordinates only; after inserts, call build() before querying.
  void insert(std::uint32_t index, double x, double y);
  // Sorts what was inserted into its cells (n log n, once per fill).
  void build();

  // Appends to `out` the index of every entity within `radius` of (x, y) (distance <= radius),
  // in no particular order. Needs build() after the last insert.
  void within(double x, double y, double radius, std::vector<std::uint32_t>& out) const;

  std::size_t size() const { return entries_.size(); }
  double cell_size() const { return cell_size_; }

 private:
  struct Entry {
    std::uint64_t cell;  // row in the high 32 bits, column in the low ones, both biased
    std::uint32_t index;
    double x, y;
  };
  std::uint64_t cell_of(double x, double y) const;
  std::int64_t coordinate(double v) const;

  double cell_size_;
  double inverse_cell_;
  std::vector<Entry> entries_;  // sorted by cell once built
  bool built_ = true;
};

}  // namespace tickwire::sim
