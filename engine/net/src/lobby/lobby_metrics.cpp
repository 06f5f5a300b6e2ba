#include "lobby/lobby_metrics.hpp"

#include "tickwire/net/metrics.hpp"

namespace tickwire::net::lobby_detail {
LobbyCounters LobbyMetrics::snapshot() const {
  LobbyCounters out;
  out.connections = connections.load();
  out.messages_received = messages_received.load();
  out.messages_sent = messages_sent.load();
  out.bytes_received = bytes_received.load();
  out.bytes_sent = bytes_sent.load();
  out.matches_started = matches_started.load();
  out.spectator_tickets = spectator_tickets.load();
  out.dropped_malformed = dropped_malformed.load();
  out.replies_too_large = replies_too_large.load();
  out.dropped_unsupported = dropped_unsupported.load();
  out.dropped_rate_limited = dropped_rate_limited.load();
  out.dropped_global_chat_busy = dropped_global_chat_busy.load();
  out.refused_address_limit = refused_address_limit.load();
  out.disconnected_flooding = disconnected_flooding.load();
  out.disconnected_slow = disconnected_slow.load();
  out.disconnected_no_hello = disconnected_no_hello.load();
  out.disconnected_request_queue_full = disconnected_request_queue_full.load();
  out.registration_unknown_key = registration_unknown_key.load();
  out.registration_bad_signature = registration_bad_signature.load();
  out.registration_no_challenge = registration_no_challenge.load();
  out.registration_address_mismatch = registration_address_mismatch.load();
  out.registration_over_capacity = registration_over_capacity.load();
  out.registration_locked_out = registration_locked_out.load();
  out.transport_dropped_oversize = transport_dropped_oversize.load();
  out.transport_dropped_malformed = transport_dropped_malformed.load();
  out.transport_rate_limited = transport_rate_limited.load();
  out.http_requests = http_requests.load();
  out.http_rate_limited = http_rate_limited.load();
  out.http_path_refused = http_path_refused.load();
  out.uploads_stored = uploads_stored.load();
  out.upload_unauthenticated = upload_unauthenticated.load();
  out.upload_too_large = upload_too_large.load();
  out.upload_bad_request = upload_bad_request.load();
  out.upload_exists = upload_exists.load();
  out.upload_cut = upload_cut.load();
  out.replays_pruned = replays_pruned.load();
  out.players_lapsed = players_lapsed.load();
  return out;
}

std::string render_prometheus(const LobbyCounters& c) {
  PrometheusText out;
  // Players and rooms come from the lobby's state: on a cluster (several lobbies on one Redis)
  // they are the whole cluster's. Every other figure is this lobby process's own; a scraper sums
  // them over the nodes for the cluster's.
  out.gauge("tickwire_lobby_connections", "Open WebSocket connections to this lobby node.",
            static_cast<double>(c.connections));
  out.gauge("tickwire_lobby_players",
            "Players connected or within their resume grace, on every lobby node sharing this "
            "node's state.",
            static_cast<double>(c.players));
  out.gauge("tickwire_lobby_rooms", "Open rooms, on every lobby node sharing this node's state.",
            static_cast<double>(c.rooms));
  out.counter("tickwire_lobby_messages_received_total", "Lobby messages received.",
              c.messages_received);
  out.counter("tickwire_lobby_messages_sent_total", "Lobby messages sent.", c.messages_sent);
  out.counter("tickwire_lobby_bytes_received_total", "Message bytes received.", c.bytes_received);
  out.counter("tickwire_lobby_bytes_sent_total", "Message bytes sent.", c.bytes_sent);
  out.counter("tickwire_lobby_matches_started_total", "Matches started.", c.matches_started);
  out.counter("tickwire_lobby_spectator_tickets_total",
              "Spectator tickets issued (SpectateMatch granted).", c.spectator_tickets);
  out.counter("tickwire_lobby_http_requests_total", "Plain HTTP requests answered.",
              c.http_requests);
  out.counter("tickwire_lobby_state_round_trips_total",
              "Requests to the shared lobby state's store answered (0: in-memory state).",
              c.state_round_trips);
  out.family("tickwire_lobby_drops_total", MetricType::counter,
             "Frames, requests and connections dropped, by reason.");
  const PrometheusText::LabelledCount drops[] = {
      {"malformed", c.dropped_malformed},
      {"unsupported", c.dropped_unsupported},
      {"reply_too_large", c.replies_too_large},
      {"rate_limited", c.dropped_rate_limited},
      {"global_chat_busy", c.dropped_global_chat_busy},
      {"address_limit", c.refused_address_limit},
      {"flooding", c.disconnected_flooding},
      {"slow_reader", c.disconnected_slow},
      {"no_hello", c.disconnected_no_hello},
      {"request_queue_full", c.disconnected_request_queue_full},
      {"oversize", c.transport_dropped_oversize},
      {"bad_framing", c.transport_dropped_malformed},
      {"connection_rate", c.transport_rate_limited},
      {"http_rate_limited", c.http_rate_limited},
      {"http_path_refused", c.http_path_refused},
      {"state_bad_broadcast", c.state_dropped_broadcasts},
  };
  out.samples_by("reason", drops);
  out.family("tickwire_lobby_registrations_refused_total", MetricType::counter,
             "Game server registrations refused, by reason.");
  const PrometheusText::LabelledCount refused[] = {
      {"unknown_key", c.registration_unknown_key},
      {"bad_signature", c.registration_bad_signature},
      {"no_challenge", c.registration_no_challenge},
      {"address_mismatch", c.registration_address_mismatch},
      {"over_capacity", c.registration_over_capacity},
      {"locked_out", c.registration_locked_out},
  };
  out.samples_by("reason", refused);
  out.counter("tickwire_lobby_uploads_stored_total", "Uploads stored under their final name.",
              c.uploads_stored);
  out.family("tickwire_lobby_uploads_refused_total", MetricType::counter,
             "Uploads refused or cut off, by reason.");
  const PrometheusText::LabelledCount uploads[] = {
      {"unauthenticated", c.upload_unauthenticated},
      {"too_large", c.upload_too_large},
      {"bad_request", c.upload_bad_request},
      {"exists", c.upload_exists},
      {"cut", c.upload_cut},
  };
  out.samples_by("reason", uploads);
  out.counter("tickwire_lobby_replays_pruned_total",
              "Replays deleted as older than the newest keep_replays after an upload.",
              c.replays_pruned);
  out.counter("tickwire_lobby_players_lapsed_total",
              "Players of a lobby process that died, shown disconnected by this one.",
              c.players_lapsed);
  return out.text();
}

}  // namespace tickwire::net::lobby_detail
