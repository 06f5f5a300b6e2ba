#include "bit_stream.hpp"

#include <bit>

namespace tickwire::sim::detail {

void BitWriter::write(std::uint32_t value, unsigned bits) {
  for (unsigned i = bits; i > 0; --i) {
    const std::size_t byte = bit_count_ / 8;
    if (byte == bytes_.size()) bytes_.push_back(0);
    if (((value >> (i - 1)) & 1u) != 0) {
      bytes_[byte] = static_cast<std::uint8_t>(bytes_[byte] | (0x80u >> (bit_count_ % 8)));
    }
    ++bit_count_;
  }
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
  std::uint32_t value = 0;
  for (unsigned i = 0; i < bits; ++i) {
    const std::uint8_t byte = bytes_[position_ / 8];
    value = (value << 1) | ((byte >> (7 - position_ % 8)) & 1u);
    ++position_;
  }
  return value;
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
