// Fuzz target for the ENet datagram inspector, the first code that reads untrusted UDP bytes.
// Built as a libFuzzer target with clang (-DTICKWIRE_LIBFUZZER=ON), or with fuzz_driver.cpp as a
// plain program that replays the corpus and random mutations of it.

#include <cstddef>
#include <cstdint>
#include <span>

#include "enet/datagram_inspector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tickwire::net::enet_detail;
  // Small limits reach the oversize branches with short inputs.
  const InspectLimits limits{.max_message_size = 4096, .channel_count = 3};
  const DatagramInfo info = inspect_datagram(std::span(data, size), limits);
  // An accepted datagram always names a slot within ENet's 12-bit peer id range.
  if (info.verdict != DatagramVerdict::malformed && info.peer_id > kUnassignedPeerId)
    __builtin_trap();
  return 0;
}
