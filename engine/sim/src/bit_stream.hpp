#pragma once
// Bit-level packing for snapshot payloads. The writer appends values of 1..32 bits; the reader
// reads them back and, on any read past the end, latches a failure instead of reading out of
// bounds: the caller checks ok() once at the end, so a decoder for untrusted bytes needs no
// check after every field.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace tickwire::sim::detail {

// The 8 bytes at `bytes` as one big-endian word, and back: both streams move bits a word at a
// time.
inline std::uint64_t load_big_endian(const std::uint8_t* bytes) {
  std::uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof word);
  return std::endian::native == std::endian::little ? __builtin_bswap64(word) : word;
}
inline void store_big_endian(std::uint8_t* bytes, std::uint64_t word) {
  if (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
  std::memcpy(bytes, &word, sizeof word);
}

class BitWriter {
 public:
  // Appends the low `bits` bits of `value`, most significant first. bits in 0..kMaxWriteBits.
  // Inline: a snapshot encoder calls it for every field it sends.
  void write(std::uint64_t value, unsigned bits) {
    if (bits == 0) return;
    value &= ~std::uint64_t{0} >> (64 - bits);
    // The value is ORed into the 8 bytes from the one holding the next bit, read as one
    // big-endian word: the bytes past the bits written are kept zero, and the value (at most
    // 7 + 57 bits from that byte's start) fits in the word. One load and store per value
    // instead of one append per byte.
    const std::size_t at = bit_count_ / 8;
    const auto used = static_cast<unsigned>(bit_count_ % 8);
    if (buffer_.size() < at + 8) grow(at + 8);
    std::uint8_t* word = buffer_.data() + at;
    store_big_endian(word, load_big_endian(word) | (value << (64 - used - bits)));
    bit_count_ += bits;
  }
  // What one write() takes: a word less the 7 bits of a byte already begun.
  static constexpr unsigned kMaxWriteBits = 57;
  void write_bool(bool value) { write(value ? 1u : 0u, 1); }
  // Small unsigned values cheaply: 0 costs 1 bit, < 2^k costs about 2k bits (Elias gamma of v+1).
  void write_varuint(std::uint32_t value) {
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

  std::size_t bit_count() const { return bit_count_; }
  // The bytes so far; the last byte is zero-padded.
  std::span<const std::uint8_t> bytes() const {
    return std::span(buffer_.data(), (bit_count_ + 7) / 8);
  }
  void clear() {
    if (bit_count_ != 0) std::memset(buffer_.data(), 0, (bit_count_ + 7) / 8);
    bit_count_ = 0;
  }

 private:
  // Out of line: rare, and it keeps write() small enough to inline.
  void grow(std::size_t needed);
  // The bytes written, then zeros: at least 8 bytes past the byte holding the next bit.
  std::vector<std::uint8_t> buffer_;
  std::size_t bit_count_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  // Reads `bits` bits (0..32); 0 once the stream has failed.
  std::uint32_t read(unsigned bits);
  bool read_bool() { return read(1) != 0; }
  std::uint32_t read_varuint();

  // False once any read went past the end (or a varuint was malformed).
  bool ok() const { return ok_; }
  std::size_t bits_left() const { return bytes_.size() * 8 - position_; }
  void fail() { ok_ = false; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace tickwire::sim::detail
