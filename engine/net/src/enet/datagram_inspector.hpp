#pragma once
// Checks a raw ENet datagram before ENet's protocol code reads it. ENet trusts lengths and
// counts from the wire more than we want to (and a fragment header may announce a message of up
// to 4 GB); this walks every command with bounds checks and reports what it found, without
// touching any state. Pure, so it is unit tested and fuzzed on its own.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tickwire::net::enet_detail {

// ENet 1.3's MTU range (ENET_PROTOCOL_MINIMUM_MTU / MAXIMUM_MTU). Both ends settle on one MTU in
// the handshake: ENet 1.3.17's server takes the one the client's CONNECT names, clamped to this
// range, and answers with it; the client keeps the lower of its own and that answer.
inline constexpr std::uint32_t kMinEnetMtu = 576;
inline constexpr std::uint32_t kMaxEnetMtu = 4096;

// Message bytes ENet's sender puts in every fragment but the last, for a peer with this MTU:
// the MTU less the protocol header (4 bytes, sent time included), the checksum field when the
// host has a checksum callback (4: Tickwire's tag, which every Tickwire host has) and the
// fragment command (24).
constexpr std::size_t enet_fragment_payload(std::uint32_t mtu, bool has_checksum) {
  return mtu - 4 - (has_checksum ? 4 : 0) - 24;
}

struct InspectLimits {
  std::size_t max_message_size = 0;  // largest message a fragment may announce
  std::size_t channel_count = 0;     // channel ids must be below this
  bool has_checksum = false;         // a 4-byte checksum (Tickwire's tag) follows the header
  // enet_fragment_payload() of the sending peer's negotiated MTU; 0 when the sender is not known
  // yet, and then any payload an MTU in kMinEnetMtu..kMaxEnetMtu gives (with has_checksum) is
  // accepted.
  std::size_t fragment_payload = 0;
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

// The target peer slot named in a datagram's header, or kUnassignedPeerId if it has no header.
std::uint16_t datagram_peer_id(std::span<const std::uint8_t> datagram);

// Where the checksum field (Tickwire's tag) starts: after ENet's 2-byte header and the 2-byte sent
// time its header flags announce. The datagram must hold at least the 2-byte header.
std::size_t datagram_checksum_offset(std::span<const std::uint8_t> datagram);

DatagramInfo inspect_datagram(std::span<const std::uint8_t> datagram, const InspectLimits& limits);

// ENet 1.3's command numbers (ENET_PROTOCOL_COMMAND_*), flags masked off.
enum class EnetCommand : std::uint8_t {
  acknowledge = 1,
  connect = 2,
  verify_connect = 3,
  disconnect = 4,
  ping = 5,
  send_reliable = 6,
  send_unreliable = 7,
  send_fragment = 8,
  send_unsequenced = 9,
  bandwidth_limit = 10,
  throttle_configure = 11,
  send_unreliable_fragment = 12,
};

// One command of a datagram, as read from the wire (big-endian fields in host order).
struct WireCommand {
  std::size_t offset = 0;       // where the command starts in the datagram
  std::size_t header_size = 0;  // its size without the data that follows it
  EnetCommand command = EnetCommand::acknowledge;
  std::uint8_t channel = 0;
  std::uint16_t reliable_sequence = 0;
  std::size_t data_length = 0;  // message bytes following the command
  // The two fragment commands only.
  std::uint16_t start_sequence = 0;  // of the message's first fragment
  std::uint32_t fragment_count = 0;
  std::uint32_t fragment_number = 0;
  std::uint32_t total_length = 0;
  std::uint32_t fragment_offset = 0;
  // CONNECT only.
  std::uint32_t connect_channels = 0;
  std::uint32_t connect_data = 0;
  // DISCONNECT only: its user data (the reason).
  std::uint32_t disconnect_data = 0;
};

// Walks the commands of one datagram, each bounds-checked against its end. Checks the layout
// only (known command, whole command, whole data); what the fields say is inspect_datagram's.
class CommandWalker {
 public:
  // has_checksum: a 4-byte checksum field follows the datagram's header (InspectLimits).
  CommandWalker(std::span<const std::uint8_t> datagram, bool has_checksum);
  // The next command, or false at the end of the datagram or where it stops parsing.
  bool next(WireCommand& out);
  // True once the walk found something that is not ENet 1.3 (also a datagram with no command).
  bool malformed() const { return malformed_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
  bool malformed_ = false;
};

// A peer that passed Tickwire's handshake (its join ticket verified) gets an ENet slot, but is not
// admitted until ENet reports its connection. Until then it may send only ENet's own housekeeping
// (acknowledgements, pings, disconnect, bandwidth and throttle settings), at most 32 commands in a
// datagram, and no message at all: a client sends none before the server's welcome. Nothing else
// reaches ENet, so such a peer makes ENet allocate nothing but the acknowledgements it owes. For a
// datagram inspect_datagram() found ok; has_checksum as in InspectLimits.
bool allowed_before_admission(std::span<const std::uint8_t> datagram, bool has_checksum);

}  // namespace tickwire::net::enet_detail
