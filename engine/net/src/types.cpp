#include <cstring>
#include <new>

#include "tickwire/net/payload.hpp"
#include "tickwire/net/transport.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net {

std::string_view to_string(Delivery delivery) {
  switch (delivery) {
    case Delivery::reliable_ordered:
      return "reliable_ordered";
    case Delivery::unreliable_sequenced:
      return "unreliable_sequenced";
    case Delivery::unreliable:
      return "unreliable";
  }
  return "unknown";
}

std::string_view to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::timeout:
      return "timeout";
    case DisconnectReason::closed:
      return "closed";
    case DisconnectReason::kicked:
      return "kicked";
    case DisconnectReason::refused:
      return "refused";
    case DisconnectReason::server_full:
      return "server_full";
    case DisconnectReason::protocol_error:
      return "protocol_error";
    case DisconnectReason::message_too_large:
      return "message_too_large";
    case DisconnectReason::rate_limited:
      return "rate_limited";
    case DisconnectReason::shutdown:
      return "shutdown";
    case DisconnectReason::connect_failed:
      return "connect_failed";
    case DisconnectReason::ticket_rejected:
      return "ticket_rejected";
    case DisconnectReason::tls_failed:
      return "tls_failed";
  }
  return "unknown";
}

std::string_view to_string(MatchEndReason reason) {
  switch (reason) {
    case MatchEndReason::finished:
      return "finished";
    case MatchEndReason::abandoned:
      return "abandoned";
    case MatchEndReason::nobody_joined:
      return "nobody_joined";
    case MatchEndReason::server_lost:
      return "server_lost";
  }
  return "unknown";
}

std::string_view to_string(TicketRefusal refusal) {
  switch (refusal) {
    case TicketRefusal::none:
      return "none";
    case TicketRefusal::missing:
      return "missing";
    case TicketRefusal::malformed:
      return "malformed";
    case TicketRefusal::bad_signature:
      return "bad_signature";
    case TicketRefusal::expired:
      return "expired";
    case TicketRefusal::wrong_server:
      return "wrong_server";
    case TicketRefusal::reused:
      return "reused";
    case TicketRefusal::no_keys:
      return "no_keys";
    case TicketRefusal::bad_proof:
      return "bad_proof";
  }
  return "unknown";
}

std::string_view to_string(SendResult result) {
  switch (result) {
    case SendResult::ok:
      return "ok";
    case SendResult::unknown_peer:
      return "unknown_peer";
    case SendResult::too_large:
      return "too_large";
    case SendResult::invalid_channel:
      return "invalid_channel";
    case SendResult::queue_full:
      return "queue_full";
    case SendResult::failed:
      return "failed";
  }
  return "unknown";
}

Payload Payload::copy_of(std::span<const std::byte> bytes) {
  auto* copy = new std::byte[bytes.size() == 0 ? 1 : bytes.size()];
  if (!bytes.empty()) std::memcpy(copy, bytes.data(), bytes.size());
  return Payload(
      copy, bytes.size(), [](void* owner) { delete[] static_cast<std::byte*>(owner); }, copy);
}

}  // namespace tickwire::net
