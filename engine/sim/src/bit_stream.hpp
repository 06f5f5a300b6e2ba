#pragma once
// Bit-level packing for snapshot payloads. The writer appends values of 1..32 bits; the reader
// reads them back and, on any read past the end, latches a failure instead of reading out of
// bounds: the caller checks ok() once at the end, so a decoder for untrusted bytes needs no
// check after every field.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tickwire::sim::detail {

class BitWriter {
 public:
  // Appends the low `bits` bits of `value`, most significant first. bits in 0..32.
  void write(std::uint32_t value, unsigned bits);
  void write_bool(bool value) { write(value ? 1u : 0u, 1); }
  // Small unsigned values cheaply: 0 costs 1 bit, < 2^k costs about 2k bits (Elias gamma of v+1).
  void write_varuint(std::uint32_t value);

  std::size_t bit_count() const { return bit_count_; }
  // The bytes so far; the last byte is zero-padded.
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  void clear() {
    bytes_.clear();
    bit_count_ = 0;
  }

 private:
  std::vector<std::uint8_t> bytes_;
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
