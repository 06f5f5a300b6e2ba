#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace tickwire::bench {
namespace {

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

const char* name_of(net::Delivery delivery) {
  return net::to_string(delivery).data();  // the names are string literals
}

void print_rule(int width) {
  std::printf("%s\n", std::string(static_cast<std::size_t>(width), '-').c_str());
}

// "1.030x", or "-" when either side failed.
std::string times(double value, bool valid) {
  if (!valid) return "-";
  char text[32];
  // Three decimals, so that a ratio just past a goal (1.104x) does not print as meeting it.
  std::snprintf(text, sizeof text, "%.3fx", value);
  return text;
}

double per(std::uint64_t numerator, std::uint64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0;
}

struct Ratios {
  double throughput = 0;
  double median = 0;
  double p99 = 0;
  // Bytes Tickwire puts on the wire per data datagram beyond what raw ENet needs for the same
  // messages: the difference in data-side bytes per message, times Tickwire's messages per
  // datagram. Unlike the difference of the averages below, it does not move with the share of
  // small ack-only datagrams among the client's, which follows timing.
  double extra_bytes_same_messages = 0;
  double extra_client_average = 0;  // data side: Tickwire's bytes per datagram less raw ENet's
  double extra_server_average = 0;  // ack side, likewise
  bool valid = false;
  bool wire_valid = false;
};

Ratios ratios_of(const CaseSummary& tickwire, const CaseSummary& raw_enet) {
  Ratios r;
  r.valid = tickwire.ok && raw_enet.ok;
  r.throughput = ratio(tickwire.messages_per_second, raw_enet.messages_per_second);
  r.median = ratio(tickwire.median_us, raw_enet.median_us);
  r.p99 = ratio(tickwire.p99_us, raw_enet.p99_us);
  r.wire_valid = r.valid && tickwire.wire.measured() && raw_enet.wire.measured();
  const WireSummary& tw = tickwire.wire;
  const WireSummary& raw = raw_enet.wire;
  r.extra_bytes_same_messages =
      (per(tw.client.bytes, tw.messages) - per(raw.client.bytes, raw.messages)) *
      tw.messages_per_datagram();
  r.extra_client_average = tw.client_bytes_per_datagram() - raw.client_bytes_per_datagram();
  r.extra_server_average = tw.server_bytes_per_datagram() - raw.server_bytes_per_datagram();
  return r;
}

bool is_encrypted_goal_case(const ComparisonRow& row) {
  return row.delivery == net::Delivery::reliable_ordered &&
         (row.message_size == 64 || row.message_size == 1024);
}

// "+12.3", or "-" when not measured.
std::string signed_bytes(double value, bool valid) {
  if (!valid) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%+.1f", value);
  return text;
}

// The misses of the encrypted goals, "met", or why there is no verdict.
std::string encrypted_verdict(const ComparisonRow& row, const Ratios& r) {
  if (!is_encrypted_goal_case(row)) return "(no goal)";
  if (!r.valid || !r.wire_valid) return "not measured";
  std::string missed;
  if (r.throughput < kEncryptedThroughputGoal) missed += " throughput";
  if (r.median > kEncryptedLatencyGoal) missed += " median";
  if (r.extra_bytes_same_messages > kEncryptedExtraBytesGoal) missed += " bytes";
  return missed.empty() ? "met" : "MISSED:" + missed;
}

std::string plaintext_verdict(const Ratios& r) {
  if (!r.valid) return "not measured";
  std::string missed;
  if (r.throughput < kPlaintextThroughputGoal) missed += " throughput";
  if (r.median > kPlaintextLatencyGoal) missed += " median";
  if (r.p99 > kPlaintextLatencyGoal) missed += " p99";
  return missed.empty() ? "met" : "MISSED:" + missed;
}

void print_ratio_table(const std::vector<ComparisonRow>& rows, bool encrypted) {
  if (encrypted) {
    std::printf(
        "\nTickwire encrypted (the default) / raw ENet. Goals for reliable_ordered 64 B and "
        "1 KiB:\nthroughput >= %.2fx, median RTT <= %.2fx, at most %.0f bytes more per datagram. "
        "B/dg more: per data\ndatagram, for the same messages (data-side bytes per message less "
        "raw ENet's, times messages\nper datagram); avg: difference of the data side's average "
        "datagram sizes, which also moves\nwith how many small ack-only datagrams the client "
        "sent.\n",
        kEncryptedThroughputGoal, kEncryptedLatencyGoal, kEncryptedExtraBytesGoal);
  } else {
    std::printf(
        "\nTickwire plaintext (plaintext_for_development) / raw ENet. Goals in every case (the "
        "transport's\nbefore encryption): throughput >= %.2fx, median and p99 RTT <= %.2fx.\n",
        kPlaintextThroughputGoal, kPlaintextLatencyGoal);
  }
  constexpr int kWidth = 112;
  print_rule(kWidth);
  std::printf("%-22s %7s | %10s %10s %10s | %16s | %s\n", "delivery", "size", "throughput",
              "median RTT", "p99 RTT", "B/dg more", "goals");
  std::printf("%-22s %7s | %10s %10s %10s | %8s %7s |\n", "", "", "", "", "", "same msg", "avg");
  print_rule(kWidth);
  for (const ComparisonRow& row : rows) {
    const Ratios r = ratios_of(encrypted ? row.encrypted : row.plaintext, row.raw_enet);
    const std::string verdict = encrypted ? encrypted_verdict(row, r) : plaintext_verdict(r);
    std::printf("%-22s %7s | %10s %10s %10s | %8s %7s | %s\n", name_of(row.delivery),
                size_label(row.message_size).c_str(), times(r.throughput, r.valid).c_str(),
                times(r.median, r.valid).c_str(), times(r.p99, r.valid).c_str(),
                signed_bytes(r.extra_bytes_same_messages, r.wire_valid).c_str(),
                signed_bytes(r.extra_client_average, r.wire_valid).c_str(), verdict.c_str());
  }
  print_rule(kWidth);
}

struct Side {
  const char* label;
  const CaseSummary* summary;
};

std::vector<Side> sides_of(const ComparisonRow& row) {
  return {{"Tickwire enc", &row.encrypted},
          {"Tickwire plain", &row.plaintext},
          {"raw ENet", &row.raw_enet}};
}

void print_detail_table(const std::vector<ComparisonRow>& rows) {
  std::uint64_t stalls = 0;
  std::printf(
      "\nMeasured. RTT in microseconds; lost = pings without an echo within 100 ms.\n"
      "Throughput = messages (and MB, 10^6 bytes) received by the server per second; delivered =\n"
      "counted messages received / sent; CPU = busy share of the server / client thread.\n");
  constexpr int kWidth = 122;
  print_rule(kWidth);
  std::printf("%-22s %7s %-14s | %9s %9s %5s | %11s %9s %10s %11s\n", "delivery", "size",
              "transport", "median", "p99", "lost", "msg/s", "MB/s", "delivered", "CPU srv/cli");
  print_rule(kWidth);
  for (const ComparisonRow& row : rows) {
    for (const auto& [label, summary] : sides_of(row)) {
      if (!summary->ok) {
        std::printf("%-22s %7s %-14s | failed (see errors above)\n", name_of(row.delivery),
                    size_label(row.message_size).c_str(), label);
        continue;
      }
      std::printf("%-22s %7s %-14s | %9.1f %9.1f %5llu | %11.0f %9.2f %9.2f%% %4.0f%%/%4.0f%%\n",
                  name_of(row.delivery), size_label(row.message_size).c_str(), label,
                  summary->median_us, summary->p99_us,
                  static_cast<unsigned long long>(summary->lost), summary->messages_per_second,
                  summary->megabytes_per_second, summary->delivered * 100,
                  summary->server_cpu * 100, summary->client_cpu * 100);
      stalls += summary->stalls;
    }
  }
  print_rule(kWidth);
  if (stalls > 0) {
    std::printf("%llu time(s) no ack came back in time and the client took its window as lost.\n",
                static_cast<unsigned long long>(stalls));
  }
}

void print_wire_table(const std::vector<ComparisonRow>& rows) {
  std::printf(
      "\nOn the wire during the throughput runs, every round pooled. Bytes are UDP payload "
      "(ENet's\n"
      "totalSentData, Tickwire's wire_bytes_sent; add 28 per datagram for IP and UDP headers).\n"
      "data = the client, which sends the messages; ack = the server, which sends ENet's\n"
      "acknowledgements and the benchmark's own. Tickwire puts the messages a channel got between\n"
      "two polls into one ENet packet, so its datagrams can carry more messages than raw ENet's:\n"
      "B/msg (wire bytes per data message; wire = both sides) compares the cost of a message,\n"
      "B/dg (bytes per datagram) the overhead per datagram.\n");
  constexpr int kWidth = 121;
  print_rule(kWidth);
  std::printf("%-22s %7s %-14s | %9s %7s %8s | %8s %7s %8s %7s | %8s\n", "delivery", "size",
              "transport", "data B/dg", "msg/dg", "ack B/dg", "data", "ack", "wire", "payload",
              "wire");
  std::printf("%-22s %7s %-14s | %9s %7s %8s | %8s %7s %8s %7s | %8s\n", "", "", "", "", "", "",
              "B/msg", "B/msg", "B/msg", "/wire", "B/msg vs");
  std::printf("%-22s %7s %-14s | %9s %7s %8s | %8s %7s %8s %7s | %8s\n", "", "", "", "", "", "", "",
              "", "", "", "raw ENet");
  print_rule(kWidth);
  for (const ComparisonRow& row : rows) {
    const WireSummary& raw = row.raw_enet.wire;
    for (const auto& [label, summary] : sides_of(row)) {
      const WireSummary& wire = summary->wire;
      if (!wire.measured()) {
        std::printf("%-22s %7s %-14s | not measured\n", name_of(row.delivery),
                    size_label(row.message_size).c_str(), label);
        continue;
      }
      const std::string versus =
          summary == &row.raw_enet
              ? ""
              : signed_bytes(wire.bytes_per_message() - raw.bytes_per_message(), raw.measured());
      std::printf("%-22s %7s %-14s | %9.1f %7.2f %8.1f | %8.1f %7.1f %8.1f %6.1f%% | %8s\n",
                  name_of(row.delivery), size_label(row.message_size).c_str(), label,
                  wire.client_bytes_per_datagram(), wire.messages_per_datagram(),
                  wire.server_bytes_per_datagram(), per(wire.client.bytes, wire.messages),
                  per(wire.server.bytes, wire.messages), wire.bytes_per_message(),
                  wire.payload_per_wire_byte() * 100, versus.c_str());
    }
  }
  print_rule(kWidth);
}

void print_floor_table(const std::vector<FloorRow>& rows) {
  std::printf(
      "\nFloor: raw UDP, one plain datagram per message (no reliability, ordering or\n"
      "fragmentation: it stands for every delivery kind)\n");
  constexpr int kWidth = 122;
  print_rule(kWidth);
  std::printf("%-22s %7s %-14s | %9s %9s %5s | %11s %9s %10s %11s\n", "delivery", "size",
              "transport", "median", "p99", "lost", "msg/s", "MB/s", "delivered", "CPU srv/cli");
  print_rule(kWidth);
  for (const FloorRow& row : rows) {
    const CaseSummary& s = row.raw_udp;
    if (!s.ok) {
      std::printf("%-22s %7s %-14s | failed (see errors above)\n", "datagram",
                  size_label(row.message_size).c_str(), "raw UDP");
      continue;
    }
    std::printf("%-22s %7s %-14s | %9.1f %9.1f %5llu | %11.0f %9.2f %9.2f%% %4.0f%%/%4.0f%%\n",
                "datagram", size_label(row.message_size).c_str(), "raw UDP", s.median_us, s.p99_us,
                static_cast<unsigned long long>(s.lost), s.messages_per_second,
                s.megabytes_per_second, s.delivered * 100, s.server_cpu * 100, s.client_cpu * 100);
  }
  print_rule(kWidth);
}

void print_encrypted_goals(const std::vector<ComparisonRow>& rows) {
  std::printf("\nGoals, encryption on (reliable_ordered 64 B and 1 KiB):\n");
  for (const ComparisonRow& row : rows) {
    if (!is_encrypted_goal_case(row)) continue;
    const Ratios r = ratios_of(row.encrypted, row.raw_enet);
    const auto verdict = [](bool met) { return met ? "met" : "MISSED"; };
    std::printf("  %s %s:\n", name_of(row.delivery), size_label(row.message_size).c_str());
    if (!r.valid || !r.wire_valid) {
      std::printf("    not measured\n");
      continue;
    }
    std::printf("    throughput >= %.2fx:          %.3fx  %s\n", kEncryptedThroughputGoal,
                r.throughput, verdict(r.throughput >= kEncryptedThroughputGoal));
    std::printf("    median RTT <= %.2fx:          %.3fx  %s\n", kEncryptedLatencyGoal, r.median,
                verdict(r.median <= kEncryptedLatencyGoal));
    std::printf("    <= +%.0f B/datagram:              %+.1f B  %s\n", kEncryptedExtraBytesGoal,
                r.extra_bytes_same_messages,
                verdict(r.extra_bytes_same_messages <= kEncryptedExtraBytesGoal));
    std::printf(
        "      (for the same messages; the average datagram: %+.1f B data side, %+.1f B ack "
        "side)\n",
        r.extra_client_average, r.extra_server_average);
  }
}

void print_plaintext_goals(const std::vector<ComparisonRow>& rows) {
  struct Goal {
    std::string_view name;
    double Ratios::*field;
    bool higher_is_better;
    double limit;
  };
  const Goal goals[] = {
      {"throughput >= 0.90x", &Ratios::throughput, true, kPlaintextThroughputGoal},
      {"median RTT <= 1.10x", &Ratios::median, false, kPlaintextLatencyGoal},
      {"p99 RTT    <= 1.10x", &Ratios::p99, false, kPlaintextLatencyGoal}};
  std::printf("\nGoals, encryption off (every case, %zu cases):\n", rows.size());
  for (const Goal& goal : goals) {
    int met = 0;
    int measured = 0;
    double worst = goal.higher_is_better ? 1e300 : 0;
    const ComparisonRow* worst_row = nullptr;
    for (const ComparisonRow& row : rows) {
      const Ratios r = ratios_of(row.plaintext, row.raw_enet);
      if (!r.valid) continue;
      ++measured;
      const double value = r.*goal.field;
      const bool ok = goal.higher_is_better ? value >= goal.limit : value <= goal.limit;
      if (ok) ++met;
      if (goal.higher_is_better ? value < worst : value > worst) {
        worst = value;
        worst_row = &row;
      }
    }
    std::printf("  %.*s: met in %d of %d", static_cast<int>(goal.name.size()), goal.name.data(),
                met, measured);
    if (worst_row != nullptr) {
      std::printf(" (worst %.3fx: %s %s)", worst, name_of(worst_row->delivery),
                  size_label(worst_row->message_size).c_str());
    }
    std::printf("\n");
  }
}

}  // namespace

