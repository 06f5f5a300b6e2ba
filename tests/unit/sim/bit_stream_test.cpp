#include "bit_stream.hpp"
#include "delta_coding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace tickwire::sim::detail {
namespace {

TEST(BitStream, values_of_every_width_round_trip) {
  BitWriter out;
  std::mt19937 random(3);
  std::vector<std::pair<std::uint32_t, unsigned>> written;
  for (int i = 0; i < 2000; ++i) {
    const auto bits = static_cast<unsigned>(random() % 33);
    const auto word = static_cast<std::uint32_t>(random());
    const std::uint32_t value = bits == 32 ? word : word & ((1u << bits) - 1);
    out.write(value, bits);
    written.emplace_back(value, bits);
  }
  BitReader in(out.bytes());
  for (const auto& [value, bits] : written)
    ASSERT_EQ(in.read(bits), value);
  EXPECT_TRUE(in.ok());
  EXPECT_LT(in.bits_left(), 8u);
}

TEST(BitStream, varuint_is_short_for_small_values_and_exact_for_all) {
  BitWriter out;
  out.write_varuint(0);
  EXPECT_EQ(out.bit_count(), 1u);
  out.write_varuint(1);
  EXPECT_EQ(out.bit_count(), 4u);
  const std::uint32_t values[] = {2, 7, 255, 65535, 0x7FFFFFFF, 0xFFFFFFFF};
  for (const auto v : values)
    out.write_varuint(v);
  BitReader in(out.bytes());
  EXPECT_EQ(in.read_varuint(), 0u);
  EXPECT_EQ(in.read_varuint(), 1u);
  for (const auto v : values)
    EXPECT_EQ(in.read_varuint(), v);
  EXPECT_TRUE(in.ok());
}

TEST(BitStream, reading_past_the_end_fails_and_stays_failed) {
  BitWriter out;
  out.write(5, 3);
  BitReader in(out.bytes());
  EXPECT_EQ(in.read(3), 5u);
  EXPECT_EQ(in.read(5), 0u);  // the padding of the last byte
  EXPECT_TRUE(in.ok());
  EXPECT_EQ(in.read(1), 0u);
  EXPECT_FALSE(in.ok());
  EXPECT_EQ(in.read(1), 0u);
  EXPECT_FALSE(in.ok());
}

TEST(BitStream, a_cleared_writer_writes_as_a_new_one) {
  BitWriter used;
  for (int i = 0; i < 300; ++i)  // past its first buffer
    used.write(0xFFFFFFFFu, 32);
  used.clear();
  EXPECT_EQ(used.bit_count(), 0u);
  EXPECT_TRUE(used.bytes().empty());
  BitWriter fresh;
  for (BitWriter* out : {&used, &fresh}) {
    out->write(5, 3);
    out->write_varuint(1000);
    out->write(0, 32);
    out->write(1, 1);
  }
  EXPECT_EQ(used.bit_count(), fresh.bit_count());
  EXPECT_TRUE(std::equal(used.bytes().begin(), used.bytes().end(), fresh.bytes().begin(),
                         fresh.bytes().end()));
  EXPECT_EQ(used.bit_count(), 55u);
  EXPECT_EQ(fresh.bytes().back(), 0x02);  // bits 48 to 54 end in the 1, then one bit of padding
}

TEST(BitStream, batched_exp_golomb_codes_read_back_at_every_order_and_length_after_a_changed_bit) {
  // Up to 65 bits a code: those past one write's 57 (with the changed bit) are split.
  const std::uint32_t values[] = {0, 1, 2, 100, 0xFFFFu, 0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu};
  BitWriter out;
  CodeBatch batch(out);
  std::size_t expected_bits = 0;
  for (unsigned order = 0; order < 32; ++order) {
    for (const std::uint32_t z : values) {
      for (const unsigned changed_bits : {0u, 1u}) {
        batch.add(exp_golomb_code(z, order), 1, changed_bits);
        expected_bits += changed_bits + exp_golomb_bits(z, order);
      }
    }
  }
  batch.flush();
  EXPECT_EQ(out.bit_count(), expected_bits);
  BitReader in(out.bytes());
  for (unsigned order = 0; order < 32; ++order) {
    for (const std::uint32_t z : values) {
      for (const unsigned changed_bits : {0u, 1u}) {
        if (changed_bits != 0) {
          ASSERT_TRUE(in.read_bool());
        }
        ASSERT_EQ(read_exp_golomb(in, order), z) << "order " << order << ", z " << z;
      }
    }
  }
  EXPECT_TRUE(in.ok());
}

TEST(BitStream, varuint_longer_than_any_written_is_malformed) {
  const std::vector<std::uint8_t> zeros(8, 0);
  BitReader in(zeros);
  in.read_varuint();
  EXPECT_FALSE(in.ok());
}

}  // namespace
}  // namespace tickwire::sim::detail
