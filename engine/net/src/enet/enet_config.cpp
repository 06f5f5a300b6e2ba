// validate() of the ENet configs: each failure names the field, its value and the allowed range.

#include <string>

#include "enet/datagram_inspector.hpp"
#include "session/session_config.hpp"
#include "tickwire/net/enet_transport.hpp"

namespace tickwire::net {
namespace {

template <typename T>
Status out_of_range(const char* field, T value, const std::string& allowed) {
  return Status::error(std::string(field) + " = " + std::to_string(value) +
                       " is invalid: " + allowed);
}

}  // namespace

Status EnetCommonConfig::validate() const {
  if (channel_count < 1 || channel_count > 254) {
    return out_of_range("channel_count", channel_count, "use 1..254");
  }
  if (max_message_size < 1 || max_message_size > 64u * 1024 * 1024) {
    return out_of_range("max_message_size", max_message_size, "use 1 byte..64 MiB");
  }
  if (max_waiting_data < max_message_size) {
    return out_of_range("max_waiting_data", max_waiting_data,
                        "must be at least max_message_size, or no message could be reassembled");
  }
  if (max_queued_bytes_per_peer < max_message_size) {
    return out_of_range("max_queued_bytes_per_peer", max_queued_bytes_per_peer,
                        "must be at least max_message_size, or no message could be sent");
  }
  if (mtu < enet_detail::kMinEnetMtu || mtu > enet_detail::kMaxEnetMtu) {
    return out_of_range("mtu", mtu, "use 576..4096 bytes");
  }
  if (max_incomplete_messages_per_peer < 1) {
    return out_of_range("max_incomplete_messages_per_peer", max_incomplete_messages_per_peer,
                        "use >= 1, or no fragmented message could be received");
  }
  if (timeout_min_ms == 0 || timeout_max_ms < timeout_min_ms) {
    return out_of_range("timeout_max_ms", timeout_max_ms,
                        "timeout_min_ms must be > 0 and timeout_max_ms >= timeout_min_ms");
  }
  if (throttle_interval_ms == 0) {
    return out_of_range("throttle_interval_ms", throttle_interval_ms, "use > 0");
  }
  if (throttle_acceleration > 32) {
    return out_of_range("throttle_acceleration", throttle_acceleration, "use 0..32");
  }
  if (throttle_deceleration > 32) {
    return out_of_range("throttle_deceleration", throttle_deceleration, "use 0..32");
  }
  if (max_retransmit_timeout_ms != 0 && max_retransmit_timeout_ms < 100) {
    return out_of_range("max_retransmit_timeout_ms", max_retransmit_timeout_ms,
                        "use 0 (no cap) or >= 100");
  }
  if (resends_without_backoff > 32) {
    return out_of_range("resends_without_backoff", resends_without_backoff,
                        "use 0 (ENet's doubling from the first resend) .. 32");
  }
  if (ping_interval_ms == 0) return out_of_range("ping_interval_ms", ping_interval_ms, "use > 0");
  return {};
}

Status EnetServerConfig::validate() const {
  // ENet numbers peers in 12 bits; a few slots stay free to answer `server_full`.
  if (max_peers < 1 || max_peers > 4000) return out_of_range("max_peers", max_peers, "use 1..4000");
  if (max_peers_per_address < 1) {
    return out_of_range("max_peers_per_address", max_peers_per_address, "use >= 1");
  }
  if (connect_burst_per_address < 1) {
    return out_of_range("connect_burst_per_address", connect_burst_per_address, "use >= 1");
  }
  if (!(connect_rate_per_address > 0)) {
    return out_of_range("connect_rate_per_address", connect_rate_per_address, "use > 0");
  }
  if (max_pending_handshakes < 1) {
    return out_of_range("max_pending_handshakes", max_pending_handshakes, "use >= 1");
  }
  if (bind_address.empty()) return Status::error("bind_address is empty: use e.g. 127.0.0.1");
  if (Status status = session::validate_session_settings(require_ticket, security); !status.ok()) {
    return status;
  }
  if (cookie_lifetime_ms < 1000) {
    return out_of_range("cookie_lifetime_ms", cookie_lifetime_ms,
                        "use >= 1000 so a client on a slow link can answer its challenge");
  }
  return common.validate();
}

Status EnetClientConfig::validate() const {
  if (server_host.empty()) return Status::error("server_host is empty: use e.g. 127.0.0.1");
  if (server_port == 0) return out_of_range("server_port", server_port, "use 1..65535");
  if (join_ticket.size() > 1024) {
    return out_of_range("join_ticket size", join_ticket.size(), "a ticket is at most 1024 bytes");
  }
  if (connect_timeout_ms == 0) {
    return out_of_range("connect_timeout_ms", connect_timeout_ms, "use > 0");
  }
  return common.validate();
}

}  // namespace tickwire::net
