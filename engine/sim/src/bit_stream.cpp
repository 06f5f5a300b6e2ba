#include "bit_stream.hpp"

#include <bit>

namespace tickwire::sim::detail {

void BitWriter::write(std::uint32_t value, unsigned bits) {
  if (bits == 0) return;
  if (bits < 32) value &= (1u << bits) - 1;
  // The value placed in a 64-bit window right after the bits already used of the last byte
  // (at most 7 + 32 bits), then copied out a byte at a time, most significant first: one step
  // per byte rather than per partial byte.
  const auto used = static_cast<unsigned>(bit_count_ % 8);
  const unsigned total = used + bits;
  std::uint64_t window = std::uint64_t{value} << (64 - total);
  unsigned whole_bytes = (total + 7) / 8;
  if (used != 0) {
    bytes_.back() = static_cast<std::uint8_t>(bytes_.back() | (window >> 56));
    window <<= 8;
    --whole_bytes;
  }
  for (unsigned i = 0; i < whole_bytes; ++i) {
    bytes_.push_back(static_cast<std::uint8_t>(window >> 56));
    window <<= 8;
  }
  bit_count_ += bits;
}

void BitWriter::write_varuint(std::uint32_t value) {
  // Elias gamma of value + 1, in 64 bits so that value = 2^32 - 1 still fits.
  const std::uint64_t coded = std::uint64_t{value} + 1;
  const auto length = static_cast<unsigned>(std::bit_width(coded));  // 1..33
  write(0, length - 1);
  if (length > 32) {
    write(1, 1);
    write(static_cast<std::uint32_t>(coded), 32);
  } else {
    write(static_cast<std::uint32_t>(coded), length);
  }
}

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
