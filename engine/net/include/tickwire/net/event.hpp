#pragma once

#include <cstdint>

#include "tickwire/net/payload.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net {

enum class EventType : std::uint8_t { connected, disconnected, message };

// One thing that happened on a transport, handed out by Transport::poll() on the caller's thread.
struct Event {
  EventType type = EventType::message;
  PeerId peer = kInvalidPeer;
  Channel channel = 0;                                  // message only
  DisconnectReason reason = DisconnectReason::timeout;  // disconnected only
  Payload payload;                                      // message only
  // disconnected with ticket_rejected: why the server refused the ticket, when it said.
  TicketRefusal ticket_refusal = TicketRefusal::none;
};

}  // namespace tickwire::net
