#include "enet/datagram_inspector.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../support/enet_datagrams.hpp"
#include "../support/pump.hpp"

namespace tickwire::net::enet_detail {
namespace {

using test::DatagramBuilder;

// As a Tickwire host inspects: every datagram has the 4-byte checksum field (DatagramBuilder
// writes it).
constexpr InspectLimits kLimits{256 * 1024, 3, true};
// Fragment payload at the default MTU (1400), as ENet's sender cuts messages: 1400 less the
// header (4), the checksum field (4) and the fragment command (24).
constexpr std::uint32_t kPayload = 1368;

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

TEST(DatagramInspector, disconnect_is_reported_with_its_data) {
  const auto info = inspect(DatagramBuilder(5).acknowledge(1, 99).disconnect(0xA1B2C3D4).bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::ok);
  EXPECT_TRUE(info.has_disconnect);
  EXPECT_EQ(info.disconnect_data, 0xA1B2C3D4u);
  EXPECT_FALSE(inspect(DatagramBuilder(5).ping().bytes()).has_disconnect);
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
  const auto info = inspect(DatagramBuilder(5).fragment_of(1, 1, 256 * 1024, 0, kPayload).bytes());
  EXPECT_EQ(info.verdict, DatagramVerdict::ok);
}

TEST(DatagramInspector, fragment_announcing_one_byte_over_the_limit_is_oversize) {
  const auto info =
      inspect(DatagramBuilder(5).fragment_of(1, 1, 256 * 1024 + 1, 0, kPayload).bytes());
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

DatagramVerdict inspect_for_mtu(const std::vector<std::uint8_t>& bytes, std::uint32_t mtu) {
  InspectLimits limits = kLimits;
  limits.fragment_payload = enet_fragment_payload(mtu, true);
  return inspect_datagram(bytes, limits).verdict;
}

TEST(DatagramInspector, every_fragment_enet_cuts_at_any_allowed_mtu_is_accepted) {
  for (const std::uint32_t mtu : {kMinEnetMtu, 1400u, 1401u, kMaxEnetMtu}) {
    const auto payload = static_cast<std::uint32_t>(enet_fragment_payload(mtu, true));
    for (const std::uint32_t total : {payload + 1, 2 * payload, 2 * payload + 1, 100'000u,
                                      static_cast<std::uint32_t>(kLimits.max_message_size)}) {
      const std::uint32_t count = (total + payload - 1) / payload;
      for (const std::uint32_t number : {0u, count / 2, count - 1}) {
        const auto bytes = DatagramBuilder(5).fragment_of(1, 40, total, number, payload).bytes();
        EXPECT_EQ(inspect_for_mtu(bytes, mtu), DatagramVerdict::ok)
            << "mtu " << mtu << " total " << total << " fragment " << number;
        // A sender not known yet: the payload is read from the fragment and is one ENet allows.
        EXPECT_EQ(inspect(bytes).verdict, DatagramVerdict::ok)
            << "mtu " << mtu << " total " << total << " fragment " << number;
      }
    }
  }
}

TEST(DatagramInspector, fragment_count_that_does_not_fit_the_total_length_is_malformed) {
  // The fragment bomb: a small datagram announcing as many fragments as bytes, which would make
  // ENet allocate and zero one bitmap bit per fragment for every such message.
  const std::uint32_t total = 256 * 1024;
  const auto bomb = DatagramBuilder(5).fragment(1, total, 0, total, 0, 1).bytes();
  EXPECT_EQ(inspect_for_mtu(bomb, 1400), DatagramVerdict::malformed);
  EXPECT_EQ(inspect(bomb).verdict, DatagramVerdict::malformed);
  // One fragment more or fewer than ENet's ceil(total / payload) is just as wrong.
  const std::uint32_t count = (total + kPayload - 1) / kPayload;
  for (const std::uint32_t wrong : {count - 1, count + 1}) {
    const auto bytes = DatagramBuilder(5).fragment(1, wrong, 0, total, 0, kPayload).bytes();
    EXPECT_EQ(inspect_for_mtu(bytes, 1400), DatagramVerdict::malformed) << wrong;
    EXPECT_EQ(inspect(bytes).verdict, DatagramVerdict::malformed) << wrong;
  }
  // ENet's sender never sends a message that fits one fragment as a fragment.
  EXPECT_EQ(inspect(DatagramBuilder(5).fragment(1, 1, 0, 100, 0, 100).bytes()).verdict,
            DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_cut_for_another_mtu_is_malformed) {
  const auto bytes = DatagramBuilder(5).fragment_of(1, 1, 10'000, 0, kPayload).bytes();
  EXPECT_EQ(inspect_for_mtu(bytes, 1400), DatagramVerdict::ok);
  EXPECT_EQ(inspect_for_mtu(bytes, 576), DatagramVerdict::malformed);
  EXPECT_EQ(inspect_for_mtu(bytes, 1500), DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_payload_no_allowed_mtu_gives_is_malformed) {
  // Consistent with itself, but 100-byte fragments would need an MTU of 128.
  const auto small = DatagramBuilder(5).fragment_of(1, 1, 1000, 0, 100).bytes();
  EXPECT_EQ(inspect(small).verdict, DatagramVerdict::malformed);
  const auto small_last = DatagramBuilder(5).fragment_of(1, 1, 1000, 9, 100).bytes();
  EXPECT_EQ(inspect(small_last).verdict, DatagramVerdict::malformed);
  const auto large = DatagramBuilder(5).fragment_of(1, 1, 20'000, 0, 5000).bytes();
  EXPECT_EQ(inspect(large).verdict, DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_offset_or_length_out_of_step_with_its_number_is_malformed) {
  const std::uint32_t total = 10'000;  // 8 fragments of 1368, the last of 424
  auto verdict = [](std::uint32_t number, std::uint32_t offset, std::uint16_t length) {
    return inspect_for_mtu(DatagramBuilder(5).fragment(1, 8, number, total, offset, length).bytes(),
                           1400);
  };
  EXPECT_EQ(verdict(3, 3 * kPayload, kPayload), DatagramVerdict::ok);
  EXPECT_EQ(verdict(3, 3 * kPayload + 1, kPayload), DatagramVerdict::malformed);
  EXPECT_EQ(verdict(3, 2 * kPayload, kPayload), DatagramVerdict::malformed);
  EXPECT_EQ(verdict(3, 3 * kPayload, kPayload - 1), DatagramVerdict::malformed);
  EXPECT_EQ(verdict(7, 7 * kPayload, 424), DatagramVerdict::ok);
  EXPECT_EQ(verdict(7, 7 * kPayload, 423), DatagramVerdict::malformed);
  EXPECT_EQ(verdict(7, 7 * kPayload - 4, 428), DatagramVerdict::malformed);
}

TEST(DatagramInspector, reliable_fragment_numbered_out_of_sequence_is_malformed) {
  auto bytes = DatagramBuilder(5).fragment_of(1, 100, 10'000, 3, kPayload).bytes();
  EXPECT_EQ(inspect_for_mtu(bytes, 1400), DatagramVerdict::ok);
  bytes[11] ^= 0x01;  // the command's own reliable number, low byte (after header and checksum)
  EXPECT_EQ(inspect_for_mtu(bytes, 1400), DatagramVerdict::malformed);
}

TEST(DatagramInspector, unreliable_fragments_follow_the_same_cut) {
  const std::uint32_t total = 3000;  // 3 fragments at the default MTU
  EXPECT_EQ(
      inspect_for_mtu(DatagramBuilder(5)
                          .unreliable_fragment(1, 0, 9, 3, 2, total, 2 * kPayload,
                                               static_cast<std::uint16_t>(total - 2 * kPayload))
                          .bytes(),
                      1400),
      DatagramVerdict::ok);
  EXPECT_EQ(
      inspect_for_mtu(DatagramBuilder(5).unreliable_fragment(1, 0, 9, 3000, 0, total, 0, 1).bytes(),
                      1400),
      DatagramVerdict::malformed);
}

TEST(DatagramInspector, fragment_cut_without_room_for_the_checksum_field_is_malformed) {
  // ENet's sender leaves 4 bytes of each datagram to the checksum when its host has a checksum
  // callback, as every Tickwire host has: a fragment of mtu - 28 bytes is not one it cut.
  const std::uint32_t without = kPayload + 4;
  const auto bytes = DatagramBuilder(5).fragment_of(1, 1, 10'000, 0, without).bytes();
  EXPECT_EQ(inspect_for_mtu(bytes, 1400), DatagramVerdict::malformed);
  EXPECT_EQ(
      inspect_for_mtu(DatagramBuilder(5).fragment_of(1, 1, 10'000, 0, kPayload).bytes(), 1400),
      DatagramVerdict::ok);
  // A host without the field cuts mtu - 28, and an inspector that expects no field says so.
  InspectLimits plain = kLimits;
  plain.has_checksum = false;
  plain.fragment_payload = enet_fragment_payload(1400, false);
  EXPECT_EQ(
      inspect_datagram(
          DatagramBuilder(5, true, false).fragment_of(1, 1, 10'000, 0, without).bytes(), plain)
          .verdict,
      DatagramVerdict::ok);
}

bool allowed(const DatagramBuilder& datagram) {
  return allowed_before_admission(datagram.bytes(), true);
}

TEST(DatagramInspector, before_admission_only_enet_housekeeping_passes) {
  EXPECT_TRUE(allowed(DatagramBuilder(5).acknowledge(1, 99).ping()));
  EXPECT_TRUE(allowed(DatagramBuilder(5).acknowledge(1, 99)));
  EXPECT_TRUE(allowed(DatagramBuilder(5).ping()));
}

TEST(DatagramInspector, before_admission_any_message_is_refused) {
  // A client sends nothing before the server's welcome: not even a first control message.
  EXPECT_FALSE(allowed(DatagramBuilder(5).reliable(0, 10, 10, 1))) << "a control message";
  EXPECT_FALSE(allowed(DatagramBuilder(5).acknowledge(1, 99).reliable(1, 10, 10, 1)))
      << "a game message behind an acknowledgement";
  EXPECT_FALSE(allowed(DatagramBuilder(5).acknowledge(1, 99).unreliable(0, 0, 1, 10)));
  EXPECT_FALSE(allowed(DatagramBuilder(5).fragment_of(0, 1, 3000, 0, kPayload)));
  EXPECT_FALSE(allowed(DatagramBuilder(5).unreliable_fragment(0, 0, 1, 3, 0, 3000, 0, kPayload)));
  EXPECT_FALSE(allowed(DatagramBuilder(5).ping().raw(6).raw(0)))
      << "a truncated command after housekeeping";
  // Every ping makes ENet queue an acknowledgement: a datagram full of them is not housekeeping.
  DatagramBuilder pings(5);
  for (std::uint16_t i = 0; i < 32; ++i)
    pings.ping(i);
  EXPECT_TRUE(allowed(pings));
  EXPECT_FALSE(allowed(pings.ping(32)));
}

TEST(DatagramInspector, random_and_truncated_input_never_reads_out_of_bounds) {
  // Run under ASan in CI: any out-of-bounds read fails the test there.
  std::mt19937_64 random(test::test_seed(7));
  const auto valid =
      DatagramBuilder(5).reliable(1, 40, 40).fragment_of(2, 7, 3000, 2, kPayload).bytes();
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
