// tickwire-server: the Arena dedicated server. By default one process runs the lobby (WebSocket +
// HTTP, the web page) and the game server (ENet, and WebSocket for players whose UDP gets no
// answer), serves /metrics, announces itself on the LAN, and serves until Ctrl-C. `--role lobby`
// and `--role game` split them over two processes (or machines) that share the ticket key
// through `--key-file`: the game server registers with the lobby over the wire
// (`--lobby`; it signs the lobby's challenge with its identity key, which the lobby's
// `--game-server-keys` file lists), or the lobby names it (`--game-server`,
// `--game-server-seal-key`).
//
// Game sessions are encrypted with keys from each ticket, sealed to the game server's own key
// pair (`--seal-key-file`, or a fresh pair each start). `--insecure-plaintext` turns that off for
// development and LAN tests, and the server says so loudly.
//
// `--agones` runs the game server under Agones: it tells the SDK sidecar Ready once it listens,
// pings Health, marks itself Allocated when a match starts here, and once a match has ended and
// none is left it reports to the lobby, tells the sidecar Shutdown and exits (Agones starts a
// fresh server in its place). The sidecar being away or failing never stops a match.
//
// This file is the order of things: the keys (server_keys.cpp), where players reach the server
// (public_endpoints.cpp), the lobby (lobby_role.cpp), the game server and what runs beside it
// (game_role.cpp), then the serving loop until a signal, and the shutdown.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <tickwire/net/lobby.hpp>

#include "agones_lifecycle.hpp"
#include "game_role.hpp"
#include "lobby_role.hpp"
#include "public_endpoints.hpp"
#include "server_keys.hpp"
#include "server_options.hpp"

namespace {

namespace net = tickwire::net;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

// Ctrl-C and SIGTERM end the serving loop; the server then shuts down cleanly.
void stop_on_signals() {
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
}

Clock::duration clock_seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

// The periodic "status:" line: the game server's load since the previous line, and the lobby's.
class StatusLine {
 public:
  explicit StatusLine(Clock::time_point start) : window_start_(start) {}

