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
// the MTU less the protocol header (4 bytes, sent time included) and the fragment command (24).
// ENet's optional checksum would take 4 more; Tickwire configures none.
constexpr std::size_t enet_fragment_payload(std::uint32_t mtu) {
  return mtu - 4 - 24;
}

struct InspectLimits {
  std::size_t max_message_size = 0;  // largest message a fragment may announce
  std::size_t channel_count = 0;     // channel ids must be below this
  // enet_fragment_payload() of the sending peer's negotiated MTU; 0 when the sender is not known
  // yet, and then any payload an MTU in kMinEnetMtu..kMaxEnetMtu gives is accepted.
  std::size_t fragment_payload = 0;
};

enum class DatagramVerdict : std::uint8_t {
  ok,
  malformed,  // does not parse as ENet protocol: drop it
  oversize,   // parses, but announces a message over max_message_size: drop it, punish the sender
};

struct DatagramInfo {
  DatagramVerdict verdict = DatagramVerdict::malformed;
  std::uint16_t peer_id = 0;       // target peer slot, kUnassignedPeerId for a connection attempt
  bool has_connect = false;        // carries a CONNECT command
  std::uint32_t connect_data = 0;  // the CONNECT's user data (our protocol id)
};

// ENet's peer id for datagrams from a peer that has no slot yet (a CONNECT).
inline constexpr std::uint16_t kUnassignedPeerId = 0x0FFF;

// The target peer slot named in a datagram's header, or kUnassignedPeerId if it has no header.
std::uint16_t datagram_peer_id(std::span<const std::uint8_t> datagram);

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
};

// Walks the commands of one datagram, each bounds-checked against its end. Checks the layout
// only (known command, whole command, whole data); what the fields say is inspect_datagram's.
class CommandWalker {
 public:
  explicit CommandWalker(std::span<const std::uint8_t> datagram);
  // The next command, or false at the end of the datagram or where it stops parsing.
  bool next(WireCommand& out);
  // True once the walk found something that is not ENet 1.3 (also a datagram with no command).
  bool malformed() const { return malformed_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
  bool malformed_ = false;
};

// A join ticket travels as one message (a kind byte, then the ticket) that ENet sends unfragmented
// at any MTU it may settle on: 548 bytes at most.
inline constexpr std::size_t kMaxTicketMessage = enet_fragment_payload(kMinEnetMtu);

// Before a server admits a peer (its join ticket checked), the peer may send only ENet's own
// housekeeping (acknowledgements, pings, disconnect, bandwidth and throttle settings) and its
// first message on `control_channel`, unfragmented, reliable, of at most `max_first_message`
// bytes: the ticket; and at most 32 commands in a datagram. Nothing else reaches ENet, so a peer
// without a ticket makes ENet allocate nothing but the acknowledgements it owes. For a datagram
// inspect_datagram() found ok.
bool allowed_before_admission(std::span<const std::uint8_t> datagram, std::uint8_t control_channel,
                              std::size_t max_first_message);

}  // namespace tickwire::net::enet_detail
