#pragma once
// The measurements: round-trip latency and throughput of one transport at one delivery kind and
// message size, each over a fresh connection between a server thread and a client thread. Every
// transport goes through exactly this code.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "endpoint.hpp"

namespace tickwire::bench {

struct CaseSettings {
  net::Delivery delivery = net::Delivery::reliable_ordered;
  std::size_t message_size = 64;  // bytes, header included; at least kHeaderSize
  int warmup_round_trips = 200;   // sent and echoed, not recorded
  int round_trips = 2000;         // recorded
  double warmup_seconds = 0.2;    // throughput traffic before counting starts
  double seconds = 1.0;           // throughput traffic counted
  bool pin_threads = true;        // server and client each on its own core, if there are two
  bool busy_poll = false;         // poll without waiting (both sides spin) instead of blocking
};

struct LatencyResult {
  std::string error;                  // empty when it ran; otherwise what went wrong
  std::vector<double> round_trip_us;  // one per echo that came back, in send order
  std::uint64_t lost = 0;             // pings whose echo did not come back in time
};

struct ThroughputResult {
  std::string error;           // empty when it ran; otherwise what went wrong
  std::uint64_t sent = 0;      // counted messages the client's transport accepted
  std::uint64_t received = 0;  // counted messages the server received
  std::uint64_t stalls = 0;    // times the window was taken as lost after no ack came back
  // The rate: messages (and their bytes) that arrived within `seconds` after the first counted
  // one, timed by the server.
  std::uint64_t timed_messages = 0;
  std::uint64_t timed_bytes = 0;
  double seconds = 0;
  double server_cpu = 0;  // busy share of the server thread meanwhile, 0..1
  double client_cpu = 0;  // busy share of the client thread while it sent counted messages, 0..1
  // What each side put on the wire while the counted messages went out and were acknowledged:
  // the client from the start of counting, the server from the first counted arrival, both until
  // the client had stopped and drained. The client sends the data, the server the acks.
  WireTotals client_wire;
  WireTotals server_wire;
  std::uint64_t client_payload_bytes = 0;  // the `sent` messages' bytes
  std::uint64_t server_payload_bytes = 0;  // the acknowledgement messages' bytes

  double messages_per_second() const {
    return seconds > 0 ? static_cast<double>(timed_messages) / seconds : 0;
  }
  double megabytes_per_second() const {
    return seconds > 0 ? static_cast<double>(timed_bytes) / seconds / 1e6 : 0;
  }
};

// Each call makes a fresh connection (server and client on threads of their own) and closes it
// afterwards, so that no transport inherits state from an earlier measurement.
// Latency: settings.warmup_round_trips, then settings.round_trips recorded.
LatencyResult run_latency(const TransportUnderTest& transport, const CaseSettings& settings);
// Throughput: settings.warmup_seconds, then settings.seconds counted.
ThroughputResult run_throughput(const TransportUnderTest& transport, const CaseSettings& settings);

// True if this process may run on at least two cores, so that pin_threads has an effect.
bool can_pin_threads();

}  // namespace tickwire::bench
