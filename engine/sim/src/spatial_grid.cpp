// The grid is one vector of entries sorted by cell, rows in the high bits of the key: the cells
// of one row that a circle touches are one contiguous run, found with one binary search. No
// per-cell containers, so a fill allocates nothing once the vector has grown.

#include "tickwire/sim/spatial_grid.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

namespace tickwire::sim {

Result<SpatialGrid> SpatialGrid::create(double cell_size) {
  if (!(cell_size > 0) || !std::isfinite(cell_size))
    return Status::error("cell_size = " + std::to_string(cell_size) +
                         " is invalid: use a finite size above 0");
  return SpatialGrid(cell_size);
}

SpatialGrid::SpatialGrid(double cell_size) : cell_size_(cell_size), inverse_cell_(1 / cell_size) {
  assert(cell_size > 0 && std::isfinite(cell_size));
}

void SpatialGrid::clear() {
  entries_.clear();
  built_ = true;
}

std::int64_t SpatialGrid::coordinate(double v) const {
  // Far-off coordinates share the outermost cells: still correct (distances are checked), only
  // slower, and no overflow.
  constexpr double kLimit = 2147483647.0;
  return static_cast<std::int64_t>(std::clamp(std::floor(v * inverse_cell_), -kLimit, kLimit));
}

namespace {
std::uint64_t key_of(std::int64_t column, std::int64_t row) {
  // Biased so that unsigned order is signed order.
  const auto biased = [](std::int64_t v) {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(v) ^ 0x80000000u);
  };
  return (biased(row) << 32) | biased(column);
}
}  // namespace

std::uint64_t SpatialGrid::cell_of(double x, double y) const {
  return key_of(coordinate(x), coordinate(y));
}

void SpatialGrid::insert(std::uint32_t index, double x, double y) {
  assert(std::isfinite(x) && std::isfinite(y));
  entries_.push_back({cell_of(x, y), index, x, y});
  built_ = false;
}

void SpatialGrid::build() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.cell != b.cell ? a.cell < b.cell : a.index < b.index;
  });
  built_ = true;
}

void SpatialGrid::within(double x, double y, double radius, std::vector<std::uint32_t>& out) const {
  assert(built_);
  if (!(radius >= 0)) return;
  const std::int64_t left = coordinate(x - radius), right = coordinate(x + radius);
  const std::int64_t bottom = coordinate(y - radius), top = coordinate(y + radius);
  const double squared = radius * radius;
  for (std::int64_t row = bottom; row <= top; ++row) {
    const std::uint64_t first = key_of(left, row), last = key_of(right, row);
    auto it = std::lower_bound(entries_.begin(), entries_.end(), first,
                               [](const Entry& e, std::uint64_t key) { return e.cell < key; });
    for (; it != entries_.end() && it->cell <= last; ++it) {
      const double dx = it->x - x, dy = it->y - y;
      if (dx * dx + dy * dy <= squared) out.push_back(it->index);
    }
  }
}

}  // namespace tickwire::sim
