#include "session/session_config.hpp"

#include <string>

namespace tickwire::net::session {

Status validate_session_settings(const std::optional<TicketRequirement>& require_ticket,
                                 SessionSecurity security) {
  if (require_ticket && require_ticket->server_address.empty()) {
    return Status::error(
        "require_ticket.server_address is empty: name this game server as tickets do, host:port "
        "(the same on every transport of the server)");
  }
  if (require_ticket && require_ticket->deadline_ms == 0) {
    return Status::error("require_ticket.deadline_ms = 0 is invalid: use > 0");
  }
  if (require_ticket && require_ticket->max_unproven_attempts_per_ticket == 0) {
    return Status::error(
        "require_ticket.max_unproven_attempts_per_ticket = 0 is invalid: use > 0 (no attempt "
        "could show a ticket)");
  }
  if (security == SessionSecurity::encrypted && !require_ticket) {
    return Status::error(
        "security is encrypted but require_ticket is not set: the session keys travel in the "
        "join ticket; set require_ticket (with seal_keys), or security = "
        "plaintext_for_development for a development or LAN server (or a transport without "
        "gameplay sessions)");
  }
  if (security == SessionSecurity::encrypted &&
      require_ticket->seal_keys.public_key == ServerSealPublicKey{}) {
    return Status::error(
        "require_ticket.seal_keys is empty: an encrypted server needs its seal key pair "
        "(GameServerSealKeys::generate()) to open the session keys in tickets");
  }
  return {};
}

}  // namespace tickwire::net::session
