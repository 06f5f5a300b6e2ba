#include "enet/retransmit_bound.hpp"

#include <enet/time.h>

#include <algorithm>
#include <limits>
#include <optional>

namespace tickwire::net::enet_detail {
namespace {

// Far enough ahead that ENet looks at no timer of a held peer, well within ENet's time arithmetic
// (ENET_TIME_OVERFLOW, a day).
constexpr enet_uint32 kHoldMs = 60'000;

// When the first of `peer`'s commands in flight is due for a resend; nullopt if none is in flight.
std::optional<enet_uint32> earliest_resend(ENetPeer& peer) {
  std::optional<enet_uint32> earliest;
  for (ENetListIterator it = enet_list_begin(&peer.sentReliableCommands);
       it != enet_list_end(&peer.sentReliableCommands); it = enet_list_next(it)) {
    const auto& command = *reinterpret_cast<const ENetOutgoingCommand*>(it);
    const enet_uint32 due = command.sentTime + command.roundTripTimeout;
    if (!earliest || ENET_TIME_LESS(due, *earliest)) earliest = due;
  }
  return earliest;
}

// Shortens the wait of one command that ENet sent at least once. True if it did.
bool bound_command(const ENetPeer& peer, ENetOutgoingCommand& command,
                   const RetransmitBound& bound) {
  const std::uint32_t limit = bound.limit_for(peer, command.sendAttempts);
  if (command.roundTripTimeout <= limit) return false;
  command.roundTripTimeout = limit;
  return true;
}

}  // namespace

std::uint32_t RetransmitBound::limit_for(const ENetPeer& peer, std::uint32_t send_attempts) const {
  std::uint64_t limit = std::numeric_limits<std::uint32_t>::max();
  // A command sent n times waits for its n-th resend: bounded while n <= resends_without_backoff.
  if (send_attempts <= resends_without_backoff) {
    // ENet's own RTO for a command it sends now.
    limit = static_cast<std::uint64_t>(peer.roundTripTime) +
            4 * static_cast<std::uint64_t>(peer.roundTripTimeVariance);
  }
  if (max_timeout_ms != 0) limit = std::min<std::uint64_t>(limit, max_timeout_ms);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(limit, 1));
}

std::uint32_t apply_retransmit_bound(ENetPeer& peer, const RetransmitBound& bound) {
  if (!bound.active()) return 0;
  std::uint32_t shortened = 0;
  for (ENetListIterator it = enet_list_begin(&peer.sentReliableCommands);
       it != enet_list_end(&peer.sentReliableCommands); it = enet_list_next(it)) {
    auto& command = *reinterpret_cast<ENetOutgoingCommand*>(it);
    if (bound_command(peer, command, bound)) ++shortened;
  }
  // ENet looks at its timers only from nextTimeout on, which it took from the wait of the command
  // first in the list.
  const auto earliest_due = earliest_resend(peer);
  if (earliest_due && ENET_TIME_LESS(*earliest_due, peer.nextTimeout)) {
    peer.nextTimeout = *earliest_due;
  }
  // Resends ENet could not put on the wire yet (the reliable window was full) wait at the front of
  // outgoingCommands with their doubled wait, which they keep once sent. Commands never sent have
  // a wait of 0 and come after them.
  for (ENetListIterator it = enet_list_begin(&peer.outgoingCommands);
       it != enet_list_end(&peer.outgoingCommands); it = enet_list_next(it)) {
    auto& command = *reinterpret_cast<ENetOutgoingCommand*>(it);
    const bool reliable =
        (command.command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE) != 0;
    if (!reliable || command.roundTripTimeout == 0) break;
    if (bound_command(peer, command, bound)) ++shortened;
  }
  return shortened;
}

bool hold_due_resends(ENetPeer& peer, enet_uint32 now) {
  if (enet_list_empty(&peer.sentReliableCommands)) return false;
  if (ENET_TIME_LESS(now, peer.nextTimeout)) return false;
  peer.nextTimeout = now + kHoldMs;
  return true;
}

void release_held_resends(ENetPeer& peer) {
  // ENet takes nextTimeout from the first command in flight; the earliest of them is never later.
  if (const auto earliest_due = earliest_resend(peer)) peer.nextTimeout = *earliest_due;
}

}  // namespace tickwire::net::enet_detail
