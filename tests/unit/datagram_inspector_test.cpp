#include "enet/datagram_inspector.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../support/pump.hpp"

namespace tickwire::net::enet_detail {
namespace {

// Builds ENet datagrams byte by byte, big-endian, as ENet puts them on the wire.
class DatagramBuilder {
 public:
  explicit DatagramBuilder(std::uint16_t peer_id, bool sent_time = true) {
    u16(static_cast<std::uint16_t>(peer_id | (sent_time ? 0x8000 : 0)));
    if (sent_time) u16(1234);
  }
  DatagramBuilder& connect(std::uint32_t channels, std::uint32_t data) {
    command(2, 0xFF, 1);
    u16(0);        // outgoing peer id
    u8(0), u8(0);  // session ids
    u32(1400);     // mtu
    u32(32768);    // window
    u32(channels);
    for (int i = 0; i < 5; ++i)
      u32(0);  // bandwidths, throttle
    u32(42);   // connect id
    u32(data);
    return *this;
  }
  DatagramBuilder& reliable(std::uint8_t channel, std::uint16_t length, std::size_t actual) {
    command(6 | 0x80, channel, 1);
    u16(length);
    payload(actual);
    return *this;
  }
  DatagramBuilder& fragment(std::uint8_t channel, std::uint32_t count, std::uint32_t number,
                            std::uint32_t total, std::uint32_t offset, std::uint16_t length) {
    command(8 | 0x80, channel, 1);
    u16(1), u16(length), u32(count), u32(number), u32(total), u32(offset);
    payload(length);
    return *this;
  }
  DatagramBuilder& ping() {
    command(5 | 0x80, 0xFF, 2);
    return *this;
  }
  DatagramBuilder& raw(std::uint8_t byte) {
    u8(byte);
    return *this;
  }
  std::vector<std::uint8_t> bytes() const { return bytes_; }

 private:
  void command(std::uint8_t command, std::uint8_t channel, std::uint16_t sequence) {
    u8(command), u8(channel), u16(sequence);
  }
  void payload(std::size_t size) { bytes_.insert(bytes_.end(), size, 0xAB); }
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8)), u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16)), u16(static_cast<std::uint16_t>(v));
  }
  std::vector<std::uint8_t> bytes_;
};

constexpr InspectLimits kLimits{256 * 1024, 3};

DatagramInfo inspect(const std::vector<std::uint8_t>& bytes) {
  return inspect_datagram(bytes, kLimits);
}

TEST(DatagramInspector, connect_attempt_is_accepted_and_reports_its_protocol_id) {
  const auto info = inspect(DatagramBuilder(kUnassignedPeerId).connect(3, 0x54570001).bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::ok);
  EXPECT_TRUE(info.has_connect);
  EXPECT_EQ(info.connect_data, 0x54570001u);
}

TEST(DatagramInspector, reliable_message_and_ping_in_one_datagram_are_accepted) {
  const auto info = inspect(DatagramBuilder(5).reliable(1, 100, 100).ping().bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::ok);
  EXPECT_EQ(info.peer_id, 5);
  EXPECT_FALSE(info.has_connect);
}

TEST(DatagramInspector, datagram_without_sent_time_is_accepted) {
  EXPECT_EQ(inspect(DatagramBuilder(5, false).ping().bytes()).verdict, DatagramVerdict::ok);
}

TEST(DatagramInspector, data_length_past_the_end_is_malformed) {
  EXPECT_EQ(inspect(DatagramBuilder(5).reliable(1, 100, 99).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, truncated_command_header_is_malformed) {
  auto bytes = DatagramBuilder(5).ping().bytes();
  bytes.push_back(6);
  bytes.push_back(0);
  EXPECT_EQ(inspect(bytes).verdict, DatagramVerdict::malformed);
}

TEST(DatagramInspector, unknown_command_is_malformed) {
  EXPECT_EQ(inspect(DatagramBuilder(5).raw(13).raw(0).raw(0).raw(0).bytes()).verdict,
            DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).raw(0).raw(0).raw(0).raw(0).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, compressed_header_is_malformed_because_we_use_no_compressor) {
  auto bytes = DatagramBuilder(5).ping().bytes();
  bytes[0] |= 0x40;
  EXPECT_EQ(inspect(bytes).verdict, DatagramVerdict::malformed);
}

TEST(DatagramInspector, header_only_and_tiny_datagrams_are_malformed) {
  EXPECT_EQ(inspect({}).verdict, DatagramVerdict::malformed);
  EXPECT_EQ(inspect({0x80}).verdict, DatagramVerdict::malformed);
  EXPECT_EQ(inspect({0x80, 0x05, 0x00}).verdict, DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).bytes()).verdict, DatagramVerdict::malformed);
}

TEST(DatagramInspector, channel_beyond_the_configured_count_is_malformed) {
  EXPECT_EQ(inspect(DatagramBuilder(5).reliable(3, 10, 10).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, only_a_connect_may_come_from_an_unassigned_peer) {
  EXPECT_EQ(inspect(DatagramBuilder(kUnassignedPeerId).ping().bytes()).verdict,
            DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).connect(3, 1).bytes()).verdict, DatagramVerdict::malformed);
}

TEST(DatagramInspector, connect_with_no_channels_is_malformed) {
  EXPECT_EQ(inspect(DatagramBuilder(kUnassignedPeerId).connect(0, 1).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_of_a_message_at_the_limit_is_accepted) {
  const auto info = inspect(DatagramBuilder(5).fragment(1, 200, 0, 256 * 1024, 0, 1300).bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::ok);
}

TEST(DatagramInspector, fragment_announcing_one_byte_over_the_limit_is_oversize) {
  const auto info =
      inspect(DatagramBuilder(5).fragment(1, 200, 0, 256 * 1024 + 1, 0, 1300).bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::oversize);
  EXPECT_EQ(info.peer_id, 5);
}

TEST(DatagramInspector, fragment_past_its_message_end_is_malformed) {
  // offset + length wraps in 32 bits; must be caught in a wider type.
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 2, 1, 1000, 0xFFFFFF00u, 300).bytes()).verdict,
            DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 2, 1, 1000, 900, 300).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_numbering_out_of_range_is_malformed) {
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 0, 0, 1000, 0, 10).bytes()).verdict,
            DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 2, 2, 1000, 0, 10).bytes()).verdict,
            DatagramVerdict::malformed);
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 2'000'000, 0, 1000, 0, 10).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, random_and_truncated_input_never_reads_out_of_bounds) {
  // Run under ASan in CI: any out-of-bounds read fails the test there.
  std::mt19937_64 random(test::test_seed(7));
  const auto valid =
      DatagramBuilder(5).reliable(1, 40, 40).fragment(2, 3, 1, 3000, 1000, 100).bytes();
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> bytes;
    if (i % 2 == 0) {
      bytes.resize(random() % 1500);
      for (auto& b : bytes)
        b = static_cast<std::uint8_t>(random());
    } else {
      bytes.assign(valid.begin(), valid.begin() + static_cast<long>(random() % valid.size()));
      if (!bytes.empty() && random() % 2 == 0) bytes[random() % bytes.size()] ^= 0xFF;
    }
    // Whatever the verdict, it must be one of the three and come back without a crash.
    const auto verdict = inspect(bytes).verdict;
    EXPECT_TRUE(verdict == DatagramVerdict::ok || verdict == DatagramVerdict::malformed ||
                verdict == DatagramVerdict::oversize);
  }
}

}  // namespace
}  // namespace tickwire::net::enet_detail
