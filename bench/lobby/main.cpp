// tickwire-bench-lobby: chat fan-out, connection handshakes and memory per idle connection of the
// Tickwire LobbyServer, over plaintext and over TLS, against a minimal raw Beast broadcast server
// (the baseline of the goals), each measured in the same run. Every server runs in a child process
// of its own (this program with --serve), so CPU time and resident memory are the server's alone;
// the load generator is native (Beast async clients on this process's main thread) and talks to
// 127.0.0.1 only.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cluster_case.hpp"
#include "common/csv_file.hpp"
#include "load_client.hpp"
#include "server_process.hpp"

namespace tickwire::bench {
namespace {

struct Options {
  double seconds = 5.0;
  int rounds = 3;
  std::vector<int> clients = {100};  // room sizes for the fan-out; its goals are at 100
  int window = 2;
  int connections = 1000;
  int handshakes = 2000;
  int handshake_concurrency = 16;
  // Members per room in the idle reading, one reading per size; the goals are read at the
  // first size given.
  std::vector<int> room_sizes = {static_cast<int>(kDefaultIdleRoomSize)};
  bool idle_only = false;  // skip fan-out and handshakes
  bool json = false;       // the idle reading's lobby clients speak JSON text frames
  std::string csv;         // also write the fan-out results here (bench/plots/make_plots.sh)
  bool quick = false;
};

constexpr ServerKind kKinds[] = {ServerKind::raw_beast, ServerKind::tickwire_lobby,
                                 ServerKind::tickwire_lobby_tls};
constexpr int kKindCount = 3;
constexpr int kRaw = 0, kLobby = 1, kLobbyTls = 2;  // indexes into kKinds
constexpr int kGoalClients = 100;                   // the fan-out goals are for a room of 100

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

struct FanoutRounds {
  std::vector<double> rate;
  std::vector<double> cpu_us;
  std::vector<double> server_busy;     // server CPU time / wall time (it has several threads)
  std::vector<double> generator_busy;  // load generator CPU time / wall time (one thread)
  std::uint64_t lines_sent = 0;
  std::uint64_t lost = 0;
  std::vector<std::string> errors;
};
struct HandshakeRounds {
  std::vector<double> rate;
  int failed = 0;
  std::vector<std::string> errors;
};
struct IdleMeasure {
  std::uint64_t rss_empty_kib = 0;
  std::uint64_t rss_hello_kib = 0;   // every connection welcomed
  std::uint64_t rss_joined_kib = 0;  // every connection in a room
  int opened = 0;
  std::string error;
  static double per_connection(std::uint64_t full, std::uint64_t empty, int count) {
    return count > 0 ? (static_cast<double>(full) - static_cast<double>(empty)) / count : 0;
  }
  double hello_kib_per_connection(int count) const {
    return per_connection(rss_hello_kib, rss_empty_kib, count);
  }
  double joined_kib_per_connection(int count) const {
    return per_connection(rss_joined_kib, rss_empty_kib, count);
  }
};

void fanout_round(const std::string& program, ServerKind kind, int clients, const Options& options,
                  FanoutRounds& out) {
  ServerProcess server(program, kind);
  if (!server.ok()) return out.errors.push_back(server.error());
  FanoutSettings settings;
  settings.clients = clients;
  settings.window = options.window;
  settings.seconds = options.seconds;
  settings.warmup_seconds = options.quick ? 0.2 : 0.5;
  const FanoutResult result = run_fanout(kind, {server.port()}, settings, [&server] {
    return std::vector<double>{server.cpu_seconds()};
  });
  std::fprintf(stderr,
               "  fan-out    %-15s %4d clients %10.0f deliveries/s  %5.2f us CPU/delivery  lost "
               "%llu%s%s\n",
               server_name(kind), clients, result.deliveries_per_second(),
               result.cpu_us_per_delivery(), static_cast<unsigned long long>(result.lost),
               result.error.empty() ? "" : "  FAILED: ", result.error.c_str());
  if (!result.error.empty()) return out.errors.push_back(result.error);
  out.rate.push_back(result.deliveries_per_second());
  out.cpu_us.push_back(result.cpu_us_per_delivery());
  out.server_busy.push_back(result.seconds > 0 ? result.server_cpu_seconds / result.seconds : 0);
  out.generator_busy.push_back(result.seconds > 0 ? result.generator_cpu_seconds / result.seconds
                                                  : 0);
  out.lines_sent += result.lines_sent;
  out.lost += result.lost;
}

void handshake_round(const std::string& program, ServerKind kind, const Options& options,
                     HandshakeRounds& out) {
  ServerProcess server(program, kind);
  if (!server.ok()) return out.errors.push_back(server.error());
  const HandshakeResult result =
      run_handshakes(kind, server.port(), options.handshakes, options.handshake_concurrency);
  std::fprintf(stderr, "  handshakes %-15s %10.0f per second  failed %d%s%s\n", server_name(kind),
               result.per_second(), result.failed,
               result.error.empty() ? "" : "  FAILED: ", result.error.c_str());
  out.failed += result.failed;
  if (!result.error.empty()) return out.errors.push_back(result.error);
  out.rate.push_back(result.per_second());
}

IdleMeasure idle_measure(const std::string& program, ServerKind kind, const Options& options,
                         int room_size) {
  IdleMeasure out;
  ServerProcess server(program, kind);
  if (!server.ok()) {
    out.error = server.error();
    return out;
  }
  // Let the server finish starting (its threads, first allocations) before the empty reading.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  out.rss_empty_kib = server.rss_kib();
  const IdleResult result = run_idle(
      kind, server.port(), options.connections, static_cast<std::size_t>(room_size),
      options.json ? LobbyEncoding::json : LobbyEncoding::binary, 0.5, [&](IdleStage stage) {
        (stage == IdleStage::said_hello ? out.rss_hello_kib : out.rss_joined_kib) =
            server.rss_kib();
      });
  out.opened = result.opened;
  out.error = result.error;
  std::fprintf(
      stderr,
      "  idle       %-15s %d connections: RSS %llu -> %llu (Hello) -> %llu KiB (in rooms of "
      "%d)%s%s\n",
      server_name(kind), result.opened, static_cast<unsigned long long>(out.rss_empty_kib),
      static_cast<unsigned long long>(out.rss_hello_kib),
      static_cast<unsigned long long>(out.rss_joined_kib), room_size,
      result.error.empty() ? "" : "  FAILED: ", result.error.c_str());
  return out;
}

const char* verdict(bool met) {
  return met ? "met" : "NOT met";
}

int run(const std::string& program, const Options& options) {
  // One row per room size; per server (raw Beast, lobby, lobby over TLS) deliveries per second and
  // server CPU per delivery.
  CsvFile csv(options.csv, {"clients", "raw_deliveries_per_s", "lobby_deliveries_per_s",
                            "tls_deliveries_per_s", "raw_cpu_us", "lobby_cpu_us", "tls_cpu_us"});
  if (csv.failed()) return 1;
  const std::uint64_t fd_limit = raise_fd_limit();
  if (fd_limit < static_cast<std::uint64_t>(options.connections) * 2 + 64) {
    std::fprintf(stderr, "warning: the fd limit is %llu, too low for %d connections\n",
                 static_cast<unsigned long long>(fd_limit), options.connections);
  }

  // fanouts[c][i]: a room of options.clients[c] on server kKinds[i].
  std::vector<std::array<FanoutRounds, kKindCount>> fanouts(options.clients.size());
  HandshakeRounds handshakes[kKindCount];
  for (int round = 0; round < (options.idle_only ? 0 : options.rounds); ++round) {
    std::fprintf(stderr, "[round %d/%d]\n", round + 1, options.rounds);
    // The order turns by round, so that load from the rest of the machine falls on every server.
    for (std::size_t c = 0; c < options.clients.size(); ++c) {
      for (int k = 0; k < kKindCount; ++k) {
        const int i = (k + round) % kKindCount;
        fanout_round(program, kKinds[i], options.clients[c], options, fanouts[c][i]);
      }
    }
    for (int k = 0; k < kKindCount; ++k) {
      const int i = (k + round) % kKindCount;
      handshake_round(program, kKinds[i], options, handshakes[i]);
    }
  }
  // idle[i]: at the first room size; idle_by_size[s][i]: at room_sizes[s]. Raw Beast has no
  // rooms: it is measured once.
  std::vector<std::vector<IdleMeasure>> idle_by_size(options.room_sizes.size(),
                                                     std::vector<IdleMeasure>(kKindCount));
  for (std::size_t s = 0; s < options.room_sizes.size(); ++s) {
    for (int i = 0; i < kKindCount; ++i) {
      idle_by_size[s][i] = (s > 0 && i == kRaw)
                               ? idle_by_size[0][kRaw]
                               : idle_measure(program, kKinds[i], options, options.room_sizes[s]);
    }
  }
  const std::vector<IdleMeasure>& idle = idle_by_size[0];

  std::printf(
      "Tickwire lobby benchmark: the Tickwire LobbyServer over plaintext and over TLS (TLS 1.3,\n"
      "P-256 certificate) against a minimal raw Beast broadcast server, each in a child process\n"
      "of its own, driven by a native Beast client on 127.0.0.1.\n"
      "%d round(s); the order turns by round; medians reported.%s\n\n",
      options.rounds,
      options.quick       ? " QUICK smoke run: figures are not meaningful."
      : options.idle_only ? " Idle memory only (--idle-only)."
                          : "");

  const bool timed = !options.idle_only;  // fan-out and handshakes ran
  if (timed) {
    std::printf(
        "Chat fan-out: all clients in one room, every one sending with %d line(s) in flight;\n"
        "%.1f s counted per round. A delivery is one line received by one client. CPU columns:\n"
        "CPU time over wall time (100%% = one core; the machine has %u).\n",
        options.window, options.seconds, std::thread::hardware_concurrency());
    std::printf("  %-16s %7s %14s %16s %11s %14s %14s %8s\n", "server", "clients", "deliveries/s",
                "CPU us/delivery", "server CPU", "generator CPU", "lines sent", "lost");
    for (std::size_t c = 0; c < options.clients.size(); ++c) {
      const auto& f = fanouts[c];
      for (int i = 0; i < kKindCount; ++i) {
        std::printf("  %-16s %7d %14.0f %16.2f %10.0f%% %13.0f%% %14llu %8llu\n",
                    server_name(kKinds[i]), options.clients[c], median(f[i].rate),
                    median(f[i].cpu_us), 100 * median(f[i].server_busy),
                    100 * median(f[i].generator_busy),
                    static_cast<unsigned long long>(f[i].lines_sent),
                    static_cast<unsigned long long>(f[i].lost));
      }
      csv.row({static_cast<long long>(options.clients[c]), median(f[kRaw].rate),
               median(f[kLobby].rate), median(f[kLobbyTls].rate), median(f[kRaw].cpu_us),
               median(f[kLobby].cpu_us), median(f[kLobbyTls].cpu_us)});
    }

    std::printf(
        "\nHandshakes: %d connections per round, %d at once: TCP connect, WebSocket upgrade\n"
        "(and Hello -> Welcome on the lobby), WebSocket close.\n",
        options.handshakes, options.handshake_concurrency);
    std::printf("  %-16s %14s %8s\n", "server", "per second", "failed");
    for (int i = 0; i < kKindCount; ++i) {
      std::printf("  %-16s %14.0f %8d\n", server_name(kKinds[i]), median(handshakes[i].rate),
                  handshakes[i].failed);
    }
  }

  if (timed) std::printf("\n");
  std::printf(
      "Idle connections: server RSS with %d open idle connections minus RSS with none,\n"
      "divided by %d: after Hello, and after every lobby connection joined a room of the\n"
      "size given (raw Beast has no rooms: both columns are its upgraded connections).\n%s",
      options.connections, options.connections,
      options.json ? "Lobby clients speak JSON text frames, as the browser page does (--json).\n"
                   : "");
  std::printf("  %-16s %9s %12s %14s %15s %16s\n", "server", "room size", "RSS 0 KiB",
              "RSS rooms KiB", "KiB/conn Hello", "KiB/conn in room");
  for (std::size_t s = 0; s < options.room_sizes.size(); ++s) {
    for (int i = 0; i < kKindCount; ++i) {
      if (s > 0 && i == kRaw) continue;
      const IdleMeasure& m = idle_by_size[s][i];
      std::printf("  %-16s %9d %12llu %14llu %15.2f %16.2f\n", server_name(kKinds[i]),
                  options.room_sizes[s], static_cast<unsigned long long>(m.rss_empty_kib),
                  static_cast<unsigned long long>(m.rss_joined_kib),
                  m.hello_kib_per_connection(options.connections),
                  m.joined_kib_per_connection(options.connections));
    }
  }

  // Fan-out ratios and goals at a room of 100 when it was measured, else at the first room size.
  const std::size_t at = static_cast<std::size_t>(
      std::find(options.clients.begin(), options.clients.end(), kGoalClients) -
      options.clients.begin());
  const bool goal_room = at < options.clients.size();
  const auto& fanout = fanouts[goal_room ? at : 0];
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  const double fan_ratio = ratio(median(fanout[kLobby].rate), median(fanout[kRaw].rate));
  const double cpu_ratio = ratio(median(fanout[kLobby].cpu_us), median(fanout[kRaw].cpu_us));
  const double hs_ratio = ratio(median(handshakes[kLobby].rate), median(handshakes[kRaw].rate));
  const double lobby_cpu = median(fanout[kLobby].cpu_us);
  const double lobby_kib = idle[kLobby].joined_kib_per_connection(options.connections);
  const double tls_kib = idle[kLobbyTls].joined_kib_per_connection(options.connections);
  const double raw_kib = idle[kRaw].joined_kib_per_connection(options.connections);
  // Which fan-out room the ratios are from (none with --idle-only).
  const std::string room_note =
      timed ? " (fan-out: a room of " + std::to_string(options.clients[goal_room ? at : 0]) + ")"
            : "";
  std::printf("\nRatios, Tickwire lobby / raw Beast%s\n", room_note.c_str());
  if (timed) {
    std::printf("  fan-out deliveries/s       %6.2fx\n", fan_ratio);
    std::printf("  server CPU per delivery    %6.2fx\n", cpu_ratio);
    std::printf("  handshakes/s               %6.2fx\n", hs_ratio);
  }
  std::printf("  RSS per idle connection    %6.2fx\n", ratio(lobby_kib, raw_kib));
  std::printf("\nRatios, lobby over TLS / lobby over plaintext%s\n", room_note.c_str());
  if (timed) {
    std::printf("  fan-out deliveries/s       %6.2fx\n",
                ratio(median(fanout[kLobbyTls].rate), median(fanout[kLobby].rate)));
    std::printf("  server CPU per delivery    %6.2fx\n",
                ratio(median(fanout[kLobbyTls].cpu_us), median(fanout[kLobby].cpu_us)));
    std::printf("  handshakes/s               %6.2fx\n",
                ratio(median(handshakes[kLobbyTls].rate), median(handshakes[kLobby].rate)));
  }
  std::printf("  RSS per joined idle conn.  %6.2fx\n", ratio(tls_kib, lobby_kib));
  std::printf("\nGoals\n");
  if (timed && goal_room) {
    std::printf("  (fan-out goals read in a room of %d)\n", kGoalClients);
    std::printf("  fan-out >= 0.8x raw Beast             %6.2fx        %s\n", fan_ratio,
                verdict(fan_ratio >= 0.8));
    std::printf("  server CPU <= 2 us per delivery       %6.2f us      %s\n", lobby_cpu,
                verdict(lobby_cpu > 0 && lobby_cpu <= 2.0));
  } else if (timed) {
    std::printf("  fan-out goals: not judged, no room of %d was measured\n", kGoalClients);
  }
  const auto measured = [&](int i) {
    return idle[i].error.empty() && idle[i].opened == options.connections;
  };
  std::printf("  (idle goals read in rooms of %d)\n", options.room_sizes[0]);
  std::printf("  <= 8 KiB RSS per joined idle conn.    %6.2f KiB     %s\n", lobby_kib,
              verdict(measured(kLobby) && lobby_kib <= 8.0));
  std::printf("  <= 24 KiB with TLS                    %6.2f KiB     %s\n", tls_kib,
              verdict(measured(kLobbyTls) && tls_kib <= 24.0));

  // Exit status: whether everything could be measured and every line arrived; never how fast.
  std::size_t failures = 0;
  for (const auto& at_size : idle_by_size) {
    for (int i = 0; i < kKindCount; ++i) {
      if (at_size[i].error.empty()) continue;
      ++failures;
      std::printf("\nidle connections on %s failed: %s", server_name(kKinds[i]),
                  at_size[i].error.c_str());
    }
  }
  for (std::size_t c = 0; c < options.clients.size(); ++c) {
    for (int i = 0; i < kKindCount; ++i) {
      const FanoutRounds& f = fanouts[c][i];
      failures += f.errors.size() + (f.lost > 0 ? 1 : 0);
      for (const auto& error : f.errors)
        std::printf("\nfan-out on %s in a room of %d failed: %s", server_name(kKinds[i]),
                    options.clients[c], error.c_str());
      if (f.lost > 0)
        std::printf("\n%s lost %llu deliveries in a room of %d", server_name(kKinds[i]),
                    static_cast<unsigned long long>(f.lost), options.clients[c]);
    }
  }
  for (int i = 0; i < kKindCount; ++i) {
    failures += handshakes[i].errors.size();
    for (const auto& error : handshakes[i].errors)
      std::printf("\nhandshakes on %s failed: %s", server_name(kKinds[i]), error.c_str());
  }
  if (failures > 0) {
    std::printf("\n%zu problem(s); see above.\n", failures);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  using tickwire::bench::Options;
  CLI::App app{
      "Tickwire lobby, plaintext and TLS: chat fan-out, handshakes and memory against raw Beast"};
  Options options;
  std::string serve;
  app.add_option("--serve", serve,
                 "internal: run one server (raw | lobby | lobby-tls | lobby-redis) until stdin "
                 "closes")
      ->check(CLI::IsMember({"raw", "lobby", "lobby-tls", "lobby-redis"}));
  std::uint16_t redis_port = 0;
  app.add_option("--redis-port", redis_port,
                 "internal: the redis-server on 127.0.0.1 of a --serve lobby-redis node");
  bool cluster = false;
  app.add_flag("--cluster", cluster,
               "only the cluster case: fan-out in one room split across 2 lobby nodes on one "
               "redis-server (started here) against 1 node");
  tickwire::bench::ClusterOptions cluster_options;
  app.add_option("--probes", cluster_options.probes,
                 "cluster case: latency probe lines per round and setup")
      ->check(CLI::Range(1, 100000));
  app.add_option("--seconds", options.seconds, "fan-out time counted per round")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--rounds", options.rounds, "rounds of fan-out and handshakes")
      ->check(CLI::Range(1, 100));
  app.add_option("--clients", options.clients,
                 "clients in the fan-out room; several sizes measure one after the other")
      ->check(CLI::Range(1, 10000));
  app.add_option("--csv", options.csv, "also write the fan-out results to this CSV file");
  app.add_option("--window", options.window, "lines each client keeps in flight")
      ->check(CLI::Range(1, 1000));
  app.add_option("--connections", options.connections, "idle connections for the RSS reading")
      ->check(CLI::Range(1, 50000));
  app.add_option("--handshakes", options.handshakes, "connections opened per handshake round")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--handshake-concurrency", options.handshake_concurrency,
                 "handshakes in progress at once")
      ->check(CLI::Range(1, 512));
  app.add_option("--room-size", options.room_sizes,
                 "members per room in the idle reading; several sizes: one reading each (goals at "
                 "the first)")
      ->check(CLI::Range(1, 10000))
      ->delimiter(',');
  app.add_flag("--idle-only", options.idle_only, "only the idle memory readings");
  app.add_flag("--json", options.json,
               "the idle reading's lobby clients say Hello, create and join rooms in JSON text "
               "frames, as the browser page does (fan-out and handshakes stay binary)");
  app.add_flag("--quick", options.quick, "a short smoke run (ctest): 1 round, small counts");
  CLI11_PARSE(app, argc, argv);

  if (serve == "raw") return tickwire::bench::serve_raw_beast();
  if (serve == "lobby") return tickwire::bench::serve_tickwire_lobby(/*tls=*/false);
  if (serve == "lobby-tls") return tickwire::bench::serve_tickwire_lobby(/*tls=*/true);
  if (serve == "lobby-redis") {
    return tickwire::bench::serve_tickwire_lobby(/*tls=*/false, redis_port);
  }
  if (options.quick) {
    options.seconds = 0.5;
    options.rounds = 1;
    for (int& clients : options.clients)
      clients = std::min(clients, 20);
    options.connections = std::min(options.connections, 200);
    options.handshakes = std::min(options.handshakes, 200);
  }
  // The children are this same program: /proc/self/exe names it whatever the working directory.
  if (cluster) {
    cluster_options.seconds = options.seconds;
    cluster_options.rounds = options.rounds;
    cluster_options.window = options.window;
    cluster_options.clients = options.clients.front();
    cluster_options.quick = options.quick;
    if (options.quick) cluster_options.probes = std::min(cluster_options.probes, 20);
    tickwire::bench::raise_fd_limit();
    return tickwire::bench::run_cluster("/proc/self/exe", cluster_options);
  }
  return tickwire::bench::run("/proc/self/exe", options);
}
