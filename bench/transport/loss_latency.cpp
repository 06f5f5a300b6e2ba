#include "loss_latency.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "bench_message.hpp"
#include "common/csv_file.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The send time travels in the message, after the header: both ends read the same clock.
constexpr std::size_t kSendTimeOffset = kHeaderSize;
// Both ends wait in the transport at most this long, as a game loop waiting for input would.
constexpr milliseconds kPollWait{1};
// Before the loss starts the connection carries messages over the delayed link for this long, so
// that each library's RTT estimate has settled on the link rather than on the loopback handshake.
// These messages are checked for order like the rest but not counted.
constexpr double kWarmupSeconds = 1.0;

// What the server thread finds, read by the client thread only after the server thread ended
// (except `delivered`, which tells the client when it can stop waiting).
struct Arrivals {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> delivered{0};  // counted messages, each once
  std::uint64_t out_of_order = 0;
  std::uint64_t duplicates = 0;
  std::vector<double> latency_ms;
};

// The server's side: every message is checked against the sequence (the next one, exactly once),
// and the counted ones' latency recorded.
void receive_all(ServerEndpoint& server, Arrivals& arrivals) {
  std::uint64_t highest = 0;
  std::vector<bool> seen;
  while (!arrivals.stop.load(std::memory_order_relaxed)) {
    const auto message = server.receive(kPollWait);
    if (!message) continue;
    const auto now = Clock::now();
    const auto header = read_header(*message);
    if (!header || header->type != MessageType::data ||
        message->size() < kSendTimeOffset + sizeof(std::int64_t)) {
      continue;
    }
    const std::uint64_t sequence = header->sequence;
    if (sequence >= seen.size()) seen.resize(std::max<std::size_t>(sequence + 1, seen.size() * 2));
    if (seen[sequence]) {
      ++arrivals.duplicates;
      continue;
    }
    seen[sequence] = true;
    if (sequence != highest + 1) ++arrivals.out_of_order;
    highest = std::max(highest, sequence);
    if (!header->measured) continue;
    std::int64_t sent_ns = 0;
    std::memcpy(&sent_ns, message->data() + kSendTimeOffset, sizeof sent_ns);
    const auto sent = Clock::time_point(std::chrono::nanoseconds(sent_ns));
    arrivals.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - sent).count());
    arrivals.delivered.fetch_add(1, std::memory_order_release);
  }
}

net::LinkConditions link(const LossLatencySettings& settings, double loss) {
  net::LinkConditions conditions;
  conditions.latency_ms = settings.latency_ms;
  conditions.jitter_ms = settings.jitter_ms;
  conditions.loss = loss;
  return conditions;
}

// Sends at the settings' rate for `seconds`, servicing the connection in between.
bool send_for(Endpoint& client, const LossLatencySettings& settings, double seconds, bool measured,
              std::uint64_t& sequence, std::uint64_t& sent) {
  std::vector<std::byte> message(std::max(settings.message_size, kSendTimeOffset + 8));
  for (std::size_t i = kSendTimeOffset + 8; i < message.size(); ++i)
    message[i] = static_cast<std::byte>(i * 37);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / settings.messages_per_second));
  const auto start = Clock::now();
  const auto count =
      static_cast<std::uint64_t>(std::llround(seconds * settings.messages_per_second));
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto due = start + interval * static_cast<std::int64_t>(i);
    for (auto now = Clock::now(); now < due; now = Clock::now())
      (void)client.receive(std::min(kPollWait, std::chrono::ceil<milliseconds>(due - now)));
    write_header(message,
                 {MessageType::data, net::Delivery::reliable_ordered, measured, 1, ++sequence});
    const std::int64_t sent_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    std::memcpy(message.data() + kSendTimeOffset, &sent_ns, sizeof sent_ns);
    if (!client.send(kDataChannel, net::Delivery::reliable_ordered, message)) return false;
    client.flush();
    if (measured) ++sent;
  }
  return true;
}

