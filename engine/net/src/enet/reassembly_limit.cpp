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

template <typename Match>
bool any_queued(const ENetList& list, Match match) {
  for (const ENetListNode* node = list.sentinel.next; node != &list.sentinel; node = node->next) {
    if (match(*reinterpret_cast<const ENetIncomingCommand*>(node))) return true;
  }
  return false;
}

// Mirrors enet_protocol_handle_send_fragment: a fragment starts a message unless the message
// lies outside the window, was delivered already, or is queued (being reassembled, or complete
// and waiting for an earlier one).
bool starts_reliable_message(const ENetChannel& channel, const WireCommand& fragment) {
  const std::uint16_t start = fragment.start_sequence;
  const std::uint16_t delivered = channel.incomingReliableSequenceNumber;
  if (!in_receive_window(start, delivered) || start == delivered) return false;
  return !any_queued(channel.incomingReliableCommands, [&](const ENetIncomingCommand& queued) {
    return queued.reliableSequenceNumber == start;
  });
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
  return !any_queued(channel.incomingUnreliableCommands, [&](const ENetIncomingCommand& queued) {
    return queued.reliableSequenceNumber == reliable && queued.unreliableSequenceNumber == start;
  });
}

}  // namespace

std::size_t incomplete_messages(const ENetPeer& peer) {
  std::size_t count = 0;
  const auto count_incomplete = [&](const ENetList& list) {
    for (const ENetListNode* node = list.sentinel.next; node != &list.sentinel; node = node->next) {
      if (reinterpret_cast<const ENetIncomingCommand*>(node)->fragmentsRemaining > 0) ++count;
    }
  };
  for (std::size_t i = 0; i < peer.channelCount; ++i) {
    count_incomplete(peer.channels[i].incomingReliableCommands);
    count_incomplete(peer.channels[i].incomingUnreliableCommands);
  }
  return count;
}

std::size_t messages_started(const ENetPeer& peer, std::span<const std::uint8_t> datagram) {
  // Two fragments of one new message in one datagram count twice. ENet's sender never packs them
  // so (a fragment but the last fills a datagram), so only a forged datagram is counted high.
  std::size_t started = 0;
  CommandWalker walker(datagram);
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
                                std::size_t limit) {
  const std::size_t started = messages_started(peer, datagram);
  // Most datagrams start nothing; only they skip the walk over the peer's queues.
  return started > 0 && incomplete_messages(peer) + started > limit;
}

}  // namespace tickwire::net::enet_detail
