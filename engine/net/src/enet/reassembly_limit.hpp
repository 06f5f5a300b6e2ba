#pragma once
// How many fragmented messages a peer may have partly received at once. ENet allocates a whole
// message (and its fragment bitmap) for the first fragment it sees of it and keeps it until the
// last one arrives, which an attacker never sends. ENet's own max_waiting_data bounds the bytes of
// those messages; this bounds how many there are, read from ENet's own incoming queues so that no
// count of ours can drift from ENet's.

#include <enet/enet.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace tickwire::net::enet_detail {

// Messages `peer` has partly received: ENet's incoming commands still missing fragments.
std::size_t incomplete_messages(const ENetPeer& peer);

// Fragments in `datagram` (inspected ok) that ENet would take as the first of a new message
// rather than as part of one it is already reassembling or has delivered.
std::size_t messages_started(const ENetPeer& peer, std::span<const std::uint8_t> datagram);

// True if processing `datagram` would leave `peer` with more than `limit` incomplete messages.
bool starts_messages_over_limit(const ENetPeer& peer, std::span<const std::uint8_t> datagram,
                                std::size_t limit);

}  // namespace tickwire::net::enet_detail
