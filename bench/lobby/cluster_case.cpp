// The cluster case: one room of clients on one lobby node (its state in memory, and in Redis)
// against the same room split across two lobby nodes on one Redis. Every node is a child process
// of its own, so a node's CPU time is its process's (all of its threads: the lobby's, the io
// thread, and the Redis state's publisher and subscriber threads). Redis's own CPU time is read
// from its process, and its commands from INFO commandstats.

#include "cluster_case.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../../tests/support/redis_server.hpp"
#include "load_client.hpp"
#include "server_process.hpp"

namespace tickwire::bench {
namespace {

enum class Setup { one_node_memory, one_node_redis, two_nodes_redis };
constexpr Setup kSetups[] = {Setup::one_node_memory, Setup::one_node_redis, Setup::two_nodes_redis};
constexpr int kSetupCount = 3;
constexpr int kMemory = 0, kOneRedis = 1, kTwoRedis = 2;  // indexes into kSetups
constexpr int kGoalClients = 100;

const char* setup_name(Setup setup) {
  switch (setup) {
    case Setup::one_node_memory:
      return "1 node, in memory";
    case Setup::one_node_redis:
      return "1 node, on Redis";
    case Setup::two_nodes_redis:
      return "2 nodes, on Redis";
  }
  return "?";
}

int node_count(Setup setup) {
  return setup == Setup::two_nodes_redis ? 2 : 1;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// The smallest value with at least `fraction` of them at or below it.
double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank > 0 ? rank - 1 : 0)];
}

// Commands Redis has run so far (INFO commandstats, summed; the INFO calls themselves left out),
// or a negative number if it could not be read. Commands a Lua script runs count, each.
double redis_commands(std::uint16_t port) {
  test::RawTcpClient client(port);
  if (!client.connected() || !client.send_bytes("INFO commandstats\r\n")) return -1;
  // A bulk string: "$<length>\r\n<length bytes>\r\n".
  const auto complete = [](const std::string& got) {
    const auto header_end = got.find("\r\n");
    if (got.empty() || got[0] != '$' || header_end == std::string::npos) return false;
    const std::size_t length = std::stoul(got.substr(1, header_end - 1));
    return got.size() >= header_end + 2 + length + 2;
  };
  if (!client.read_until(complete, std::chrono::seconds(5))) return -1;
  double calls = 0;
  const std::string& text = client.received();
  for (std::size_t at = text.find("cmdstat_"); at != std::string::npos;
       at = text.find("cmdstat_", at + 1)) {
    const std::size_t name_end = text.find(':', at);
    const std::size_t calls_at = text.find("calls=", at);
    if (name_end == std::string::npos || calls_at == std::string::npos) break;
    if (text.compare(at, name_end - at, "cmdstat_info") == 0) continue;
    calls += std::stod(text.substr(calls_at + 6));
  }
  return calls;
}

struct SetupRounds {
  std::vector<double> rate;
  std::vector<std::vector<double>> cpu_us_by_node;  // [node][round]: node CPU / its deliveries
  std::vector<double> cpu_us;                       // every node's CPU / every delivery
  std::vector<double> redis_cpu_us;                 // redis-server's CPU / every delivery
  std::vector<double> commands_per_line;
  std::vector<double> latency_us;  // every probe delivery of every round
  std::uint64_t lost = 0;
  std::vector<std::string> errors;
};

