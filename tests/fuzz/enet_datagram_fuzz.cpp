// Fuzz target for the ENet datagram inspector, the first code that reads untrusted UDP bytes.
// Built as a libFuzzer target with clang (-DTICKWIRE_LIBFUZZER=ON), or with fuzz_driver.cpp as a
// plain program that replays the corpus and random mutations of it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "enet/datagram_inspector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tickwire::net::enet_detail;
  const std::span datagram(data, size);
  // Small limits reach the oversize branches with short inputs. Every Tickwire host has the
  // 4-byte checksum field (its tag) after the header; the corpus carries it.
  const InspectLimits any_mtu{.max_message_size = 4096, .channel_count = 3, .has_checksum = true};
  const DatagramInfo info = inspect_datagram(datagram, any_mtu);
  // An accepted datagram always names a slot within ENet's 12-bit peer id range.
  if (info.verdict != DatagramVerdict::malformed && info.peer_id > kUnassignedPeerId)
    __builtin_trap();
  // A datagram cut for a known MTU (the corpus uses 576) is one an unknown sender could send too.
  InspectLimits known_mtu = any_mtu;
  known_mtu.fragment_payload = enet_fragment_payload(kMinEnetMtu, true);
  const DatagramVerdict known = inspect_datagram(datagram, known_mtu).verdict;
  if (known != DatagramVerdict::malformed && known != info.verdict) __builtin_trap();
  if (info.verdict == DatagramVerdict::ok) (void)allowed_before_admission(datagram, true);
  return 0;
}
