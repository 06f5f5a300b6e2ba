#pragma once
// Turns the rounds of each case into medians and percentiles, and prints the tables: Tickwire,
// encrypted and plaintext, against raw ENet with their ratios and the goals, what each put on the
// wire, then raw UDP as the floor.

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

// What a transport put on the wire in the throughput runs of one case, pooled over rounds.
struct WireSummary {
  WireTotals client;                // the data side
  WireTotals server;                // the acknowledging side
  std::uint64_t messages = 0;       // counted data messages the client sent
  std::uint64_t payload_bytes = 0;  // their bytes and those of the server's acknowledgements

  double client_bytes_per_datagram() const;
  double server_bytes_per_datagram() const;
  double messages_per_datagram() const;  // data messages per client datagram
  double bytes_per_message() const;      // both sides' wire bytes per data message
  double payload_per_wire_byte() const;  // both sides
  bool measured() const { return client.datagrams > 0 && server.datagrams > 0 && messages > 0; }
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
  WireSummary wire;
  bool ok = false;  // ran, with at least one echo and one throughput round
};

CaseSummary summarize(const CaseRounds& rounds);

// The goals for encrypted sessions (the default) against raw ENet, in the cases they are set for:
// reliable_ordered messages of 64 B and 1 KiB.
inline constexpr double kEncryptedThroughputGoal = 0.85;  // at least this fraction of raw ENet's
inline constexpr double kEncryptedLatencyGoal = 1.10;     // median RTT, at most this multiple
inline constexpr double kEncryptedExtraBytesGoal = 24;    // bytes per datagram, at most
// The goals the transport had before sessions were encrypted, kept for plaintext sessions (a
// development setting) in every case.
inline constexpr double kPlaintextThroughputGoal = 0.90;
inline constexpr double kPlaintextLatencyGoal = 1.10;  // median and p99 RTT

// One case (delivery kind and size) measured on Tickwire with and without encryption and on the
// baseline.
struct ComparisonRow {
  net::Delivery delivery;
  std::size_t message_size;
  CaseSummary encrypted;
  CaseSummary plaintext;
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
