#pragma once
// The lobby's counters: incremented on the lobby's thread, read by counters() and GET /metrics
// from any thread, hence atomics.

#include <atomic>
#include <cstdint>
#include <string>

#include "tickwire/net/lobby.hpp"

namespace tickwire::net::lobby_detail {

struct LobbyMetrics {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> matches_started{0};
  std::atomic<std::uint64_t> spectator_tickets{0};
  std::atomic<std::uint64_t> dropped_malformed{0};
  std::atomic<std::uint64_t> replies_too_large{0};
  std::atomic<std::uint64_t> dropped_unsupported{0};
  std::atomic<std::uint64_t> dropped_rate_limited{0};
  std::atomic<std::uint64_t> dropped_global_chat_busy{0};
  std::atomic<std::uint64_t> refused_address_limit{0};
  std::atomic<std::uint64_t> disconnected_flooding{0};
  std::atomic<std::uint64_t> disconnected_slow{0};
  std::atomic<std::uint64_t> disconnected_no_hello{0};
  std::atomic<std::uint64_t> disconnected_request_queue_full{0};
  std::atomic<std::uint64_t> registration_unknown_key{0};
  std::atomic<std::uint64_t> registration_bad_signature{0};
  std::atomic<std::uint64_t> registration_no_challenge{0};
  std::atomic<std::uint64_t> registration_address_mismatch{0};
  std::atomic<std::uint64_t> registration_over_capacity{0};
  std::atomic<std::uint64_t> registration_locked_out{0};
  std::atomic<std::uint64_t> transport_dropped_oversize{0};
  std::atomic<std::uint64_t> transport_dropped_malformed{0};
  std::atomic<std::uint64_t> transport_rate_limited{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> http_rate_limited{0};
  std::atomic<std::uint64_t> http_path_refused{0};
  std::atomic<std::uint64_t> uploads_stored{0};
  std::atomic<std::uint64_t> upload_unauthenticated{0};
  std::atomic<std::uint64_t> upload_too_large{0};
  std::atomic<std::uint64_t> upload_bad_request{0};
  std::atomic<std::uint64_t> upload_exists{0};
  std::atomic<std::uint64_t> upload_cut{0};
  std::atomic<std::uint64_t> replays_pruned{0};
  std::atomic<std::uint64_t> players_lapsed{0};

  // Everything but players and rooms, which come from the state.
  LobbyCounters snapshot() const;
};

// The Prometheus text exposition format (version 0.0.4).
std::string render_prometheus(const LobbyCounters& counters);

}  // namespace tickwire::net::lobby_detail
