#include "game_metrics.hpp"

namespace arena {

namespace net = tickwire::net;

GameMetrics::GameMetrics(const ArenaServer& server, std::chrono::milliseconds stall_after)
    : server_(server), stall_after_(stall_after) {
  publish(server);
}

net::Result<std::unique_ptr<GameMetrics>> GameMetrics::start(
    const net::MetricsEndpointConfig& config, const ArenaServer& server,
    std::chrono::milliseconds stall_after) {
  std::unique_ptr<GameMetrics> metrics(new GameMetrics(server, stall_after));
  GameMetrics* self = metrics.get();
  auto endpoint = net::MetricsEndpoint::start(
      config, [self] { return self->render(); }, [self] { return self->problem(); });
  if (!endpoint) return net::Status::error(endpoint.error());
  metrics->endpoint_ = std::move(endpoint.value());
  return metrics;
}

void GameMetrics::publish(const ArenaServer& server) {
  Figures figures{server.stats(), server.counters_by_transport(), std::chrono::steady_clock::now()};
  const std::lock_guard lock(mutex_);
  latest_ = std::move(figures);
}

std::optional<std::string> GameMetrics::problem() const {
  std::chrono::steady_clock::duration since;
  {
    const std::lock_guard lock(mutex_);
    since = std::chrono::steady_clock::now() - latest_.published_at;
  }
  if (since <= stall_after_) return std::nullopt;
  return "tick loop stalled: no turn for " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(since).count()) +
         " ms";
}

std::string GameMetrics::render() const {
  Figures figures;
  {
    const std::lock_guard lock(mutex_);
    figures = latest_;
  }
  const ServerStats& s = figures.stats;
  net::PrometheusText out;
  out.histogram("tickwire_game_tick_seconds", "CPU time of each server tick, all matches.",
                server_.tick_seconds().snapshot());
  out.gauge("tickwire_game_players", "Players connected to a match.",
            static_cast<double>(s.players));
  out.gauge("tickwire_game_spectators", "Spectators watching a match.",
            static_cast<double>(s.spectators));
  out.gauge("tickwire_game_matches", "Matches running.", static_cast<double>(s.matches));
  out.counter("tickwire_game_matches_finished_total", "Matches played to their end.",
              s.matches_finished);
  out.counter("tickwire_game_ticks_total", "Match ticks simulated, all matches.", s.ticks);
  out.family("tickwire_game_inputs_total", net::MetricType::counter,
             "Player inputs per tick, by what became of them.");
  const net::PrometheusText::LabelledCount inputs[] = {{"applied", s.inputs_applied},
                                                       {"missing", s.inputs_missing},
                                                       {"rejected", s.inputs_rejected}};
  out.samples_by("outcome", inputs);
  out.counter("tickwire_game_malformed_updates_total",
              "Client updates that failed to decode, and messages on the wrong channel.",
              s.malformed_updates + s.unexpected_messages);
  out.counter("tickwire_game_players_disconnected_for_abuse_total",
              "Players disconnected for sending too many bad messages.",
              s.players_disconnected_for_abuse);
  out.counter("tickwire_game_payload_sent_bytes_total", "Message payload bytes sent to players.",
              s.bytes_sent);
  out.counter("tickwire_game_snapshot_sent_bytes_total", "Of those, snapshot bytes.",
              s.snapshot_bytes);
  out.counter("tickwire_game_spectators_refused_total",
              "Spectator tickets refused: the match's cap reached, or no such match running.",
              s.spectators_refused);
  out.counter("tickwire_game_spectator_inputs_dropped_total",
              "Inputs spectators sent (a spectator has no say: each is dropped).",
              s.spectator_inputs_dropped);
  out.counter("tickwire_game_spectator_sent_bytes_total",
              "Message payload bytes sent to spectators (the delayed stream).", s.spectator_bytes);
  net::append_transport_metrics(out, "tickwire_game", figures.transports);
  return out.text();
}

}  // namespace arena
