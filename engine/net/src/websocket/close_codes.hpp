#pragma once
// How a DisconnectReason crosses the wire in a WebSocket close frame, and back. The reason text is
// the reason's name, so Tickwire peers recover it exactly; the code is the nearest RFC 6455 code,
// for browsers and for peers that send no text (Beast's own 1009 on an oversize message).

#include <cstdint>
#include <string_view>

#include "tickwire/net/types.hpp"

namespace tickwire::net::websocket_detail {

// RFC 6455 section 7.4.1, plus 1013 (try again later) from the IANA registry.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t bad_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t try_again_later = 1013;
}  // namespace close_code

struct CloseFrame {
  std::uint16_t code = close_code::normal;
  std::string_view reason;  // to_string(DisconnectReason): static storage
};

CloseFrame close_frame_for(DisconnectReason reason);
// The reason a close frame stands for: its text if that names a DisconnectReason, else its code.
DisconnectReason reason_from_close(std::uint16_t code, std::string_view text);

}  // namespace tickwire::net::websocket_detail