void CaseRounds::add(const LatencyResult& result) {
  if (!result.error.empty()) {
    errors.push_back(result.error);
    return;
  }
  round_trip_us.insert(round_trip_us.end(), result.round_trip_us.begin(),
                       result.round_trip_us.end());
  lost += result.lost;
}

void CaseRounds::add(const ThroughputResult& result) {
  if (!result.error.empty()) {
    errors.push_back(result.error);
    return;
  }
  throughput.push_back(result);
}

void CaseRounds::merge(const CaseRounds& other) {
  round_trip_us.insert(round_trip_us.end(), other.round_trip_us.begin(), other.round_trip_us.end());
  lost += other.lost;
  throughput.insert(throughput.end(), other.throughput.begin(), other.throughput.end());
  errors.insert(errors.end(), other.errors.begin(), other.errors.end());
}

CaseSummary summarize(const CaseRounds& rounds) {
  CaseSummary summary;
  std::vector<double> sorted = rounds.round_trip_us;
  std::sort(sorted.begin(), sorted.end());
  summary.round_trips = sorted.size();
  summary.lost = rounds.lost;
  summary.median_us = percentile(sorted, 0.50);
  summary.p99_us = percentile(sorted, 0.99);

  // Throughput is a rate per round, so rounds are not pooled: the median round is reported,
  // which keeps one round disturbed by the rest of the machine from moving the result.
  std::vector<ThroughputResult> by_rate = rounds.throughput;
  std::sort(by_rate.begin(), by_rate.end(), [](const auto& a, const auto& b) {
    return a.messages_per_second() < b.messages_per_second();
  });
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  for (const ThroughputResult& round : by_rate) {
    sent += round.sent;
    received += round.received;
    summary.stalls += round.stalls;
    WireSummary& wire = summary.wire;
    wire.client.bytes += round.client_wire.bytes;
    wire.client.datagrams += round.client_wire.datagrams;
    wire.server.bytes += round.server_wire.bytes;
    wire.server.datagrams += round.server_wire.datagrams;
    wire.messages += round.sent;
    wire.payload_bytes += round.client_payload_bytes + round.server_payload_bytes;
  }
  if (!by_rate.empty()) {
    const ThroughputResult& median = by_rate[(by_rate.size() - 1) / 2];
    summary.messages_per_second = median.messages_per_second();
    summary.megabytes_per_second = median.megabytes_per_second();
    summary.server_cpu = median.server_cpu;
    summary.client_cpu = median.client_cpu;
  }
  summary.delivered = sent > 0 ? static_cast<double>(received) / static_cast<double>(sent) : 0;
  summary.ok = rounds.errors.empty() && !sorted.empty() && !by_rate.empty();
  return summary;
}