  void print(arena::ArenaServer* game, net::LobbyServer* lobby) {
    std::string line = "status:";
    if (game != nullptr) {
      const auto [median, p99] = game->take_tick_percentiles();
      const arena::ServerStats& stats = game->stats();
      const double seconds = std::chrono::duration<double>(Clock::now() - window_start_).count();
      const std::uint64_t wire_bytes = game->counters().wire_bytes_sent;
      const double kbps =
          static_cast<double>(wire_bytes - bytes_at_last_line_) * 8 / 1000 / seconds;
      bytes_at_last_line_ = wire_bytes;
      window_start_ = Clock::now();
      char text[256];
      std::snprintf(text, sizeof(text),
                    " players %zu | matches %zu (%llu finished) | tick %.3f ms median, %.3f ms "
                    "p99 | out %.0f kbit/s on the wire (%.1f per player)",
                    stats.players, stats.matches,
                    static_cast<unsigned long long>(stats.matches_finished), median / 1000,
                    p99 / 1000, kbps,
                    stats.players > 0 ? kbps / static_cast<double>(stats.players) : 0.0);
      line += text;
    }
    if (lobby != nullptr) {
      const net::LobbyCounters counters = lobby->counters();
      line += " | lobby " + std::to_string(counters.connections) + " connections, " +
              std::to_string(counters.rooms) + " rooms";
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  Clock::time_point window_start_;
  std::uint64_t bytes_at_last_line_ = 0;  // game server wire bytes sent at the last line
};

// Turns the game server (or, in a lobby-only process, just waits) until Ctrl-C, --duration, or
// under Agones the end of the match; keeps the lobby link, the beacon and /metrics fed.
void serve(const arena::ServerOptions& options, net::LobbyServer* lobby, arena::GameRole& role,
           net::AgonesSdk* agones) {
  arena::ArenaServer* game = role.game.get();
  const auto start = Clock::now();
  auto next_status = start + clock_seconds(options.status_interval_s);
  StatusLine status(start);
  while (!g_stop.load()) {
    const auto now = Clock::now();
    if (options.duration_s > 0 &&
        now - start >= std::chrono::duration<double>(options.duration_s)) {
      break;
    }
    if (game) {
      game->run_for(std::chrono::milliseconds(50));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (role.metrics) role.metrics->publish(*game);
    if (agones && game->stats().matches_finished > 0 && game->stats().matches == 0) {
      std::printf("agones: the match is over\n");
      break;
    }
    if (role.link_to_lobby) {
      role.link_to_lobby->poll(static_cast<std::uint32_t>(game->stats().players));
    }
    if (role.replay_uploads) role.replay_uploads->poll();
    if (role.beacon) {
      role.beacon->announce(
          {.name = options.name,
           .players = static_cast<std::uint16_t>(game->stats().players),
           .max_players = static_cast<std::uint16_t>(options.max_players),
           .game_port = options.game_port,
           .lobby_port = lobby != nullptr ? options.lobby_port : std::uint16_t{0}});
      role.beacon->poll();
    }
    if (options.status_interval_s > 0 && Clock::now() >= next_status) {
      next_status += clock_seconds(options.status_interval_s);
      status.print(game, lobby);
    }
  }
}

void print_game_server_totals(const arena::ArenaServer& game) {
  const arena::ServerStats& stats = game.stats();
  const net::TransportCounters counters = game.counters();
  std::printf(
      "game server: %llu matches finished, %llu ticks, inputs %llu applied / %llu missing / "
      "%llu rejected, tickets rejected %llu, malformed datagrams %llu\n",
      static_cast<unsigned long long>(stats.matches_finished),
      static_cast<unsigned long long>(stats.ticks),
      static_cast<unsigned long long>(stats.inputs_applied),
      static_cast<unsigned long long>(stats.inputs_missing),
      static_cast<unsigned long long>(stats.inputs_rejected),
      static_cast<unsigned long long>(counters.rejected_tickets),
      static_cast<unsigned long long>(counters.dropped_malformed));
}

// The replays still to go to the lobby get a few seconds before the process exits (under Agones
// its disk goes with it); those that do not make it are sent at the next start.
void send_last_replays(arena::ReplayUploader& uploads) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!uploads.idle() && Clock::now() < deadline) {
    uploads.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const arena::ReplayUploadStats& stats = uploads.stats();
  std::printf("replays sent to the lobby: %llu stored, %llu refused, %llu retries%s\n",
              static_cast<unsigned long long>(stats.uploaded),
              static_cast<unsigned long long>(stats.refused),
              static_cast<unsigned long long>(stats.retries),
              uploads.idle() ? "" : " (some left in the replay folder for the next start)");
}

// After serving: Agones' goodbye, the game server's totals, then everything stopped in the order
// that keeps each piece's readers alive.
void shut_down(net::LobbyServer* lobby, arena::GameRole& role, net::AgonesSdk* agones) {
  if (agones) say_goodbye_to_agones(*agones, *role.game, role.link_to_lobby.get());
  if (role.game) print_game_server_totals(*role.game);
  role.metrics.reset();  // it reads the game server's figures
  role.game.reset();     // matches still running end their replays here
  if (role.replay_uploads) send_last_replays(*role.replay_uploads);
  if (lobby) lobby->stop();
  std::printf("clean exit\n");
}

int fail(const std::string& message) {
  std::fprintf(stderr, "tickwire-server: %s\n", message.c_str());
  return 1;
}

int run(const arena::ServerOptions& options) {
  auto keys = arena::load_server_keys(options);
  if (!keys) return fail(keys.error());
  std::unique_ptr<net::AgonesSdk> agones;  // before the game server: its match callbacks use it
  if (options.agones) {
    auto started_sdk = arena::start_agones(options);
    if (!started_sdk) return fail("--agones: " + started_sdk.error());
    agones = std::move(started_sdk.value());
  }
  arena::PublicEndpoints endpoints = arena::public_endpoints(options);
  if (agones && options.public_host.empty()) {
    endpoints = arena::endpoints_from_agones(*agones, endpoints);
  }

  std::unique_ptr<net::LobbyServer> lobby;  // before the game server: its match callbacks use it
  if (options.role != "game") {
    auto started = arena::start_lobby(options, keys.value(), endpoints.host,
                                      arena::game_server_addresses(options, endpoints));
    if (!started) return fail(started.error());
    lobby = std::move(started.value());
  }
  arena::GameRole role;
  if (options.role != "lobby") {
    auto started =
        arena::start_game_role(options, keys.value(), endpoints, lobby.get(), agones.get());
    if (!started) return fail(started.error());
    role = std::move(started.value());
  }
  if (agones) {
    // Everything listens now: players may come.
    agones->ready();
    std::printf(
        "agones: Ready requested from the SDK sidecar; this server exits once its match "
        "is over\n");
  }
  std::fflush(stdout);

  serve(options, lobby.get(), role, agones.get());
  shut_down(lobby.get(), role, agones.get());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  arena::ServerOptions options;
  if (const std::optional<int> exit_code = arena::parse_server_options(argc, argv, options)) {
    return *exit_code;
  }
  stop_on_signals();
  return run(options);
}
