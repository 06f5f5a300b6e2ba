#pragma once
// Turns the rounds of each case into medians and percentiles, and prints the tables: Tickwire
// against raw ENet with their ratios and the goals, then raw UDP as the floor.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "measure.hpp"

namespace tickwire::bench {

// Every round of one transport at one delivery kind and size.
struct CaseRounds {
  std::vector<double> round_trip_us;         // pooled over rounds
  std::uint64_t lost = 0;                    // pings without an echo, over rounds
  std::vector<ThroughputResult> throughput;  // one per round
  std::vector<std::string> errors;

  void add(const LatencyResult& result);
  void add(const ThroughputResult& result);
  void merge(const CaseRounds& other);
};

struct CaseSummary {
  double median_us = 0;
  double p99_us = 0;
  std::size_t round_trips = 0;  // echoes that came back
  std::uint64_t lost = 0;
  double messages_per_second = 0;  // median round
  double megabytes_per_second = 0;
  double delivered = 0;   // counted messages received / sent, over rounds
  double server_cpu = 0;  // busy fraction of the server thread in the median round, 0..1
  double client_cpu = 0;  // busy fraction of the client thread in the median round, 0..1
  std::uint64_t stalls = 0;
  bool ok = false;  // ran, with at least one echo and one throughput round
};

CaseSummary summarize(const CaseRounds& rounds);

// The goals the issue sets for Tickwire's ENet transport against raw ENet.
inline constexpr double kThroughputGoal = 0.90;  // at least this fraction of raw ENet's
inline constexpr double kLatencyGoal = 1.10;     // at most this multiple of raw ENet's

struct ComparisonRow {
  net::Delivery delivery;
  std::size_t message_size;
  CaseSummary tickwire;
  CaseSummary raw_enet;
};

struct FloorRow {
  std::size_t message_size;
  CaseSummary raw_udp;
};

struct RunDescription {
  double seconds = 0;
  double warmup_seconds = 0;
  int round_trips = 0;
  int warmup_round_trips = 0;
  int rounds = 0;
  int latency_blocks = 1;  // round trips of a round are split into this many blocks
  bool pinned = false;
  bool busy_poll = false;
  bool quick = false;  // --quick: a smoke test, too short for its ratios to be trusted
};

void print_report(const RunDescription& run, const std::vector<ComparisonRow>& comparison,
                  const std::vector<FloorRow>& floor);

std::string size_label(std::size_t bytes);

}  // namespace tickwire::bench
