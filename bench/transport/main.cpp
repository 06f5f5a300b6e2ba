// tickwire-bench-transport: round-trip latency, throughput and bytes on the wire of Tickwire's
// ENet transport, with encrypted sessions (the default) and plaintext ones, against raw ENet (the
// goals' baseline) and raw UDP (the floor), measured in the same run on 127.0.0.1, because this
// machine is shared and only ratios taken side by side mean anything. Then the CPU cost of the
// encryption alone, without sockets.
//
// The transports are measured in turn at fine grain (latency in blocks of a few hundred round
// trips, throughput one second each, who goes first rotating), and every block gets a fresh
// connection, so that load from the rest of the machine and ENet's adaptive state fall on all
// alike.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>
#include <vector>

#include "crypto_cost.hpp"
#include "loss_latency.hpp"
#include "measure.hpp"
#include "report.hpp"

namespace tickwire::bench {
namespace {

constexpr std::array kDeliveries = {net::Delivery::reliable_ordered,
                                    net::Delivery::unreliable_sequenced, net::Delivery::unreliable};
constexpr std::array<std::size_t, 3> kMessageSizes = {64, 1024, 16 * 1024};
// Latency blocks per case and round. Load from other processes comes and goes over seconds;
// taking turns in short blocks spreads it evenly over the transports.
constexpr int kLatencyBlocks = 4;
// Repetitions of each encryption measurement, 0.1 s of CPU time each; the median is reported.
constexpr int kCryptoRepetitions = 5;

struct Options {
  double seconds = 1.0;
  int rounds = 5;
  int round_trips = 2000;
  bool pin_threads = true;
  bool busy_poll = false;
  bool quick = false;
  bool websocket = false;
  bool loss_latency = false;
  LossLatencySettings loss;
};

// One line per transport, case and round on stderr, so that a long run shows it is alive and a
// disturbed round can be spotted.
void progress(int round, const Options& options, const TransportUnderTest& transport,
              const CaseSettings& settings, const CaseRounds& this_round) {
  std::fprintf(stderr, "[round %d/%d] %-20s %7s  %-14s ", round + 1, options.rounds,
               net::to_string(settings.delivery).data(), size_label(settings.message_size).c_str(),
               transport.name.c_str());
  if (!this_round.errors.empty()) {
    std::fprintf(stderr, "FAILED: %s\n", this_round.errors.front().c_str());
    return;
  }
  const CaseSummary summary = summarize(this_round);
  std::fprintf(stderr,
               "median RTT %8.1f us  %11.0f msg/s  %8.2f MB/s  CPU server %3.0f%% client %3.0f%%\n",
               summary.median_us, summary.messages_per_second, summary.megabytes_per_second,
               100 * summary.server_cpu, 100 * summary.client_cpu);
}

struct Contender {
  const TransportUnderTest* transport;
  CaseRounds* rounds;
};

// The contenders in the order they take their turn `turn`: rotated by one each turn, so that
// each goes first (and last) equally often. With two it is plain alternation.
std::vector<std::size_t> turn_order(std::size_t contenders, int turn) {
  std::vector<std::size_t> order(contenders);
  for (std::size_t i = 0; i < contenders; ++i)
    order[i] = (i + static_cast<std::size_t>(turn)) % contenders;
  return order;
}

// Measures one case for one round on each contender, in turn: latency in blocks, the one to go
// first rotating from block to block (and on from round to round), then throughput, the one to
// go first rotating by round.
void measure_round(int round, const Options& options, const CaseSettings& settings,
                   std::vector<Contender> contenders) {
  std::vector<CaseRounds> this_round(contenders.size());

  CaseSettings block = settings;
  block.warmup_round_trips = std::max(1, settings.warmup_round_trips / kLatencyBlocks);
  for (int b = 0; b < kLatencyBlocks; ++b) {
    // The blocks add up to exactly settings.round_trips.
    block.round_trips =
        settings.round_trips / kLatencyBlocks + (b < settings.round_trips % kLatencyBlocks ? 1 : 0);
    for (std::size_t i : turn_order(contenders.size(), round * kLatencyBlocks + b))
      this_round[i].add(run_latency(*contenders[i].transport, block));
  }
  for (std::size_t i : turn_order(contenders.size(), round))
    this_round[i].add(run_throughput(*contenders[i].transport, settings));

  for (std::size_t i = 0; i < contenders.size(); ++i) {
    progress(round, options, *contenders[i].transport, settings, this_round[i]);
    contenders[i].rounds->merge(this_round[i]);
  }
}

// WebSocket gameplay sessions against the plain WebSocket transport, side by side: what the
// ticket handshake's session sealing costs on one TCP stream. Every message on a stream is
// reliable, so one delivery kind.
int run_websocket(const Options& options) {
  const TransportUnderTest sealed = tickwire_websocket_transport();
  const TransportUnderTest plain = tickwire_websocket_plaintext_transport();
  CaseSettings base;
  base.round_trips = options.round_trips;
  base.warmup_round_trips = std::max(1, options.round_trips / 10);
  base.seconds = options.seconds;
  base.warmup_seconds = std::clamp(options.seconds * 0.2, 0.05, 0.5);
  base.pin_threads = options.pin_threads;
  base.busy_poll = options.busy_poll;
  base.delivery = net::Delivery::reliable_ordered;
  std::vector<std::pair<CaseRounds, CaseRounds>> results(kMessageSizes.size());
  for (int round = 0; round < options.rounds; ++round) {
    for (std::size_t s = 0; s < kMessageSizes.size(); ++s) {
      CaseSettings settings = base;
      settings.message_size = kMessageSizes[s];
      measure_round(round, options, settings,
                    {{&sealed, &results[s].first}, {&plain, &results[s].second}});
    }
  }
  std::printf(
      "\nWebSocket, sealed sessions against plain, reliable_ordered, 127.0.0.1 "
      "(%d round(s), %.2f s throughput per round)\n\n",
      options.rounds, options.seconds);
  std::printf(
      "| size | sealed median RTT us | plain median RTT us | RTT ratio | sealed msg/s | "
      "plain msg/s | throughput ratio |\n|---|---|---|---|---|---|---|\n");
  std::size_t failures = 0;
  for (std::size_t s = 0; s < kMessageSizes.size(); ++s) {
    failures += results[s].first.errors.size() + results[s].second.errors.size();
    const CaseSummary a = summarize(results[s].first);
    const CaseSummary b = summarize(results[s].second);
    std::printf("| %s | %.1f | %.1f | %.2f | %.0f | %.0f | %.2f |\n",
                size_label(kMessageSizes[s]).c_str(), a.median_us, b.median_us,
                b.median_us > 0 ? a.median_us / b.median_us : 0.0, a.messages_per_second,
                b.messages_per_second,
                b.messages_per_second > 0 ? a.messages_per_second / b.messages_per_second : 0.0);
  }
  if (failures > 0) {
    std::printf("\n%zu measurement(s) failed to run; see the messages above.\n", failures);
    return 1;
  }
  return 0;
}

int run(const Options& options) {
  const TransportUnderTest encrypted = tickwire_enet_transport();
  const TransportUnderTest plaintext = tickwire_plaintext_transport();
  const TransportUnderTest raw_enet = raw_enet_transport();
  const TransportUnderTest raw_udp = raw_udp_transport();

  CaseSettings base;
  base.round_trips = options.round_trips;
  base.warmup_round_trips = std::max(1, options.round_trips / 10);
  base.seconds = options.seconds;
  // Long enough for ENet's RTT estimate and throttle to settle on loopback.
  base.warmup_seconds = std::clamp(options.seconds * 0.2, 0.05, 0.5);
  base.pin_threads = options.pin_threads;
  base.busy_poll = options.busy_poll;

  struct ComparisonRounds {
    CaseRounds encrypted;
    CaseRounds plaintext;
    CaseRounds raw_enet;
  };
  std::vector<ComparisonRounds> comparison(kMessageSizes.size() * kDeliveries.size());
  std::vector<CaseRounds> floor(kMessageSizes.size());

  for (int round = 0; round < options.rounds; ++round) {
    for (std::size_t s = 0; s < kMessageSizes.size(); ++s) {
      CaseSettings settings = base;
      settings.message_size = kMessageSizes[s];
      for (std::size_t d = 0; d < kDeliveries.size(); ++d) {
        settings.delivery = kDeliveries[d];
        ComparisonRounds& rounds = comparison[s * kDeliveries.size() + d];
        measure_round(round, options, settings,
                      {{&encrypted, &rounds.encrypted},
                       {&plaintext, &rounds.plaintext},
                       {&raw_enet, &rounds.raw_enet}});
      }
      // Raw UDP has no delivery kinds: one datagram case per size. The header says "unreliable"
      // only so that the echo server, shared by all transports, has a kind to answer with.
      settings.delivery = net::Delivery::unreliable;
      measure_round(round, options, settings, {{&raw_udp, &floor[s]}});
    }
  }

  std::vector<ComparisonRow> comparison_rows;
  std::vector<FloorRow> floor_rows;
  std::size_t failures = 0;
  for (std::size_t s = 0; s < kMessageSizes.size(); ++s) {
    for (std::size_t d = 0; d < kDeliveries.size(); ++d) {
      const ComparisonRounds& rounds = comparison[s * kDeliveries.size() + d];
      failures += rounds.encrypted.errors.size() + rounds.plaintext.errors.size() +
                  rounds.raw_enet.errors.size();
      comparison_rows.push_back({kDeliveries[d], kMessageSizes[s], summarize(rounds.encrypted),
                                 summarize(rounds.plaintext), summarize(rounds.raw_enet)});
    }
    failures += floor[s].errors.size();
    floor_rows.push_back({kMessageSizes[s], summarize(floor[s])});
  }
  print_report(
      {base.seconds, base.warmup_seconds, base.round_trips, base.warmup_round_trips, options.rounds,
       kLatencyBlocks, options.pin_threads && can_pin_threads(), options.busy_poll, options.quick},
      comparison_rows, floor_rows);

  // Last, on one thread with the transports gone: nothing else of ours competes for the core.
  const CryptoCosts crypto = options.quick ? measure_crypto_costs(1, 0.005)
                                           : measure_crypto_costs(kCryptoRepetitions, 0.1);
  print_crypto_costs(crypto);
  for (const SealCost& seal : crypto.seals) {
    if (!seal.opened) ++failures;
  }
  if (failures > 0) {
    std::printf("\n%zu measurement(s) failed to run; see the messages above.\n", failures);
    return 1;
  }
  // Missed timing goals do not fail the run: the table reports them. Only a measurement that
  // could not be taken at all (no connection, no messages) is an error.
  return 0;
}

// Reliable latency under loss: raw ENet and Tickwire (encrypted, default config) through the same
// lossy relay, in turns.
int run_loss_case(const Options& options) {
  const std::vector<LossRun> runs =
      run_loss_latency({raw_enet_transport(), tickwire_enet_transport()}, options.loss);
  return report_loss_latency(runs, options.loss) > 0 ? 1 : 0;
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  tickwire::bench::Options options;
  bool no_pin = false;
  CLI::App app{
      "Round-trip latency, throughput and bytes on the wire of Tickwire's ENet transport, "
      "encrypted and plaintext, against raw ENet and raw UDP, on 127.0.0.1 only, with the ratios "
      "Tickwire's goals are stated in; then the CPU cost of the encryption alone."};
  app.name("tickwire-bench-transport");
  auto* seconds = app.add_option("--seconds", options.seconds,
                                 "Throughput measured per case and round, in seconds (default 1)")
                      ->check(CLI::Range(0.01, 600.0));
  app.add_flag("--quick", options.quick,
               "Short smoke run for CI: 0.25 s per case, 300 round trips, one round; with "
               "--loss-latency one seed of 2 s (explicit options still win)");
  auto* rounds = app.add_option("--rounds", options.rounds,
                                "Rounds of every case, interleaved; latency pools them, "
                                "throughput takes the median (default 5)")
                     ->check(CLI::Range(1, 100));
  auto* round_trips =
      app.add_option("--round-trips", options.round_trips,
                     "Recorded round trips per case and round, after a tenth as many for "
                     "warm-up (default 2000)")
          ->check(CLI::Range(10, 10'000'000));
  app.add_flag("--no-pin", no_pin,
               "Let the scheduler place the server and client threads instead of pinning each to "
               "its own core");
  app.add_flag("--busy-poll", options.busy_poll,
               "Both sides poll without waiting, so round trips measure the transports without "
               "thread wake-ups (keeps both cores busy: use on a quiet machine)");
  app.add_flag("--websocket", options.websocket,
               "Measure Tickwire's WebSocket transport instead: gameplay sessions (ticket, sealed "
               "messages) against plain WebSocket, reliable messages of each size");
  app.add_flag("--loss-latency", options.loss_latency,
               "Measure reliable latency under loss instead: 64 B reliable messages at 60 a second "
               "through a relay with 25 ms each way, 5 ms jitter and 5 % / 20 % loss, raw ENet "
               "against Tickwire, several seeds; checks in-order, exactly-once delivery");
  auto* loss_seeds = app.add_option("--loss-seeds", options.loss.seeds,
                                    "--loss-latency: seeds per library and loss (default 5)")
                         ->check(CLI::Range(1, 1000));
  auto* loss_seconds =
      app.add_option("--loss-seconds", options.loss.seconds,
                     "--loss-latency: sending time per run, in seconds (default 10)")
          ->check(CLI::Range(0.5, 3600.0));
  app.add_option("--latency-csv", options.loss.latency_csv,
                 "--loss-latency: write every delivered message's latency to this file "
                 "(columns library,loss,seed,latency_ms)");
  CLI11_PARSE(app, argc, argv);
  options.pin_threads = !no_pin;

  if (options.quick) {
    if (seconds->count() == 0) options.seconds = 0.25;
    if (rounds->count() == 0) options.rounds = 1;
    if (round_trips->count() == 0) options.round_trips = 300;
    if (loss_seeds->count() == 0) options.loss.seeds = 1;
    if (loss_seconds->count() == 0) options.loss.seconds = 2;
  }
  if (options.loss_latency) return tickwire::bench::run_loss_case(options);
  return options.websocket ? tickwire::bench::run_websocket(options)
                           : tickwire::bench::run(options);
}
