#pragma once
// Reliable latency under loss: one-way delivery latency of small reliable messages sent at a game's
// rate through a UDP relay (UdpLinkSimulator) that loses, delays and jitters datagrams both ways,
// raw ENet against Tickwire in the same run, several seeds per case. The server checks that every
// message arrives in order exactly once.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "endpoint.hpp"

namespace tickwire::bench {

struct LossLatencySettings {
  std::vector<double> losses = {0.05, 0.20};  // each way, 0..1
  double latency_ms = 25;                     // each way
  double jitter_ms = 5;                       // each way, ±
  int seeds = 5;                              // seeds 1..seeds per library and loss
  double seconds = 10;                        // sending time per run
  double messages_per_second = 60;
  std::size_t message_size = 64;  // bytes, header and send time included
  // After the last send, how long the run waits for the rest to arrive before it counts them as
  // never delivered.
  double drain_seconds = 20;
  std::string latency_csv;  // when set: every delivered message's latency, one row each
};

// Tickwire's goals for the pooled p99 latency, in milliseconds.
inline constexpr double kLossP99Goal5Ms = 120;   // at 5 % loss each way
inline constexpr double kLossP99Goal20Ms = 300;  // at 20 % loss each way

// One library, loss and seed.
struct LossRun {
  std::string library;
  double loss = 0;
  std::uint64_t seed = 0;
  std::string error;                // set up failed, or the connection was lost
  std::uint64_t sent = 0;           // messages the client's transport accepted
  std::uint64_t delivered = 0;      // distinct messages the server received in order
  std::uint64_t out_of_order = 0;   // a message arrived before one sent earlier
  std::uint64_t duplicates = 0;     // a message arrived again
  std::uint64_t relay_dropped = 0;  // datagrams the relay lost on purpose, both ways
  std::uint64_t relay_forwarded = 0;
  std::vector<double> latency_ms;  // per delivered message, in send order

  // Everything arrived, in order, exactly once.
  bool intact() const {
    return error.empty() && delivered == sent && out_of_order == 0 && duplicates == 0;
  }
};

// Runs every case (each loss, each seed, each library, taking turns) and returns the runs in the
// order library, loss, seed.
std::vector<LossRun> run_loss_latency(const std::vector<TransportUnderTest>& libraries,
                                      const LossLatencySettings& settings);

// Prints the per-seed and pooled table and the goals; writes the CSV if asked. Returns the number
// of failures: a Tickwire run that did not deliver everything in order exactly once, or any run
// that delivered out of order or twice.
std::size_t report_loss_latency(const std::vector<LossRun>& runs,
                                const LossLatencySettings& settings);

}  // namespace tickwire::bench
