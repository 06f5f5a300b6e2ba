#include "enet/datagram_inspector.hpp"

#include <array>

namespace tickwire::net::enet_detail {
namespace {

// Wire layout of ENet 1.3 (enet/protocol.h). Written out here rather than taken from ENet's packed
// structs so that every read is an explicit, bounds-checked big-endian load.
enum Command : std::uint8_t {
  kAcknowledge = 1,
  kConnect = 2,
  kVerifyConnect = 3,
  kDisconnect = 4,
  kPing = 5,
  kSendReliable = 6,
  kSendUnreliable = 7,
  kSendFragment = 8,
  kSendUnsequenced = 9,
  kBandwidthLimit = 10,
  kThrottleConfigure = 11,
  kSendUnreliableFragment = 12,
  kCommandCount = 13,
};
constexpr std::uint8_t kCommandMask = 0x0F;
constexpr std::uint16_t kHeaderFlagCompressed = 1u << 14;
constexpr std::uint16_t kHeaderFlagSentTime = 1u << 15;
constexpr std::uint16_t kPeerIdMask = 0x0FFF;
constexpr std::uint32_t kMaxFragmentCount = 1024 * 1024;
constexpr std::uint32_t kMaxChannelCount = 255;

// Bytes of each command including its 4-byte command header, indexed by command number.
constexpr std::array<std::size_t, kCommandCount> kCommandSize = {
    0,   // none
    8,   // acknowledge
    48,  // connect
    44,  // verify connect
    8,   // disconnect
    4,   // ping
    6,   // send reliable
    8,   // send unreliable
    24,  // send fragment
    8,   // send unsequenced
    12,  // bandwidth limit
    16,  // throttle configure
    24,  // send unreliable fragment
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint16_t u16(std::size_t at) const {
    return static_cast<std::uint16_t>((bytes_[at] << 8) | bytes_[at + 1]);
  }
  std::uint32_t u32(std::size_t at) const {
    return (std::uint32_t{bytes_[at]} << 24) | (std::uint32_t{bytes_[at + 1]} << 16) |
           (std::uint32_t{bytes_[at + 2]} << 8) | std::uint32_t{bytes_[at + 3]};
  }
  std::uint8_t u8(std::size_t at) const { return bytes_[at]; }

 private:
  std::span<const std::uint8_t> bytes_;
};

bool carries_channel(std::uint8_t command) {
  switch (command) {
    case kSendReliable:
    case kSendUnreliable:
    case kSendFragment:
    case kSendUnsequenced:
    case kSendUnreliableFragment:
      return true;
    default:
      return false;
  }
}

}  // namespace

DatagramInfo inspect_datagram(std::span<const std::uint8_t> datagram, const InspectLimits& limits) {
  DatagramInfo info;
  const std::size_t length = datagram.size();
  if (length < 2) return info;
  const Reader read(datagram);
  const std::uint16_t header = read.u16(0);
  // We never configure a compressor, so a compressed datagram cannot be ours.
  if ((header & kHeaderFlagCompressed) != 0) return info;
  info.peer_id = header & kPeerIdMask;
  std::size_t offset = (header & kHeaderFlagSentTime) != 0 ? 4 : 2;
  if (limits.has_checksum) offset += 4;
  if (offset > length) return info;
  if (offset == length) return info;  // a datagram without a single command is not ENet's

  bool oversize = false;
  while (offset < length) {
    if (length - offset < 4) return info;
    const std::uint8_t command = read.u8(offset) & kCommandMask;
    if (command == 0 || command >= kCommandCount) return info;
    const std::size_t size = kCommandSize[command];
    if (length - offset < size) return info;
    // Only a CONNECT may come from a peer that has no slot yet, and it comes alone.
    if ((info.peer_id == kUnassignedPeerId) != (command == kConnect)) return info;
    if (carries_channel(command) && read.u8(offset + 1) >= limits.channel_count) return info;

    std::size_t data_length = 0;
    switch (command) {
      case kConnect: {
        const std::uint32_t channels = read.u32(offset + 16);
        if (channels == 0 || channels > kMaxChannelCount) return info;
        info.has_connect = true;
        info.connect_data = read.u32(offset + 44);
        break;
      }
      case kDisconnect:
        info.has_disconnect = true;
        info.disconnect_data = read.u32(offset + 4);
        break;
      case kSendReliable:
        data_length = read.u16(offset + 4);
        break;
      case kSendUnreliable:
      case kSendUnsequenced:
        data_length = read.u16(offset + 6);
        break;
      case kSendFragment:
      case kSendUnreliableFragment: {
        data_length = read.u16(offset + 6);
        const std::uint32_t fragment_count = read.u32(offset + 8);
        const std::uint32_t fragment_number = read.u32(offset + 12);
        const std::uint32_t total_length = read.u32(offset + 16);
        const std::uint32_t fragment_offset = read.u32(offset + 20);
        if (fragment_count == 0 || fragment_count > kMaxFragmentCount) return info;
        if (fragment_number >= fragment_count) return info;
        // Compared in 64 bits: offset + length may not wrap (the bug class behind the 2020 CVEs
        // of another UDP library).
        if (std::uint64_t{fragment_offset} + data_length > total_length) return info;
        if (total_length > limits.max_message_size) oversize = true;
        break;
      }
      default:
        break;
    }
    if (data_length > limits.max_message_size) oversize = true;
    offset += size;
    if (length - offset < data_length) return info;
    offset += data_length;
  }
  info.verdict = oversize ? DatagramVerdict::oversize : DatagramVerdict::ok;
  return info;
}

}  // namespace tickwire::net::enet_detail
