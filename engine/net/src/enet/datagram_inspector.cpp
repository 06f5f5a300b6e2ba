#include "enet/datagram_inspector.hpp"

#include <array>

namespace tickwire::net::enet_detail {
namespace {

// Wire layout of ENet 1.3 (enet/protocol.h). Written out here rather than taken from ENet's packed
// structs so that every read is an explicit, bounds-checked big-endian load.
constexpr std::uint8_t kCommandMask = 0x0F;
constexpr std::uint8_t kCommandCount = 13;
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

bool carries_channel(EnetCommand command) {
  switch (command) {
    case EnetCommand::send_reliable:
    case EnetCommand::send_unreliable:
    case EnetCommand::send_fragment:
    case EnetCommand::send_unsequenced:
    case EnetCommand::send_unreliable_fragment:
      return true;
    default:
      return false;
  }
}

bool is_fragment(EnetCommand command) {
  return command == EnetCommand::send_fragment || command == EnetCommand::send_unreliable_fragment;
}

// True if the fragment is one that ENet's sender cuts, for a sender whose fragments carry
// `payload` bytes (0: any payload an allowed MTU gives, with or without the checksum field).
//
// ENet's receiver allocates, for the first fragment of a message it sees, a bitmap of one bit
// per announced fragment (zeroed) and the whole message of total_length, and checks no more than
// total_length >= fragment_count: a fragment of a few bytes announcing one fragment per byte of a
// 256 KiB message cost it 32 KiB of bitmap and the 256 KiB. Its sender, though, cuts a message of L
// bytes into exactly ceil(L / p) fragments of p bytes, p = enet_fragment_payload(mtu,
// has_checksum), the last one shorter, fragment n at offset n * p, and only when L > p, so never
// into fewer than 2. That is exact, and safe to demand: both ends settle on the same MTU in the
// handshake (see kMinEnetMtu) and ENet 1.3 never changes it afterwards, and every Tickwire host
// has the checksum callback, so an honest sender's fragments match the p we compute from the
// peer's MTU to the byte. (A peer that names an MTU in its CONNECT is held to the MTU it named.)
// The fragment count is then at most ceil(max_message_size / 544) (482 for the default 256 KiB
// and a seal), its bitmap at most 64 bytes. Where the peer is not known, p is taken from the
// fragment itself (its length, or its offset over its number for the last one) and must lie in
// what an MTU of 576..4096 gives.
bool fragment_fits_its_message(const WireCommand& fragment, std::size_t payload,
                               bool has_checksum) {
  const std::uint64_t count = fragment.fragment_count;
  const std::uint64_t number = fragment.fragment_number;
  const std::uint64_t total = fragment.total_length;
  const std::uint64_t offset = fragment.fragment_offset;
  const std::uint64_t length = fragment.data_length;
  if (count < 2 || count > kMaxFragmentCount || number >= count) return false;
  const bool last = number + 1 == count;
  std::uint64_t p = payload;
  if (p == 0) {
    p = last ? offset / number : length;
    if (p < enet_fragment_payload(kMinEnetMtu, has_checksum) ||
        p > enet_fragment_payload(kMaxEnetMtu, has_checksum)) {
      return false;
    }
  }
  // All in 64 bits: offsets and lengths from the wire may not wrap (the bug class behind the 2020
  // CVEs of another UDP library).
  if ((total + p - 1) / p != count) return false;
  if (offset != number * p) return false;
  return length == (last ? total - offset : p);
}

// ENet numbers each fragment of a reliable message with its own reliable sequence number, the
// first fragment's plus the fragment number (16 bits, wrapping); its receiver skips that many
// numbers once the message is complete.
bool fragment_numbered_in_sequence(const WireCommand& fragment) {
  if (fragment.command != EnetCommand::send_fragment) return true;
  return fragment.reliable_sequence ==
         static_cast<std::uint16_t>(fragment.start_sequence + fragment.fragment_number);
}

}  // namespace

std::uint16_t datagram_peer_id(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < 2) return kUnassignedPeerId;
  return Reader(datagram).u16(0) & kPeerIdMask;
}

std::size_t datagram_checksum_offset(std::span<const std::uint8_t> datagram) {
  return (Reader(datagram).u16(0) & kHeaderFlagSentTime) != 0 ? 4 : 2;
}

CommandWalker::CommandWalker(std::span<const std::uint8_t> datagram, bool has_checksum)
    : bytes_(datagram) {
  const std::size_t length = bytes_.size();
  malformed_ = true;
  if (length < 2) return;
  const std::uint16_t header = Reader(bytes_).u16(0);
  // We never configure a compressor, so a compressed datagram cannot be ours.
  if ((header & kHeaderFlagCompressed) != 0) return;
  offset_ = datagram_checksum_offset(bytes_);
  if (has_checksum) offset_ += 4;
  // A datagram without a single command is not ENet's.
  if (offset_ >= length) return;
  malformed_ = false;
}

