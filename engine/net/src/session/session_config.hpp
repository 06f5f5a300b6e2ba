#pragma once
// The checks of a gameplay server's ticket requirement and session security, the same on every
// transport (EnetServerConfig::validate() and WebSocketServerConfig::validate() call it).

#include <optional>

#include "tickwire/net/session_security.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net::session {

// Fails, naming the field, when the requirement is incomplete or the security needs what is not
// there (encrypted sessions need a ticket requirement with the server's seal keys).
Status validate_session_settings(const std::optional<TicketRequirement>& require_ticket,
                                 SessionSecurity security);

}  // namespace tickwire::net::session
