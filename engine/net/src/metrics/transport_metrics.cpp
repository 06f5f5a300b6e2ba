#include <string>

#include "tickwire/net/metrics.hpp"

namespace tickwire::net {
namespace {

using Field = std::uint64_t TransportCounters::*;

// One family with a sample per transport.
void per_transport(PrometheusText& out, std::string_view prefix, std::string_view name,
                   MetricType type, std::string_view help,
                   std::span<const LabelledTransportCounters> transports, Field field) {
  out.family(std::string(prefix) + "_transport_" + std::string(name), type, help);
  for (const LabelledTransportCounters& transport : transports) {
    const MetricLabel labels[] = {{"transport", transport.transport}};
    out.sample(static_cast<double>(transport.counters.*field), labels);
  }
}

struct DropReason {
  const char* reason;
  Field field;
};

// Every counter of TransportCounters that counts something thrown away, by the name its
// `reason` label carries.
constexpr DropReason kDropReasons[] = {
    {"malformed", &TransportCounters::dropped_malformed},
    {"oversize", &TransportCounters::dropped_oversize},
    {"stale", &TransportCounters::dropped_stale},
    {"rate_limited", &TransportCounters::dropped_rate_limited},
    {"refused", &TransportCounters::refused_connections},
    {"unauthenticated", &TransportCounters::dropped_unauthenticated},
    {"forged", &TransportCounters::dropped_forged},
    {"replayed", &TransportCounters::dropped_replayed},
    {"forged_disconnect", &TransportCounters::dropped_forged_disconnects},
    {"before_admission", &TransportCounters::dropped_before_admission},
    {"reassembly_limit", &TransportCounters::dropped_reassembly_limit},
    {"ticket_held", &TransportCounters::dropped_ticket_held},
};

}  // namespace

void append_transport_metrics(PrometheusText& out, std::string_view prefix,
                              std::span<const LabelledTransportCounters> transports) {
  per_transport(out, prefix, "received_datagrams_total", MetricType::counter,
                "Datagrams received (datagram transports).", transports,
                &TransportCounters::datagrams_received);
  per_transport(out, prefix, "received_bytes_total", MetricType::counter,
                "Bytes received on the wire, protocol headers included.", transports,
                &TransportCounters::wire_bytes_received);
  per_transport(out, prefix, "sent_datagrams_total", MetricType::counter,
                "Datagrams sent, retransmissions and acknowledgements included.", transports,
                &TransportCounters::datagrams_sent);
  per_transport(out, prefix, "sent_bytes_total", MetricType::counter,
                "Bytes sent on the wire, protocol headers included.", transports,
                &TransportCounters::wire_bytes_sent);
  per_transport(out, prefix, "connections_accepted_total", MetricType::counter,
                "Connections admitted.", transports, &TransportCounters::connections_accepted);
  per_transport(out, prefix, "rejected_tickets_total", MetricType::counter,
                "Join tickets missing, invalid, reused or too late.", transports,
                &TransportCounters::rejected_tickets);
  per_transport(out, prefix, "peers_disconnected_for_abuse_total", MetricType::counter,
                "Peers disconnected for oversize messages or too many bad datagrams.", transports,
                &TransportCounters::peers_disconnected_for_abuse);
  per_transport(out, prefix, "challenges_sent_total", MetricType::counter,
                "Handshake challenges sent, one per HELLO.", transports,
                &TransportCounters::challenges_sent);
  out.family(std::string(prefix) + "_transport_drops_total", MetricType::counter,
             "Datagrams, messages and connection attempts thrown away, by reason.");
  for (const LabelledTransportCounters& transport : transports) {
    for (const DropReason& drop : kDropReasons) {
      const MetricLabel labels[] = {{"transport", transport.transport}, {"reason", drop.reason}};
      out.sample(static_cast<double>(transport.counters.*drop.field), labels);
    }
  }
}

}  // namespace tickwire::net
