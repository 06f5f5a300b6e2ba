#pragma once
// The pieces of the snapshot body's bit layout (see snapshot_codec.hpp) that its encoder and
// decoder share: delta and Exp-Golomb coding, and the per-snapshot delta header.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "bit_stream.hpp"
#include "tickwire/sim/entity_schema.hpp"

namespace tickwire::sim::detail {

// Fields this narrow are cheaper sent whole than as a delta.
inline constexpr unsigned kWholeFieldBits = 4;
// Exp-Golomb orders are sent in this many bits, so at most 31.
inline constexpr unsigned kOrderBits = 5;

inline std::uint32_t zigzag(std::int64_t delta) {
  return static_cast<std::uint32_t>(delta < 0 ? (-delta * 2 - 1) : delta * 2);
}
inline std::int64_t unzigzag(std::uint32_t z) {
  return (z & 1u) != 0 ? -static_cast<std::int64_t>((std::uint64_t{z} + 1) / 2) : z / 2;
}

// The signed step from `base` to `value`; for angles the short way round.
inline std::int64_t field_delta(std::uint32_t base, std::uint32_t value, std::uint32_t steps,
                                bool wraps) {
  std::int64_t delta = std::int64_t{value} - base;
  if (wraps) {
    if (delta > steps / 2) delta -= steps;
    if (delta < -static_cast<std::int64_t>(steps / 2)) delta += steps;
  }
  return delta;
}

// Deltas are Exp-Golomb coded with an order chosen per field for each snapshot from that
// snapshot's own deltas (sent in its header): small for a field that barely moves, larger for
// one that moves a lot, so each pays close to what its deltas are worth.
//
// The code of `z` as a value and its length in bits: n - order zeros, then x in n + 1 bits,
// which is x itself written in 2n - order + 1 bits (up to 65).
struct ExpGolombCode {
  std::uint64_t value;
  unsigned bits;
};
inline ExpGolombCode exp_golomb_code(std::uint32_t z, unsigned order) {
  const std::uint64_t x = std::uint64_t{z} + (std::uint64_t{1} << order);
  const auto n = static_cast<unsigned>(std::bit_width(x)) - 1;
  return {x, 2 * n - order + 1};
}

inline std::size_t exp_golomb_bits(std::uint32_t z, unsigned order) {
  return exp_golomb_code(z, order).bits;
}

// Codes gathered into one value until the next would not fit in one BitWriter::write(), then
// written at once: an update's changed bits and codes are a few bits each. flush() before the
// writer is used directly again.
class CodeBatch {
 public:
  explicit CodeBatch(BitWriter& out) : out_(out) {}
  // Adds the low `bits` bits of `code` (bits <= BitWriter::kMaxWriteBits).
  void add(std::uint64_t code, unsigned bits) {
    if (count_ + bits > BitWriter::kMaxWriteBits) flush();
    value_ = (value_ << bits) | (code & ((std::uint64_t{1} << bits) - 1));
    count_ += bits;
  }
  // Adds `prefix_bits` bits of `prefix` (a changed bit, or none), then an Exp-Golomb code.
  void add(ExpGolombCode code, std::uint32_t prefix = 0, unsigned prefix_bits = 0) {
    if (prefix_bits + code.bits <= BitWriter::kMaxWriteBits) {
      add((std::uint64_t{prefix} << code.bits) | code.value, prefix_bits + code.bits);
      return;
    }
    flush();
    out_.write(prefix, prefix_bits);
    out_.write(0, code.bits - 33);  // the code is longer than the 33 bits x can have
    out_.write(code.value, 33);
  }
  void flush() {
    out_.write(value_, count_);
    value_ = 0;
    count_ = 0;
  }

 private:
  BitWriter& out_;
  std::uint64_t value_ = 0;
  unsigned count_ = 0;
};

inline std::optional<std::uint32_t> read_exp_golomb(BitReader& in, unsigned order) {
  unsigned zeros = 0;
  while (in.ok() && !in.read_bool()) {
    if (++zeros + order > 32) return std::nullopt;
  }
  // The leading 1 was read; n - order zeros came before it, n more bits follow.
  const unsigned n = zeros + order;
  std::uint64_t x = 1;
  if (n > 32) return std::nullopt;
  if (n == 32) {
    x = (x << 32) | in.read(32);
  } else {
    x = (x << n) | in.read(n);
  }
  const std::uint64_t z = x - (std::uint64_t{1} << order);
  if (!in.ok() || z > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(z);
}

// How one snapshot codes the deltas of each type's fields, chosen from the snapshot's own
// deltas and sent in its header: the Exp-Golomb order per field, and which fields changed in
// every updated entity of the type (those need no changed bit per entity).
struct DeltaHeader {
  std::vector<bool> present;                      // per type: any updated entity with a baseline
  std::vector<std::vector<std::uint8_t>> orders;  // per type, per field
  std::vector<std::vector<bool>> always_changed;  // per type, per field
};

// Reads a changed field; nullopt if it leaves the field's range.
inline std::optional<std::uint32_t> read_field_change(BitReader& in, std::uint32_t base,
                                                      unsigned bits, std::uint32_t steps,
                                                      bool wraps, unsigned order) {
  std::int64_t value = 0;
  if (bits <= kWholeFieldBits) {
    value = in.read(bits);
  } else {
    const auto z = read_exp_golomb(in, order);
    if (!z) return std::nullopt;
    value = std::int64_t{base} + unzigzag(*z);
    if (wraps) value = ((value % steps) + steps) % steps;
  }
  if (!in.ok() || value < 0 || value >= std::int64_t{steps}) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// Bits write_varuint() spends on `value`.
inline std::size_t varuint_bits(std::uint32_t value) {
  return 2 * static_cast<std::size_t>(std::bit_width(std::uint64_t{value} + 1)) - 1;
}

inline bool is_angle(const EntitySchema& schema, TypeId type, std::size_t field) {
  return schema.type(type).fields[field].kind == FieldKind::angle;
}

inline bool is_wide(const EntitySchema& schema, TypeId type, std::size_t field) {
  return schema.field_bits(type, field) > kWholeFieldBits;
}

// Per type a presence bit; for present types, per field an always-changed bit and, for wide
// fields, the order.
inline void write_delta_header(BitWriter& out, const EntitySchema& schema,
                               const DeltaHeader& header) {
  for (std::size_t t = 0; t < header.present.size(); ++t) {
    out.write_bool(header.present[t]);
    if (!header.present[t]) continue;
    for (std::size_t f = 0; f < header.orders[t].size(); ++f) {
      out.write_bool(header.always_changed[t][f]);
      if (is_wide(schema, static_cast<TypeId>(t), f)) out.write(header.orders[t][f], kOrderBits);
    }
  }
}

inline DeltaHeader read_delta_header(BitReader& in, const EntitySchema& schema) {
  const std::size_t types = schema.type_count();
  DeltaHeader header;
  header.present.assign(types, false);
  header.orders.resize(types);
  header.always_changed.resize(types);
  for (std::size_t t = 0; t < types; ++t) {
    const auto type = static_cast<TypeId>(t);
    header.orders[t].assign(schema.field_count(type), 0);
    header.always_changed[t].assign(schema.field_count(type), false);
    header.present[t] = in.read_bool();
    if (!header.present[t]) continue;
    for (std::size_t f = 0; f < header.orders[t].size(); ++f) {
      header.always_changed[t][f] = in.read_bool();
      if (is_wide(schema, type, f))
        header.orders[t][f] = static_cast<std::uint8_t>(in.read(kOrderBits));
    }
  }
  return header;
}

}  // namespace tickwire::sim::detail
