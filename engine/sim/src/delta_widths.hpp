#pragma once
// The Exp-Golomb cost of a field's deltas at every order, counted once as the deltas are seen:
// the encoder picks each field's order for a snapshot from these counts.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tickwire::sim::detail {

// What the Exp-Golomb cost of a field's deltas depends on, counted as the deltas are seen, so
// that each order's total cost is found without going over the deltas again. A delta z of w
// significant bits whose top bits are o ones costs, at order k,
//   k - 1 + 2 * bit_width((z >> k) + 1)  =  k - 1 + 2 * (max(w - k, 0) + (w - o <= k ? 1 : 0))
// bits (exp_golomb_bits(): z + 2^k carries into a new top bit exactly when z >> k is all ones).
struct DeltaWidths {
  std::uint32_t count = 0;
  std::uint32_t widest = 0;              // the largest w
  std::uint32_t by_width[33] = {};       // deltas with w significant bits
  std::uint32_t by_zero_start[33] = {};  // deltas whose bits below the top ones are w - o
  void add(std::uint32_t z) {
    const auto width = static_cast<std::uint32_t>(std::bit_width(z));
    const auto ones =
        width == 0 ? 0u : static_cast<std::uint32_t>(std::countl_one(z << (32 - width)));
    ++count;
    widest = std::max(widest, width);
    ++by_width[width];
    ++by_zero_start[width - ones];
  }
  // Back to no deltas, clearing only the counts that add() can have touched (up to `widest`):
  // the whole arrays, for every field of every type, were a noticeable part of each snapshot.
  void reset() {
    std::fill_n(by_width, widest + 1, 0u);
    std::fill_n(by_zero_start, widest + 1, 0u);
    count = 0;
    widest = 0;
  }
  // The sum of exp_golomb_bits(z, order) over the deltas added.
  std::size_t cost(unsigned order) const {
    std::int64_t bits = std::int64_t{count} * (static_cast<std::int64_t>(order) - 1);
    for (std::uint32_t w = order + 1; w <= widest; ++w)
      bits += 2 * std::int64_t{by_width[w]} * (w - order);
    for (std::uint32_t j = 0; j <= order && j <= widest; ++j)
      bits += 2 * std::int64_t{by_zero_start[j]};
    return static_cast<std::size_t>(bits);
  }
};

}  // namespace tickwire::sim::detail