LossRun run_one(const TransportUnderTest& library, const LossLatencySettings& settings, double loss,
                std::uint64_t seed) {
  LossRun run{library.name, loss, seed};
  Arrivals arrivals;
  std::promise<net::Result<std::uint16_t>> listening;
  auto port = listening.get_future();
  std::thread server_thread([&] {
    auto server = library.make_server();
    if (!server.ok()) {
      listening.set_value(net::Status::error(server.error()));
      return;
    }
    listening.set_value((*server)->port());
    receive_all(**server, arrivals);
  });
  const auto stop_server = [&] {
    arrivals.stop.store(true, std::memory_order_relaxed);
    server_thread.join();
  };
  auto server_port = port.get();
  if (!server_port.ok()) {
    run.error = server_port.error();
    stop_server();
    return run;
  }

  net::UdpLinkSimulatorConfig relay_config;
  relay_config.target_port = *server_port;
  relay_config.conditions = net::NetworkConditions::symmetric(link(settings, 0), seed);
  auto relay = net::UdpLinkSimulator::start(relay_config);
  if (!relay.ok()) {
    run.error = relay.error();
    stop_server();
    return run;
  }
  auto client = library.make_client((*relay)->port());
  if (!client.ok()) {
    run.error = client.error();
    stop_server();
    return run;
  }
  std::uint64_t sequence = 0;
  std::uint64_t warmup_sent = 0;
  bool accepted = send_for(**client, settings, kWarmupSeconds, false, sequence, warmup_sent);
  (*relay)->set_conditions(net::NetworkConditions::symmetric(link(settings, loss), seed));
  accepted = accepted && send_for(**client, settings, settings.seconds, true, sequence, run.sent);
  const auto drain_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(settings.drain_seconds));
  while (arrivals.delivered.load(std::memory_order_acquire) < run.sent && Clock::now() < drain_end)
    (void)(*client)->receive(kPollWait);
  stop_server();
  if (!accepted) run.error = "the client's transport refused a message";
  run.delivered = arrivals.delivered.load();
  run.out_of_order = arrivals.out_of_order;
  run.duplicates = arrivals.duplicates;
  run.latency_ms = std::move(arrivals.latency_ms);
  const net::UdpLinkSimulatorCounters counters = (*relay)->counters();
  run.relay_dropped = counters.dropped;
  run.relay_forwarded = counters.forwarded_to_server + counters.forwarded_to_clients;
  return run;
}

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

bool is_tickwire(const LossRun& run) {
  return run.library.rfind("Tickwire", 0) == 0;
}

void print_row(const char* library, double loss, const std::string& seed, std::uint64_t delivered,
               std::uint64_t sent, std::vector<double> latency, const std::string& note) {
  std::sort(latency.begin(), latency.end());
  std::printf("| %s | %.0f %% | %s | %llu/%llu | %.1f | %.1f | %.1f | %.1f |%s\n", library,
              loss * 100, seed.c_str(), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(sent), percentile(latency, 0.5),
              percentile(latency, 0.9), percentile(latency, 0.99),
              latency.empty() ? 0.0 : latency.back(), note.c_str());
}

std::string problems_of(const LossRun& run) {
  std::string note;
  if (!run.error.empty()) note.append(" error: ").append(run.error).append(";");
  // Built with snprintf: GCC 12 warns falsely (-Wrestrict) on chains of std::string operator+.
  const auto add = [&note](std::uint64_t count, const char* what) {
    if (count == 0) return;
    char text[64];
    std::snprintf(text, sizeof text, " %llu %s;", static_cast<unsigned long long>(count), what);
    note.append(text);
  };
  add(run.sent > run.delivered ? run.sent - run.delivered : 0, "never delivered");
  add(run.out_of_order, "out of order");
  add(run.duplicates, "duplicated");
  return note;
}

}  // namespace

std::vector<LossRun> run_loss_latency(const std::vector<TransportUnderTest>& libraries,
                                      const LossLatencySettings& settings) {
  std::vector<LossRun> runs(libraries.size() * settings.losses.size() *
                            static_cast<std::size_t>(settings.seeds));
  const auto index = [&](std::size_t library, std::size_t loss, int seed) {
    return (library * settings.losses.size() + loss) * static_cast<std::size_t>(settings.seeds) +
           static_cast<std::size_t>(seed);
  };
  int turn = 0;
  for (int seed = 0; seed < settings.seeds; ++seed) {
    for (std::size_t loss = 0; loss < settings.losses.size(); ++loss) {
      // The libraries take turns going first, so that load from the rest of the machine falls on
      // both alike.
      for (std::size_t k = 0; k < libraries.size(); ++k) {
        const std::size_t library = (k + static_cast<std::size_t>(turn)) % libraries.size();
        LossRun run = run_one(libraries[library], settings, settings.losses[loss],
                              static_cast<std::uint64_t>(seed) + 1);
        std::vector<double> sorted = run.latency_ms;
        std::sort(sorted.begin(), sorted.end());
        std::fprintf(stderr,
                     "[loss %2.0f%% seed %d] %-14s delivered %llu/%llu  p50 %6.1f ms  p99 %7.1f ms"
                     "  max %7.1f ms%s\n",
                     settings.losses[loss] * 100, seed + 1, run.library.c_str(),
                     static_cast<unsigned long long>(run.delivered),
                     static_cast<unsigned long long>(run.sent), percentile(sorted, 0.5),
                     percentile(sorted, 0.99), sorted.empty() ? 0.0 : sorted.back(),
                     problems_of(run).c_str());
        runs[index(library, loss, seed)] = std::move(run);
      }
      ++turn;
    }
  }
  return runs;
}

