#pragma once
// What combine_servers needs to know of a server that admits players by ticket: the requirement it
// checks tickets against, and its verifier, so that the transports of one game server can share
// one memory of used tickets. Implemented by the ENet and WebSocket server transports; found with
// dynamic_cast, so that ServerTransport's public interface stays as it is.

#include <optional>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/session_security.hpp"

namespace tickwire::net::detail {

class TicketGate {
 public:
  virtual ~TicketGate() = default;
  // The requirement, or nothing when the server admits without tickets.
  virtual const std::optional<TicketRequirement>& ticket_requirement() const = 0;
  // The verifier (null when no tickets are required).
  virtual JoinTicketVerifier* ticket_verifier() = 0;
};

}  // namespace tickwire::net::detail