bool CommandWalker::next(WireCommand& out) {
  const std::size_t length = bytes_.size();
  if (malformed_ || offset_ >= length) return false;
  malformed_ = true;  // until the command is read whole
  const Reader read(bytes_);
  const std::size_t at = offset_;
  if (length - at < 4) return false;
  const std::uint8_t number = read.u8(at) & kCommandMask;
  if (number == 0 || number >= kCommandCount) return false;
  const std::size_t size = kCommandSize[number];
  if (length - at < size) return false;

  out = WireCommand{};
  out.offset = at;
  out.header_size = size;
  out.command = static_cast<EnetCommand>(number);
  out.channel = read.u8(at + 1);
  out.reliable_sequence = read.u16(at + 2);
  switch (out.command) {
    case EnetCommand::connect:
      out.connect_channels = read.u32(at + 16);
      out.connect_data = read.u32(at + 44);
      break;
    case EnetCommand::disconnect:
      out.disconnect_data = read.u32(at + 4);
      break;
    case EnetCommand::send_reliable:
      out.data_length = read.u16(at + 4);
      break;
    case EnetCommand::send_unreliable:
    case EnetCommand::send_unsequenced:
      out.data_length = read.u16(at + 6);
      break;
    case EnetCommand::send_fragment:
    case EnetCommand::send_unreliable_fragment:
      out.start_sequence = read.u16(at + 4);
      out.data_length = read.u16(at + 6);
      out.fragment_count = read.u32(at + 8);
      out.fragment_number = read.u32(at + 12);
      out.total_length = read.u32(at + 16);
      out.fragment_offset = read.u32(at + 20);
      break;
    default:
      break;
  }
  if (length - at - size < out.data_length) return false;
  offset_ = at + size + out.data_length;
  malformed_ = false;
  return true;
}

DatagramInfo inspect_datagram(std::span<const std::uint8_t> datagram, const InspectLimits& limits) {
  DatagramInfo info;
  CommandWalker walker(datagram, limits.has_checksum);
  info.peer_id = datagram_peer_id(datagram);
  bool oversize = false;
  WireCommand command;
  while (walker.next(command)) {
    // Only a CONNECT may come from a peer that has no slot yet, and it comes alone.
    if ((info.peer_id == kUnassignedPeerId) != (command.command == EnetCommand::connect)) {
      return info;
    }
    if (carries_channel(command.command) && command.channel >= limits.channel_count) return info;
    if (command.command == EnetCommand::connect) {
      if (command.connect_channels == 0 || command.connect_channels > kMaxChannelCount) {
        return info;
      }
      info.has_connect = true;
      info.connect_data = command.connect_data;
    }
    if (command.command == EnetCommand::disconnect) {
      info.has_disconnect = true;
      info.disconnect_data = command.disconnect_data;
    }
    if (is_fragment(command.command)) {
      if (!fragment_fits_its_message(command, limits.fragment_payload, limits.has_checksum) ||
          !fragment_numbered_in_sequence(command)) {
        return info;
      }
      if (command.total_length > limits.max_message_size) oversize = true;
    }
    if (command.data_length > limits.max_message_size) oversize = true;
  }
  if (walker.malformed()) return info;
  info.verdict = oversize ? DatagramVerdict::oversize : DatagramVerdict::ok;
  return info;
}

bool allowed_before_admission(std::span<const std::uint8_t> datagram, bool has_checksum) {
  // ENet queues an acknowledgement (~90 bytes) for every reliable command, pings included, and
  // frees it only when sent: a datagram of a thousand 4-byte pings would cost ~90 KB until then.
  // A client's ENet, before its connection is admitted, sends an acknowledgement of the
  // VERIFY_CONNECT and perhaps a ping: a handful of commands.
  constexpr std::size_t kMaxCommands = 32;
  std::size_t commands = 0;
  CommandWalker walker(datagram, has_checksum);
  WireCommand command;
  while (walker.next(command)) {
    if (++commands > kMaxCommands) return false;
    switch (command.command) {
      case EnetCommand::acknowledge:
      case EnetCommand::ping:
      case EnetCommand::disconnect:
      case EnetCommand::bandwidth_limit:
      case EnetCommand::throttle_configure:
        break;  // ENet handles these in place, allocating at most an acknowledgement
      default:
        // Any message: the client sends none before the server's welcome, so ENet would only
        // queue it (memory we would hold for a peer not yet admitted).
        return false;
    }
  }
  return !walker.malformed();
}

}  // namespace tickwire::net::enet_detail
