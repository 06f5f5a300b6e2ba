#include "lobby/lobby_metrics.hpp"

namespace tickwire::net::lobby_detail {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void labelled(std::string& out, const char* name, const char* label, std::uint64_t value) {
  out += name;
  out += "{reason=\"";
  out += label;
  out += "\"} ";
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

LobbyCounters LobbyMetrics::snapshot() const {
  LobbyCounters out;
  out.connections = connections.load();
  out.messages_received = messages_received.load();
  out.messages_sent = messages_sent.load();
  out.bytes_received = bytes_received.load();
  out.bytes_sent = bytes_sent.load();
  out.matches_started = matches_started.load();
  out.dropped_malformed = dropped_malformed.load();
  out.replies_too_large = replies_too_large.load();
  out.dropped_unsupported = dropped_unsupported.load();
  out.dropped_rate_limited = dropped_rate_limited.load();
  out.dropped_global_chat_busy = dropped_global_chat_busy.load();
  out.refused_address_limit = refused_address_limit.load();
  out.disconnected_flooding = disconnected_flooding.load();
  out.disconnected_slow = disconnected_slow.load();
  out.disconnected_no_hello = disconnected_no_hello.load();
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
  return out;
}

std::string render_prometheus(const LobbyCounters& c) {
  std::string out;
  metric(out, "tickwire_lobby_connections", "gauge", "Open WebSocket connections.", c.connections);
  metric(out, "tickwire_lobby_players", "gauge", "Players connected or within their resume grace.",
         c.players);
  metric(out, "tickwire_lobby_rooms", "gauge", "Open rooms.", c.rooms);
  metric(out, "tickwire_lobby_messages_received_total", "counter", "Lobby messages received.",
         c.messages_received);
  metric(out, "tickwire_lobby_messages_sent_total", "counter", "Lobby messages sent.",
         c.messages_sent);
  metric(out, "tickwire_lobby_bytes_received_total", "counter", "Message bytes received.",
         c.bytes_received);
  metric(out, "tickwire_lobby_bytes_sent_total", "counter", "Message bytes sent.", c.bytes_sent);
  metric(out, "tickwire_lobby_matches_started_total", "counter", "Matches started.",
         c.matches_started);
  metric(out, "tickwire_lobby_http_requests_total", "counter", "Plain HTTP requests answered.",
         c.http_requests);
  out +=
      "# HELP tickwire_lobby_drops_total Frames, requests and connections dropped, by reason.\n"
      "# TYPE tickwire_lobby_drops_total counter\n";
  labelled(out, "tickwire_lobby_drops_total", "malformed", c.dropped_malformed);
  labelled(out, "tickwire_lobby_drops_total", "unsupported", c.dropped_unsupported);
  labelled(out, "tickwire_lobby_drops_total", "reply_too_large", c.replies_too_large);
  labelled(out, "tickwire_lobby_drops_total", "rate_limited", c.dropped_rate_limited);
  labelled(out, "tickwire_lobby_drops_total", "global_chat_busy", c.dropped_global_chat_busy);
  labelled(out, "tickwire_lobby_drops_total", "address_limit", c.refused_address_limit);
  labelled(out, "tickwire_lobby_drops_total", "flooding", c.disconnected_flooding);
  labelled(out, "tickwire_lobby_drops_total", "slow_reader", c.disconnected_slow);
  labelled(out, "tickwire_lobby_drops_total", "no_hello", c.disconnected_no_hello);
  labelled(out, "tickwire_lobby_drops_total", "oversize", c.transport_dropped_oversize);
  labelled(out, "tickwire_lobby_drops_total", "bad_framing", c.transport_dropped_malformed);
  labelled(out, "tickwire_lobby_drops_total", "connection_rate", c.transport_rate_limited);
  labelled(out, "tickwire_lobby_drops_total", "http_rate_limited", c.http_rate_limited);
  out +=
      "# HELP tickwire_lobby_registrations_refused_total Game server registrations refused, by "
      "reason.\n"
      "# TYPE tickwire_lobby_registrations_refused_total counter\n";
  constexpr const char* kRefused = "tickwire_lobby_registrations_refused_total";
  labelled(out, kRefused, "unknown_key", c.registration_unknown_key);
  labelled(out, kRefused, "bad_signature", c.registration_bad_signature);
  labelled(out, kRefused, "no_challenge", c.registration_no_challenge);
  labelled(out, kRefused, "address_mismatch", c.registration_address_mismatch);
  labelled(out, kRefused, "over_capacity", c.registration_over_capacity);
  labelled(out, kRefused, "locked_out", c.registration_locked_out);
  return out;
}

}  // namespace tickwire::net::lobby_detail
