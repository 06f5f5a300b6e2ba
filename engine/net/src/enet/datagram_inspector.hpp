#pragma once
// Checks a raw ENet datagram before ENet's protocol code reads it. ENet trusts lengths and
// counts from the wire more than we want to (and a fragment header may announce a message of up
// to 4 GB); this walks every command with bounds checks and reports what it found, without
// touching any state. Pure, so it is unit tested and fuzzed on its own.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tickwire::net::enet_detail {

struct InspectLimits {
  std::size_t max_message_size = 0;  // largest message a fragment may announce
  std::size_t channel_count = 0;     // channel ids must be below this
  bool has_checksum = false;         // a 4-byte checksum (Tickwire's tag) follows the header
};

enum class DatagramVerdict : std::uint8_t {
  ok,
  malformed,  // does not parse as ENet protocol: drop it
  oversize,   // parses, but announces a message over max_message_size: drop it, punish the sender
};

struct DatagramInfo {
  DatagramVerdict verdict = DatagramVerdict::malformed;
  std::uint16_t peer_id = 0;    // target peer slot, kUnassignedPeerId for a connection attempt
  bool has_connect = false;     // carries a CONNECT command
  bool has_disconnect = false;  // carries a DISCONNECT command
  std::uint32_t disconnect_data = 0;  // its user data (Tickwire: the reason and its tag)
  std::uint32_t connect_data = 0;     // the CONNECT's user data (our protocol id)
};

// ENet's peer id for datagrams from a peer that has no slot yet (a CONNECT).
inline constexpr std::uint16_t kUnassignedPeerId = 0x0FFF;

DatagramInfo inspect_datagram(std::span<const std::uint8_t> datagram, const InspectLimits& limits);

}  // namespace tickwire::net::enet_detail
