#pragma once
// How many fragmented messages a peer may have partly received at once. ENet allocates a whole
// message (and its fragment bitmap) for the first fragment it sees of it and keeps it until the
// last one arrives, which an attacker never sends. Counted from ENet's own incoming queues, so
// that no count of ours can drift from ENet's.
//
// What bounds what a peer makes a server hold (ENet 1.3.17):
// - Without a join ticket, nothing: ENet never gives such a sender a slot (enet_handshake.cpp).
// - With a ticket but before admission, nothing: filter_datagram lets through only ENet's
//   housekeeping (allowed_before_admission), no message.
// - Message bytes held for reassembly or ordering: ENet's totalWaitingData against
//   max_waiting_data. ENet checks it before allocating each new message, so one message of up to
//   max_message_size can go past it.
// - Not counted in totalWaitingData: each held message's bookkeeping (ENetIncomingCommand,
//   ENetPacket, ~200 bytes with malloc's overhead) and each fragmented message's bitmap (a bit per
//   fragment). The inspector keeps the fragment count at ceil(max_message_size / 544) at most
//   (64 bytes of bitmap at 256 KiB); this file caps the fragmented messages' number.
// - Unfragmented reliable messages held out of order are bounded only by ENet's receive window
//   (7 x 4096 sequence numbers per channel): ~6 MB of bookkeeping per channel for 28 KB counted
//   as waiting data, for an admitted peer that never sends the message ENet waits for.

#include <enet/enet.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace tickwire::net::enet_detail {

// Messages `peer` has partly received: ENet's incoming commands still missing fragments.
std::size_t incomplete_messages(const ENetPeer& peer);

// Fragments in `datagram` (inspected ok) that ENet would take as the first of a new message
// rather than as part of one it is already reassembling or has delivered. has_checksum as in
// InspectLimits.
std::size_t messages_started(const ENetPeer& peer, std::span<const std::uint8_t> datagram,
                             bool has_checksum);

// True if processing `datagram` would leave `peer` with more than `limit` incomplete messages.
bool starts_messages_over_limit(const ENetPeer& peer, std::span<const std::uint8_t> datagram,
                                bool has_checksum, std::size_t limit);

}  // namespace tickwire::net::enet_detail
