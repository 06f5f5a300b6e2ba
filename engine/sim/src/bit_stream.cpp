#include "bit_stream.hpp"

#include <bit>

namespace tickwire::sim::detail {

std::uint32_t BitReader::read(unsigned bits) {
  if (!ok_ || bits > bits_left()) {
    ok_ = false;
    return 0;
  }
  std::uint64_t value = 0;
  while (bits > 0) {
    const unsigned used = static_cast<unsigned>(position_ % 8);
    const unsigned room = 8 - used;
    const unsigned take = bits < room ? bits : room;
    const unsigned byte = bytes_[position_ / 8];
    value = (value << take) | ((byte >> (room - take)) & ((1u << take) - 1));
    bits -= take;
    position_ += take;
  }
  return static_cast<std::uint32_t>(value);
}

std::uint32_t BitReader::read_varuint() {
  unsigned zeros = 0;
  while (ok_ && read(1) == 0) {
    if (++zeros > 32) {
      ok_ = false;  // longer than any value we write
      return 0;
    }
  }
  if (!ok_) return 0;
  // The leading 1 was consumed; `zeros` more bits follow.
  std::uint64_t coded = 1;
  for (unsigned i = 0; i < zeros; ++i)
    coded = (coded << 1) | read(1);
  if (!ok_) return 0;
  return static_cast<std::uint32_t>(coded - 1);
}

}  // namespace tickwire::sim::detail
