#pragma once
// Bounds ENet's wait before it resends a reliable command (its roundTripTimeout).
//
// ENet 1.3 sends a reliable command and waits RTT + 4 x RTT variance (the RTO) for its
// acknowledgement; each time the wait runs out it resends the command and doubles the wait, without
// bound. On a lossy link that is what holds reliable messages up: at 20 % loss each way one
// datagram in a hundred needs a third resend, which ENet makes 7 RTOs after the first send
// (1 + 2 + 4) instead of 3, and everything behind it on its channel waits as long. The bound keeps
// the wait before each of a command's first `resends_without_backoff` resends at one RTO (what
// yojimbo does with its fixed resend time); after those ENet's doubling resumes, so that a peer
// that has gone silent is not sent its unacknowledged data every RTO until it times out. Every
// wait is at most `max_timeout_ms` in any case.
//
// ENet keeps no hook for it, so the bound edits ENet's own lists between services: the waits of
// commands in flight (sentReliableCommands) and of resends still queued (at the front of
// outgoingCommands, where ENet puts them), and the peer's nextTimeout, which ENet derives from the
// first command's wait and before which it looks at no timer.

#include <enet/enet.h>

#include <cstdint>

namespace tickwire::net::enet_detail {

struct RetransmitBound {
  std::uint32_t resends_without_backoff = 0;  // resends of a command that wait one RTO each
  std::uint32_t max_timeout_ms = 0;           // 0 = no fixed cap

  bool active() const { return resends_without_backoff != 0 || max_timeout_ms != 0; }
  // The longest wait, in milliseconds, for a command of `peer` sent `send_attempts` times so far.
  std::uint32_t limit_for(const ENetPeer& peer, std::uint32_t send_attempts) const;
};

// Applies `bound` to every reliable command of `peer` sent at least once. Returns how many waits it
// shortened.
std::uint32_t apply_retransmit_bound(ENetPeer& peer, const RetransmitBound& bound);

// Resend timers that ran out while the game was not polling. ENet's service checks its timers
// before it reads the socket, so after a pause (a long frame, a descheduled thread) it would take
// every command whose acknowledgement is already waiting in the socket for lost: count it in
// packetsLost (and so in ConnectionStats::packet_loss), resend it and double its wait. The
// endpoint holds such timers through one service that does not wait, which reads what has
// arrived, and then releases them: only what is still unacknowledged after the read times out.
//
// Holds the resend timer of `peer` if it has run out at `now` (ENet's clock); true if it did.
bool hold_due_resends(ENetPeer& peer, enet_uint32 now);
// Sets the next timer of `peer` from the commands still in flight after a hold.
void release_held_resends(ENetPeer& peer);

}  // namespace tickwire::net::enet_detail
