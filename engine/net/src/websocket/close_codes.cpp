#include "websocket/close_codes.hpp"

namespace tickwire::net::websocket_detail {

CloseFrame close_frame_for(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::closed:
    case DisconnectReason::kicked:
      return {close_code::normal, to_string(reason)};
    case DisconnectReason::shutdown:
      return {close_code::going_away, to_string(reason)};
    case DisconnectReason::protocol_error:
      return {close_code::protocol_error, to_string(reason)};
    case DisconnectReason::message_too_large:
      return {close_code::too_big, to_string(reason)};
    case DisconnectReason::server_full:
      return {close_code::try_again_later, to_string(reason)};
    case DisconnectReason::timeout:
    case DisconnectReason::refused:
    case DisconnectReason::rate_limited:
    case DisconnectReason::connect_failed:
    case DisconnectReason::ticket_rejected:
    case DisconnectReason::tls_failed:
      break;
  }
  return {close_code::policy_violation, to_string(reason)};
}

DisconnectReason reason_from_close(std::uint16_t code, std::string_view text) {
  constexpr auto kLast = static_cast<int>(DisconnectReason::tls_failed);
  for (int value = 0; value <= kLast; ++value) {
    const auto reason = static_cast<DisconnectReason>(value);
    if (!text.empty() && text == to_string(reason)) return reason;
  }
  switch (code) {
    case close_code::going_away:
      return DisconnectReason::shutdown;
    case close_code::protocol_error:
    case close_code::unsupported_data:
    case close_code::bad_payload:
      return DisconnectReason::protocol_error;
    case close_code::policy_violation:
      return DisconnectReason::refused;
    case close_code::too_big:
      return DisconnectReason::message_too_large;
    case close_code::try_again_later:
      return DisconnectReason::server_full;
    default:
      return DisconnectReason::closed;
  }
}

}  // namespace tickwire::net::websocket_detail
