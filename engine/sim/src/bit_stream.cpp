#include "bit_stream.hpp"

#include <algorithm>
#include <bit>

namespace tickwire::sim::detail {

void BitWriter::grow(std::size_t needed) {
  // Doubled (zero-filled), so that a snapshot grows it a few times at most, and the first time
  // to a size that holds a small snapshot whole.
  buffer_.resize(std::max(2 * buffer_.size(), needed + 64));
}

std::uint32_t BitReader::read(unsigned bits) {
  if (!ok_ || bits > bits_left()) {
    ok_ = false;
    return 0;
  }
  if (bits == 0) return 0;
  const std::size_t at = position_ / 8;
  if (bytes_.size() - at >= 8) {
    // The 8 bytes from the one holding the next bit, as one big-endian word: the bits wanted
    // (at most 7 + 32 from that byte's start) are in it.
    const std::uint64_t word = load_big_endian(bytes_.data() + at);
    const auto used = static_cast<unsigned>(position_ % 8);
    position_ += bits;
    return static_cast<std::uint32_t>((word << used) >> (64 - bits));
  }
  // Near the end, a byte at a time.
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