void measure(const std::string& program, Setup setup, const ClusterOptions& options,
             SetupRounds& out) {
  const int nodes = node_count(setup);
  std::unique_ptr<test::RedisServer> redis;
  if (setup != Setup::one_node_memory) {
    // A fresh server per reading: no rooms or history left from the one before.
    std::string error;
    redis = test::RedisServer::start(error);
    if (!redis) return out.errors.push_back(error);
  }
  std::vector<std::unique_ptr<ServerProcess>> servers;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < nodes; ++i) {
    servers.push_back(std::make_unique<ServerProcess>(
        program, redis ? ServerKind::tickwire_lobby_redis : ServerKind::tickwire_lobby,
        redis ? redis->port() : 0));
    if (!servers.back()->ok()) return out.errors.push_back(servers.back()->error());
    ports.push_back(servers.back()->port());
  }
  FanoutSettings settings;
  settings.clients = options.clients;
  settings.window = options.window;
  settings.seconds = options.seconds;
  settings.warmup_seconds = options.quick ? 0.2 : 0.5;
  settings.latency_probes = options.probes;
  // Each node's CPU seconds, then redis-server's and its command count (0 without Redis).
  const auto readings = [&] {
    std::vector<double> values;
    for (const auto& server : servers)
      values.push_back(server->cpu_seconds());
    values.push_back(redis ? process_cpu_seconds(redis->pid()) : 0);
    values.push_back(redis ? redis_commands(redis->port()) : 0);
    return values;
  };
  const FanoutResult result = run_fanout(ServerKind::tickwire_lobby, ports, settings, readings);
  const double lines =
      static_cast<double>(result.timed_deliveries) / static_cast<double>(options.clients);
  const auto per_delivery_us = [](double seconds, std::uint64_t deliveries) {
    return deliveries > 0 ? seconds * 1e6 / static_cast<double>(deliveries) : 0;
  };
  std::string by_node;
  if (result.error.empty()) {
    out.cpu_us_by_node.resize(static_cast<std::size_t>(nodes));
    for (std::size_t i = 0; i < static_cast<std::size_t>(nodes); ++i) {
      const double us =
          per_delivery_us(result.window_readings[i], result.timed_deliveries_by_server[i]);
      out.cpu_us_by_node[i].push_back(us);
      char text[32];
      std::snprintf(text, sizeof text, "%s%.2f", i == 0 ? "" : " / ", us);
      by_node += text;
    }
    const double redis_cpu = result.window_readings[static_cast<std::size_t>(nodes)];
    const double commands = result.window_readings[static_cast<std::size_t>(nodes) + 1];
    out.rate.push_back(result.deliveries_per_second());
    out.cpu_us.push_back(result.cpu_us_per_delivery());
    out.redis_cpu_us.push_back(per_delivery_us(redis_cpu, result.timed_deliveries));
    out.commands_per_line.push_back(lines > 0 ? commands / lines : 0);
    out.latency_us.insert(out.latency_us.end(), result.latency_us.begin(), result.latency_us.end());
  }
  std::fprintf(stderr,
               "  cluster    %-18s %4d clients %10.0f deliveries/s  %s us CPU/delivery by node  "
               "latency p50 %.0f us p99 %.0f us  lost %llu%s%s\n",
               setup_name(setup), options.clients, result.deliveries_per_second(), by_node.c_str(),
               percentile(result.latency_us, 0.5), percentile(result.latency_us, 0.99),
               static_cast<unsigned long long>(result.lost),
               result.error.empty() ? "" : "  FAILED: ", result.error.c_str());
  out.lost += result.lost;
  if (!result.error.empty()) out.errors.push_back(result.error);
}

const char* verdict(bool met) {
  return met ? "met" : "NOT met";
}

}  // namespace

