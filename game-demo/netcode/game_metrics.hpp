#pragma once
// The game server's /metrics and /healthz. The Arena server runs on the main thread and the
// endpoint on its own, so the main loop hands over a copy of the figures after every turn
// (publish()); the endpoint renders the latest copy. The copy doubles as the heartbeat: when the
// main loop stops turning, the copies stop and /healthz fails.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <tickwire/net/metrics.hpp>

#include "arena_server.hpp"

namespace arena {

class GameMetrics {
 public:
  // `stall_after`: how long without a publish() before /healthz reports the tick loop stalled.
  // `server` must outlive the endpoint (its tick histogram is read directly).
  static tickwire::net::Result<std::unique_ptr<GameMetrics>> start(
      const tickwire::net::MetricsEndpointConfig& config, const ArenaServer& server,
      std::chrono::milliseconds stall_after);

  // From the main loop, after each turn.
  void publish(const ArenaServer& server);
  std::uint16_t port() const { return endpoint_->port(); }

  // The page /metrics serves (any thread).
  std::string render() const;
  // Why /healthz fails, or nothing (any thread).
  std::optional<std::string> problem() const;

 private:
  GameMetrics(const ArenaServer& server, std::chrono::milliseconds stall_after);

  struct Figures {
    ServerStats stats;
    std::vector<tickwire::net::LabelledTransportCounters> transports;
    std::chrono::steady_clock::time_point published_at;
  };

  const ArenaServer& server_;
  const std::chrono::milliseconds stall_after_;
  mutable std::mutex mutex_;
  Figures latest_;  // guarded by mutex_
  std::unique_ptr<tickwire::net::MetricsEndpoint> endpoint_;
};

}  // namespace arena
