#include "enet/reassembly_limit.hpp"

#include "enet/datagram_inspector.hpp"

namespace tickwire::net::enet_detail {
namespace {

// ENet's receive window (peer.c, protocol.c): a reliable sequence number more than a few windows
// ahead of the last one delivered, or behind it, is ignored without allocating anything.
bool in_receive_window(std::uint16_t sequence, std::uint16_t delivered) {
  unsigned window = sequence / ENET_PEER_RELIABLE_WINDOW_SIZE;
  const unsigned current = delivered / ENET_PEER_RELIABLE_WINDOW_SIZE;
  if (sequence < delivered) window += ENET_PEER_RELIABLE_WINDOWS;
  return window >= current && window < current + ENET_PEER_FREE_RELIABLE_WINDOWS - 1;
}

// Incoming commands in one of a channel's queues for which `counts` holds.
template <typename Predicate>
std::size_t count_queued(const ENetList& list, Predicate counts) {
  std::size_t count = 0;
  for (const ENetListNode* node = list.sentinel.next; node != &list.sentinel; node = node->next) {
    if (counts(*reinterpret_cast<const ENetIncomingCommand*>(node))) ++count;
  }
  return count;
}

// Mirrors enet_protocol_handle_send_fragment: a fragment starts a message unless the message
// lies outside the window, was delivered already, or is queued (being reassembled, or complete
// and waiting for an earlier one).
bool starts_reliable_message(const ENetChannel& channel, const WireCommand& fragment) {
  const std::uint16_t start = fragment.start_sequence;
  const std::uint16_t delivered = channel.incomingReliableSequenceNumber;
  if (!in_receive_window(start, delivered) || start == delivered) return false;
  return count_queued(channel.incomingReliableCommands, [&](const ENetIncomingCommand& queued) {
           return queued.reliableSequenceNumber == start;
         }) == 0;
}

// Mirrors enet_protocol_handle_send_unreliable_fragment.
bool starts_unreliable_message(const ENetChannel& channel, const WireCommand& fragment) {
  const std::uint16_t reliable = fragment.reliable_sequence;
  const std::uint16_t start = fragment.start_sequence;
  if (!in_receive_window(reliable, channel.incomingReliableSequenceNumber)) return false;
  if (reliable == channel.incomingReliableSequenceNumber &&
      start <= channel.incomingUnreliableSequenceNumber) {
    return false;
  }
  return count_queued(channel.incomingUnreliableCommands, [&](const ENetIncomingCommand& queued) {
           return queued.reliableSequenceNumber == reliable &&
                  queued.unreliableSequenceNumber == start;
         }) == 0;
}

}  // namespace

std::size_t incomplete_messages(const ENetPeer& peer) {
  const auto incomplete = [](const ENetIncomingCommand& queued) {
    return queued.fragmentsRemaining > 0;
  };
  std::size_t count = 0;
  for (std::size_t i = 0; i < peer.channelCount; ++i) {
    count += count_queued(peer.channels[i].incomingReliableCommands, incomplete);
    count += count_queued(peer.channels[i].incomingUnreliableCommands, incomplete);
  }
  return count;
}

std::size_t messages_started(const ENetPeer& peer, std::span<const std::uint8_t> datagram,
                             bool has_checksum) {
  // Two fragments of one new message in one datagram count twice. ENet's sender never packs them
  // so (a fragment but the last fills a datagram), so only a forged datagram is counted high.
  std::size_t started = 0;
  CommandWalker walker(datagram, has_checksum);
  WireCommand command;
  while (walker.next(command)) {
    if (command.channel >= peer.channelCount) continue;  // ENet refuses it
    const ENetChannel& channel = peer.channels[command.channel];
    if (command.command == EnetCommand::send_fragment) {
      started += starts_reliable_message(channel, command) ? 1 : 0;
    } else if (command.command == EnetCommand::send_unreliable_fragment) {
      started += starts_unreliable_message(channel, command) ? 1 : 0;
    }
  }
  return started;
}

bool starts_messages_over_limit(const ENetPeer& peer, std::span<const std::uint8_t> datagram,
                                bool has_checksum, std::size_t limit) {
  const std::size_t started = messages_started(peer, datagram, has_checksum);
  // Most datagrams start nothing, and skip the walk over every queue of the peer.
  return started > 0 && incomplete_messages(peer) + started > limit;
}

}  // namespace tickwire::net::enet_detail