std::size_t report_loss_latency(const std::vector<LossRun>& runs,
                                const LossLatencySettings& settings) {
  std::printf(
      "\nReliable latency under loss: %zu B reliable_ordered messages, %.0f a second, client to "
      "server,\nfor %.1f s per run through a UdpLinkSimulator relay (%.0f ms each way, ±%.0f ms "
      "jitter, the loss\nbelow each way), after %.0f s without loss. One-way latency from send() "
      "to the server's poll, in ms,\nover delivered messages; delivered = in order, once.\n\n",
      settings.message_size, settings.messages_per_second, settings.seconds, settings.latency_ms,
      settings.jitter_ms, kWarmupSeconds);
  std::printf(
      "| library | loss | seed | delivered | p50 | p90 | p99 | max |\n"
      "|---|---|---|---|---|---|---|---|\n");
  std::size_t failures = 0;
  struct Pool {
    std::vector<double> latency;
    std::uint64_t delivered = 0;
    std::uint64_t sent = 0;
  };
  for (std::size_t first = 0; first < runs.size();
       first += static_cast<std::size_t>(settings.seeds)) {
    Pool pool;
    for (int s = 0; s < settings.seeds; ++s) {
      const LossRun& run = runs[first + static_cast<std::size_t>(s)];
      const std::string note = problems_of(run);
      print_row(run.library.c_str(), run.loss, std::to_string(run.seed), run.delivered, run.sent,
                run.latency_ms, note);
      pool.latency.insert(pool.latency.end(), run.latency_ms.begin(), run.latency_ms.end());
      pool.delivered += run.delivered;
      pool.sent += run.sent;
      // Order and uniqueness hold for every library; completeness is Tickwire's promise (raw
      // ENet may give up on a connection under heavy loss: that is reported, not failed).
      if (run.out_of_order > 0 || run.duplicates > 0 || (is_tickwire(run) && !run.intact())) {
        ++failures;
      }
    }
    const LossRun& any = runs[first];
    print_row(any.library.c_str(), any.loss, "**pooled**", pool.delivered, pool.sent, pool.latency,
              "");
  }

  std::printf("\nTickwire goals, pooled p99: at most %.0f ms at 5 %% loss, %.0f ms at 20 %%.\n",
              kLossP99Goal5Ms, kLossP99Goal20Ms);
  for (std::size_t first = 0; first < runs.size();
       first += static_cast<std::size_t>(settings.seeds)) {
    const LossRun& any = runs[first];
    if (!is_tickwire(any)) continue;
    const double goal = any.loss <= 0.05 + 1e-9   ? kLossP99Goal5Ms
                        : any.loss <= 0.20 + 1e-9 ? kLossP99Goal20Ms
                                                  : 0;
    if (goal == 0) continue;
    std::vector<double> pooled;
    for (int s = 0; s < settings.seeds; ++s) {
      const auto& latency = runs[first + static_cast<std::size_t>(s)].latency_ms;
      pooled.insert(pooled.end(), latency.begin(), latency.end());
    }
    std::sort(pooled.begin(), pooled.end());
    const double p99 = percentile(pooled, 0.99);
    std::printf("  %s at %.0f %%: p99 %.1f ms — %s\n", any.library.c_str(), any.loss * 100, p99,
                p99 <= goal ? "met" : "MISSED");
  }

  if (!settings.latency_csv.empty()) {
    CsvFile csv(settings.latency_csv, {"library", "loss_percent", "seed", "latency_ms"});
    if (csv.failed()) {
      ++failures;
    } else {
      for (const LossRun& run : runs) {
        for (const double latency : run.latency_ms)
          csv.row({run.library, run.loss * 100, static_cast<long long>(run.seed), latency});
      }
      std::printf("\nLatency of every delivered message written to %s\n",
                  settings.latency_csv.c_str());
    }
  }
  if (failures > 0) {
    std::printf(
        "\nFAILED: %zu run(s) broke delivery (out of order, duplicated, or a Tickwire message "
        "never "
        "delivered); see the notes in the table.\n",
        failures);
  }
  return failures;
}

}  // namespace tickwire::bench