double WireSummary::client_bytes_per_datagram() const {
  return per(client.bytes, client.datagrams);
}

double WireSummary::server_bytes_per_datagram() const {
  return per(server.bytes, server.datagrams);
}

double WireSummary::messages_per_datagram() const {
  return per(messages, client.datagrams);
}

double WireSummary::bytes_per_message() const {
  return per(client.bytes + server.bytes, messages);
}

double WireSummary::payload_per_wire_byte() const {
  return per(payload_bytes, client.bytes + server.bytes);
}

std::string size_label(std::size_t bytes) {
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " B";
}

void print_report(const RunDescription& run, const std::vector<ComparisonRow>& comparison,
                  const std::vector<FloorRow>& floor) {
  std::printf(
      "Tickwire transport benchmark: one client and one server on 127.0.0.1, each on its own "
      "thread,\na fresh connection for every measurement.\n"
      "Per case and round: %d round trips in %d blocks (each after %d warm-up), then %.2f s of\n"
      "throughput (after %.2f s warm-up); Tickwire encrypted, Tickwire plaintext and raw ENet\n"
      "take turns block by block, the one to go first rotating. %d round(s).\n"
      "Latency percentiles pool every round; throughput is the median round.\n"
      "Threads %s; between messages each side %s.\n",
      run.round_trips, run.latency_blocks, run.warmup_round_trips / std::max(1, run.latency_blocks),
      run.seconds, run.warmup_seconds, run.rounds,
      run.pinned ? "pinned to one core each" : "placed by the scheduler",
      run.busy_poll ? "polls without waiting (busy-poll)"
                    : "blocks in the transport's wait (up to 1 ms)");
  if (run.quick) {
    std::printf(
        "QUICK RUN (smoke test): a few hundred round trips and a fraction of a second per case "
        "are\n"
        "too few for p99 and throughput ratios to mean much. Measure without --quick.\n");
  }
  print_ratio_table(comparison, true);
  print_ratio_table(comparison, false);
  print_detail_table(comparison);
  print_wire_table(comparison);
  print_floor_table(floor);
  print_encrypted_goals(comparison);
  print_plaintext_goals(comparison);
}

}  // namespace tickwire::bench