int run_cluster(const std::string& program, const ClusterOptions& options) {
  if (!test::RedisServer::find_binary()) {
    std::printf("Lobby cluster case skipped: %s.\n", test::RedisServer::kMissing);
    return 0;
  }
  SetupRounds setups[kSetupCount];
  for (int round = 0; round < options.rounds; ++round) {
    std::fprintf(stderr, "[cluster round %d/%d]\n", round + 1, options.rounds);
    // The order turns by round, so that load from the rest of the machine falls on every setup.
    for (int k = 0; k < kSetupCount; ++k) {
      const int i = (k + round) % kSetupCount;
      measure(program, kSetups[i], options, setups[i]);
    }
  }

  std::printf(
      "Tickwire lobby cluster: chat fan-out in one room of %d clients, every one sending with %d\n"
      "line(s) in flight, %.1f s counted per round; on one lobby node (state in memory, and in\n"
      "Redis) and split across two lobby nodes on one Redis (client i on node i %% 2). Every node\n"
      "is a child process; redis-server 7 runs on a free loopback port, a fresh one per reading.\n"
      "%d round(s); the order turns by round; medians reported.%s\n\n",
      options.clients, options.window, options.seconds, options.rounds,
      options.quick ? " QUICK smoke run: figures are not meaningful." : "");
  std::printf(
      "CPU per delivery of a node: the node process's CPU time (every thread) over the lines its\n"
      "own clients received. Redis commands per chat line: INFO commandstats (commands inside Lua\n"
      "scripts counted each) over the lines delivered, in the counted time. Latency: %d probe\n"
      "line(s) per round, one at a time, from send to receipt by each client (no queueing).\n",
      options.probes);
  std::printf("  %-18s %13s %22s %15s %15s %9s %9s %7s\n", "setup", "deliveries/s",
              "CPU us/delivery/node", "Redis CPU us/d", "Redis cmds/line", "p50 us", "p99 us",
              "lost");
  for (int i = 0; i < kSetupCount; ++i) {
    const SetupRounds& s = setups[i];
    std::string by_node;
    for (std::size_t n = 0; n < s.cpu_us_by_node.size(); ++n) {
      char text[32];
      std::snprintf(text, sizeof text, "%s%.2f", n == 0 ? "" : " / ", median(s.cpu_us_by_node[n]));
      by_node += text;
    }
    std::printf("  %-18s %13.0f %22s %15.2f %15.2f %9.0f %9.0f %7llu\n", setup_name(kSetups[i]),
                median(s.rate), by_node.c_str(), median(s.redis_cpu_us),
                median(s.commands_per_line), percentile(s.latency_us, 0.5),
                percentile(s.latency_us, 0.99), static_cast<unsigned long long>(s.lost));
  }

  // A node's CPU per delivery against one node's: the busier of the two nodes counts.
  double worst_node = 0;
  for (const auto& node : setups[kTwoRedis].cpu_us_by_node)
    worst_node = std::max(worst_node, median(node));
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  const double cpu_vs_memory = ratio(worst_node, median(setups[kMemory].cpu_us));
  const double cpu_vs_redis = ratio(worst_node, median(setups[kOneRedis].cpu_us));
  const auto added = [&](int base, double fraction) {
    return (percentile(setups[kTwoRedis].latency_us, fraction) -
            percentile(setups[base].latency_us, fraction)) /
           1000;
  };
  std::printf("\nCross-node (2 nodes on Redis; the busier node) against one node\n");
  std::printf("  %-28s %12s %12s\n", "", "vs in memory", "vs on Redis");
  std::printf("  %-28s %11.2fx %11.2fx\n", "CPU per delivery", cpu_vs_memory, cpu_vs_redis);
  std::printf("  %-28s %9.2f ms %9.2f ms\n", "added latency p50", added(kMemory, 0.5),
              added(kOneRedis, 0.5));
  std::printf("  %-28s %9.2f ms %9.2f ms\n", "added latency p99", added(kMemory, 0.99),
              added(kOneRedis, 0.99));
  std::printf("\nGoals (against one node in memory, the default)\n");
  if (options.clients == kGoalClients) {
    std::printf("  cross-node CPU per delivery <= 1.5x   %6.2fx        %s\n", cpu_vs_memory,
                verdict(cpu_vs_memory > 0 && cpu_vs_memory <= 1.5));
    std::printf("  added p99 latency <= 2 ms             %6.2f ms      %s\n", added(kMemory, 0.99),
                verdict(!setups[kTwoRedis].latency_us.empty() && added(kMemory, 0.99) <= 2.0));
  } else {
    std::printf("  not judged: the goals are for a room of %d\n", kGoalClients);
  }

  // Exit status: whether everything could be measured and every line arrived; never how fast.
  std::size_t failures = 0;
  for (int i = 0; i < kSetupCount; ++i) {
    failures += setups[i].errors.size() + (setups[i].lost > 0 ? 1 : 0);
    for (const auto& error : setups[i].errors)
      std::printf("\n%s failed: %s", setup_name(kSetups[i]), error.c_str());
    if (setups[i].lost > 0)
      std::printf("\n%s lost %llu deliveries", setup_name(kSetups[i]),
                  static_cast<unsigned long long>(setups[i].lost));
  }
  if (failures > 0) {
    std::printf("\n%zu problem(s); see above.\n", failures);
    return 1;
  }
  return 0;
}

}  // namespace tickwire::bench
