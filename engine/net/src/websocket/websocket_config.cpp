// validate() of the WebSocket configs: each failure names the field, its value and the allowed
// range.

#include <algorithm>
#include <string>
#include <string_view>

#include "session/session_config.hpp"
#include "session/stream_handshake.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {
namespace {

template <typename T>
Status out_of_range(const char* field, T value, const std::string& allowed) {
  return Status::error(std::string(field) + " = " + std::to_string(value) +
                       " is invalid: " + allowed);
}

Status bad_text(const char* field, std::string_view value, const std::string& allowed) {
  return Status::error(std::string(field) + " = '" + std::string(value) +
                       "' is invalid: " + allowed);
}

// Text that ends up in an HTTP header must not carry control characters (CR LF would let it
// inject headers of its own).
bool fits_in_a_header(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

Status WebSocketCommonConfig::validate() const {
  if (channel_count < 1 || channel_count > 255) {
    return out_of_range("channel_count", channel_count, "use 1..255");
  }
  if (framing == WebSocketFraming::raw && channel_count != 2) {
    return out_of_range("channel_count", channel_count,
                        "raw framing has exactly 2 channels (0 binary, 1 text): use 2");
  }
  if (max_message_size < 1 || max_message_size > 64u * 1024 * 1024) {
    return out_of_range("max_message_size", max_message_size, "use 1 byte..64 MiB");
  }
  if (max_queued_bytes_per_peer < max_message_size) {
    return out_of_range("max_queued_bytes_per_peer", max_queued_bytes_per_peer,
                        "must be at least max_message_size, or no message could be sent");
  }
  if (max_unpolled_bytes_per_peer < 1) {
    return out_of_range("max_unpolled_bytes_per_peer", max_unpolled_bytes_per_peer, "use >= 1");
  }
  if (handshake_timeout_ms == 0) {
    return out_of_range("handshake_timeout_ms", handshake_timeout_ms, "use > 0");
  }
  if (idle_timeout_ms == 0) return out_of_range("idle_timeout_ms", idle_timeout_ms, "use > 0");
  if (ping_interval_ms == 0) return out_of_range("ping_interval_ms", ping_interval_ms, "use > 0");
  return {};
}

Status WebSocketServerConfig::validate() const {
  if (bind_address.empty()) {
    return Status::error("bind_address is empty: use e.g. 127.0.0.1, ::1 or ::");
  }
  if (max_connections < 1 || max_connections > 100000) {
    return out_of_range("max_connections", max_connections, "use 1..100000");
  }
  if (max_connections_per_address < 1) {
    return out_of_range("max_connections_per_address", max_connections_per_address, "use >= 1");
  }
  if (max_pending_handshakes < 1) {
    return out_of_range("max_pending_handshakes", max_pending_handshakes, "use >= 1");
  }
  if (connection_burst_per_address < 1) {
    return out_of_range("connection_burst_per_address", connection_burst_per_address, "use >= 1");
  }
  if (!(connections_per_address_per_second > 0)) {
    return out_of_range("connections_per_address_per_second", connections_per_address_per_second,
                        "use > 0");
  }
  if (first_byte_timeout_ms < 1) {
    return out_of_range("first_byte_timeout_ms", first_byte_timeout_ms, "use >= 1");
  }
  for (const std::string& origin : allowed_origins) {
    if (origin.empty() || !fits_in_a_header(origin)) {
      return bad_text("allowed_origins entry", origin,
                      "use an origin such as https://game.example, or *");
    }
  }
  if (Status status = session::validate_session_settings(require_ticket, security); !status.ok()) {
    return status;
  }
  if (require_ticket && (max_message_size_before_admission < session::stream::kMaxHelloBytes ||
                         max_message_size_before_admission > 64 * 1024)) {
    return out_of_range("max_message_size_before_admission", max_message_size_before_admission,
                        "use " + std::to_string(session::stream::kMaxHelloBytes) +
                            " (the largest ticket and proof) .. 65536");
  }
  if (require_ticket && common.framing != WebSocketFraming::channel_prefix) {
    return Status::error(
        "require_ticket is set with raw framing: gameplay sessions need framing = channel_prefix");
  }
  if (Status status = common.validate(); !status.ok()) return status;
  if (transport_security == WebSocketSecurity::tls) {
    if (tls.certificate_chain_file.empty()) {
      return Status::error(
          "tls.certificate_chain_file is empty: give the server's certificate chain (PEM), or "
          "set transport_security = insecure_plaintext for a LAN test");
    }
    if (tls.private_key_file.empty()) {
      return Status::error(
          "tls.private_key_file is empty: give the certificate's private key (PEM)");
    }
  }
  return {};
}

Status WebSocketClientConfig::validate() const {
  if (server_host.empty()) return Status::error("server_host is empty: use e.g. 127.0.0.1");
  if (server_port == 0) return out_of_range("server_port", server_port, "use 1..65535");
  if (path.empty() || path.front() != '/' || !fits_in_a_header(path) ||
      path.find(' ') != std::string::npos) {
    return bad_text("path", path, "must start with '/' and hold no spaces or control characters");
  }
  if (!fits_in_a_header(origin)) {
    return bad_text("origin", origin, "must hold no control characters");
  }
  if (connect_timeout_ms == 0) {
    return out_of_range("connect_timeout_ms", connect_timeout_ms, "use > 0");
  }
  if (join_ticket.size() > 1024) {
    return out_of_range("join_ticket size", join_ticket.size(), "a ticket is at most 1024 bytes");
  }
  if (session_keys && join_ticket.empty()) {
    return Status::error(
        "session_keys are set but join_ticket is empty: the keys belong to a ticket; set both "
        "(from the lobby's match start), or neither for a plain WebSocket client");
  }
  if (!join_ticket.empty() && common.framing != WebSocketFraming::channel_prefix) {
    return Status::error(
        "join_ticket is set with raw framing: gameplay sessions need framing = channel_prefix");
  }
  // The name goes into the SNI extension and the certificate check: a host name, not a URL.
  if (!fits_in_a_header(tls.server_name) ||
      tls.server_name.find_first_of(" /") != std::string::npos) {
    return bad_text("tls.server_name", tls.server_name,
                    "use a host name such as lobby.example, without scheme, port or spaces");
  }
  return common.validate();
}

}  // namespace tickwire::net
