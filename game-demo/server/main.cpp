// tickwire-server: the Arena dedicated server. By default one process runs the lobby (WebSocket +
// HTTP, the web page) and the game server (ENet), announces itself on the LAN, and serves until
// Ctrl-C. `--role lobby` and `--role game` split them over two processes (or machines) that share
// the ticket key through `--key-file`: the game server registers with the lobby over the wire
// (`--lobby`, `--secret`), or the lobby names it (`--game-server`).

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <tickwire/net/lan_discovery.hpp>
#include <tickwire/net/lobby.hpp>
#include <tickwire/net/udp_link_simulator.hpp>

#include "arena_server.hpp"
#include "host_port.hpp"
#include "key_file.hpp"
#include "lobby_link.hpp"

namespace {

namespace net = tickwire::net;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

struct Options {
  std::string role = "all";
  std::string bind = "0.0.0.0";
  std::string public_host;  // empty: derived from bind
  std::uint16_t lobby_port = 7700;
  std::uint16_t game_port = 7777;
  std::string game_server;  // --role lobby: where matches go (when no server registers)
  std::string lobby;        // --role game: the lobby to register with, host:port
  std::string secret;       // the lobby's game-server secret (both roles)
  double tick_rate = 60;
  double snapshot_rate = 30;
  std::size_t max_players = 64;
  std::size_t max_per_address = 256;  // the game server's (bots share one address)
  // The lobby's: per address well below the total, so that one address cannot lock others out.
  std::size_t lobby_max_connections = 1024;
  std::size_t lobby_max_per_address = 32;
  std::size_t chat_burst = 5;
  double chat_lines_per_second = 2.0;
  std::size_t request_burst = 40;
  double requests_per_second = 20.0;
  double match_seconds = 180;
  int drones = 30;
  std::string key_file;
  std::string web_root = TICKWIRE_DEMO_WEB_ROOT;
  bool beacon = true;
  std::string beacon_address = "255.255.255.255";
  std::uint16_t discovery_port = 7779;
  std::string name = "Tickwire Arena";
  double latency_ms = 0, jitter_ms = 0, loss_percent = 0, duplicate_percent = 0;
  std::uint64_t seed = 1;
  double duration_s = 0;
  double status_interval_s = 1;
};

// The address players on the LAN reach this machine at: the first IPv4 address of an interface
// that is up and not loopback, or loopback when there is none.
std::string lan_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found = "127.0.0.1";
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* address = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    inet_ntop(AF_INET, &address->sin_addr, text, sizeof(text));
    if (std::string(text).rfind("127.", 0) == 0) continue;
    found = text;
    break;
  }
  freeifaddrs(list);
  return found;
}

std::string public_host(const Options& options) {
  if (!options.public_host.empty()) return options.public_host;
  if (options.bind == "0.0.0.0") return lan_address();
  return options.bind;
}

net::Result<net::JoinTicketIssuer> ticket_key(const Options& options) {
  if (options.key_file.empty()) {
    if (options.role != "all") {
      return net::Status::error("--role " + options.role +
                                " needs --key-file (the lobby and the game server share it)");
    }
    return net::JoinTicketIssuer::generate();
  }
  return arena::load_or_create_key(options.key_file);
}

int run(const Options& options) {
  const bool run_lobby = options.role != "game";
  const bool run_game = options.role != "lobby";
  auto key = ticket_key(options);
  if (!key) {
    std::fprintf(stderr, "tickwire-server: %s\n", key.error().c_str());
    return 1;
  }
  const std::string host = public_host(options);
  const std::string game_address = host + ":" + std::to_string(options.game_port);

  std::unique_ptr<net::LobbyServer> lobby;
  if (run_lobby) {
    net::LobbyConfig config;
    config.websocket.bind_address = options.bind;
    config.websocket.port = options.lobby_port;
    config.websocket.max_connections = options.lobby_max_connections;
    config.websocket.max_connections_per_address = options.lobby_max_per_address;
    config.websocket.max_pending_handshakes =
        std::max<std::size_t>(64, 2 * options.lobby_max_per_address);
    config.websocket.connection_burst_per_address =
        std::max(config.websocket.connection_burst_per_address, 2 * options.lobby_max_per_address);
    // Every connection from an address may hold a nickname, and as many again may wait for their
    // players to come back.
    config.max_nicknames_per_address =
        std::max(config.max_nicknames_per_address, 2 * options.lobby_max_per_address);
    config.chat_burst = options.chat_burst;
    config.chat_lines_per_second = options.chat_lines_per_second;
    config.request_burst = options.request_burst;
    config.requests_per_second = options.requests_per_second;
    config.max_players_per_room = options.max_players;
    // A full room's reply to JoinRoom must fit in one message (validate() checks): about 100
    // bytes a member as JSON, with room to spare.
    config.websocket.common.max_message_size = std::max<std::size_t>(
        config.websocket.common.max_message_size, 8 * 1024 + 128 * options.max_players);
    // The page is served by the lobby itself: browsers send its address as their Origin.
    const std::string port = std::to_string(options.lobby_port);
    config.websocket.allowed_origins = {"http://" + host + ":" + port, "http://127.0.0.1:" + port,
                                        "http://localhost:" + port};
    config.web_root = options.web_root;
    config.local_game_server = options.role == "lobby" ? options.game_server : game_address;
    config.game_server_secret = options.secret;
    lobby = std::make_unique<net::LobbyServer>(config, key.value());
    if (const net::Status status = lobby->start(); !status.ok()) {
      std::fprintf(stderr, "tickwire-server: lobby: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("lobby on %s:%u (page: http://%s:%u/), matches go to %s\n", options.bind.c_str(),
                static_cast<unsigned>(lobby->port()), host.c_str(),
                static_cast<unsigned>(lobby->port()),
                config.local_game_server.empty() ? "game servers that register"
                                                 : config.local_game_server.c_str());
  }

  std::unique_ptr<arena::ArenaServer> game;
  std::unique_ptr<arena::LobbyLink> link_to_lobby;
  std::unique_ptr<net::UdpLinkSimulator> link;
  std::unique_ptr<net::LanBeacon> beacon;
  if (run_game) {
    const bool simulate = options.latency_ms > 0 || options.jitter_ms > 0 ||
                          options.loss_percent > 0 || options.duplicate_percent > 0;
    arena::ServerConfig config;
    config.lobby_key = key.value().public_key();
    config.public_address = game_address;
    config.tick_rate_hz = options.tick_rate;
    config.snapshot_rate_hz = options.snapshot_rate;
    config.match_seconds = options.match_seconds;
    config.drones = options.drones;
    config.seed = options.seed;
    if (lobby) {
      // Same process: the room goes back to the lobby when its match ends.
      config.on_match_over = [&lobby](std::uint64_t match) { lobby->end_match(match); };
    } else if (const auto remote = arena::parse_host_port(options.lobby)) {
      link_to_lobby = std::make_unique<arena::LobbyLink>(
          remote->host, remote->port, game_address, static_cast<std::uint32_t>(options.max_players),
          options.secret);
      config.on_match_over = [&link_to_lobby](std::uint64_t match) {
        link_to_lobby->match_over(match);
      };
    }
    // With simulated conditions, players reach the game port through the link simulator and
    // the game server itself listens on a private loopback port behind it.
    config.enet.bind_address = simulate ? "127.0.0.1" : options.bind;
    config.enet.port = simulate ? 0 : options.game_port;
    config.enet.max_peers = options.max_players;
    config.enet.max_peers_per_address = options.max_per_address;
    config.enet.connect_burst_per_address =
        static_cast<std::uint32_t>(std::max<std::size_t>(16, options.max_per_address));
    config.enet.connect_rate_per_address = static_cast<double>(options.max_per_address);
    config.enet.max_pending_handshakes = std::max<std::size_t>(32, options.max_per_address);
    auto started = arena::ArenaServer::start(config);
    if (!started) {
      std::fprintf(stderr, "tickwire-server: game server: %s\n", started.error().c_str());
      return 1;
    }
    game = std::move(started.value());
    if (simulate) {
      net::UdpLinkSimulatorConfig link_config;
      link_config.listen_address = options.bind;
      link_config.listen_port = options.game_port;
      link_config.target_address = "127.0.0.1";
      link_config.target_port = game->port();
      link_config.max_clients = static_cast<std::uint32_t>(options.max_players * 2);
      const net::LinkConditions conditions{.latency_ms = options.latency_ms / 2,
                                           .jitter_ms = options.jitter_ms / 2,
                                           .loss = options.loss_percent / 100,
                                           .duplicate = options.duplicate_percent / 100};
      link_config.conditions = net::NetworkConditions::symmetric(conditions, options.seed);
      auto started_link = net::UdpLinkSimulator::start(link_config);
      if (!started_link) {
        std::fprintf(stderr, "tickwire-server: network conditions: %s\n",
                     started_link.error().c_str());
        return 1;
      }
      link = std::move(started_link.value());
      std::printf("simulating %.0f ms round trip (+-%.0f), %.1f %% loss each way\n",
                  options.latency_ms, options.jitter_ms, options.loss_percent);
    }
    std::printf("game server on %s:%u, tickets name %s, %.0f Hz ticks, %.0f Hz snapshots\n",
                options.bind.c_str(), static_cast<unsigned>(options.game_port),
                game_address.c_str(), options.tick_rate, options.snapshot_rate);
    if (options.beacon) {
      net::LanBeaconConfig beacon_config;
      beacon_config.broadcast_address = options.beacon_address;
      beacon_config.discovery_port = options.discovery_port;
      auto started_beacon = net::LanBeacon::start(beacon_config);
      if (!started_beacon) {
        std::fprintf(stderr, "tickwire-server: LAN beacon: %s\n", started_beacon.error().c_str());
        return 1;
      }
      beacon = std::move(started_beacon.value());
      std::printf("LAN beacon to %s:%u\n", options.beacon_address.c_str(),
                  static_cast<unsigned>(options.discovery_port));
    }
  }
  std::fflush(stdout);

  const auto start = Clock::now();
  auto next_status = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options.status_interval_s));
  std::uint64_t bytes_at_status = 0;  // game server wire bytes sent at the last status line
  auto status_window_start = start;
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
    if (link_to_lobby) link_to_lobby->poll(static_cast<std::uint32_t>(game->stats().players));
    if (beacon) {
      beacon->announce({.name = options.name,
                        .players = static_cast<std::uint16_t>(game->stats().players),
                        .max_players = static_cast<std::uint16_t>(options.max_players),
                        .game_port = options.game_port,
                        .lobby_port = run_lobby ? options.lobby_port : std::uint16_t{0}});
      beacon->poll();
    }
    if (options.status_interval_s > 0 && Clock::now() >= next_status) {
      next_status += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(options.status_interval_s));
      std::string line = "status:";
      if (game) {
        const auto [median, p99] = game->take_tick_percentiles();
        const arena::ServerStats& stats = game->stats();
        const double seconds =
            std::chrono::duration<double>(Clock::now() - status_window_start).count();
        const std::uint64_t wire_bytes = game->counters().wire_bytes_sent;
        const double kbps = static_cast<double>(wire_bytes - bytes_at_status) * 8 / 1000 / seconds;
        bytes_at_status = wire_bytes;
        status_window_start = Clock::now();
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
      if (lobby) {
        const net::LobbyCounters counters = lobby->counters();
        line += " | lobby " + std::to_string(counters.connections) + " connections, " +
                std::to_string(counters.rooms) + " rooms";
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  if (game) {
    const arena::ServerStats& stats = game->stats();
    const net::TransportCounters counters = game->counters();
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
  game.reset();
  if (lobby) lobby->stop();
  std::printf("clean exit\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Tickwire Arena dedicated server: the lobby and the game server, on the LAN."};
  app.add_option("--role", options.role, "all: lobby and game server; lobby; game")
      ->check(CLI::IsMember({"all", "lobby", "game"}))
      ->capture_default_str();
  app.add_option("--bind", options.bind, "IPv4 address to listen on (127.0.0.1: this machine only)")
      ->capture_default_str();
  app.add_option("--public-host", options.public_host,
                 "host players connect to, named in join tickets (default: this machine's LAN "
                 "address, or --bind when it is not 0.0.0.0)");
  app.add_option("--lobby-port", options.lobby_port, "lobby, HTTP and web page (TCP)")
      ->capture_default_str();
  app.add_option("--game-port", options.game_port, "game server (UDP)")->capture_default_str();
  app.add_option("--game-server", options.game_server,
                 "--role lobby: the game server matches go to when none has registered, "
                 "host:port");
  app.add_option("--lobby", options.lobby,
                 "--role game: the lobby to register with, host:port (needs --secret)");
  app.add_option("--secret", options.secret,
                 "game servers' registration secret: the lobby accepts it, a game server "
                 "presents it");
  app.add_option("--tick-rate", options.tick_rate, "simulation ticks per second")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  app.add_option("--snapshot-rate", options.snapshot_rate, "snapshots per second to each player")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  app.add_option("--max-players", options.max_players, "players on the game server at most")
      ->check(CLI::Range(1, 4000))
      ->capture_default_str();
  app.add_option("--max-per-address", options.max_per_address,
                 "game server connections from one IP address at most (bots share one)")
      ->check(CLI::Range(1, 20000))
      ->capture_default_str();
  app.add_option("--lobby-max-connections", options.lobby_max_connections,
                 "lobby WebSocket connections at most")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--lobby-max-per-address", options.lobby_max_per_address,
                 "lobby connections from one IP address at most (raise it for many bots on one "
                 "machine; keep it well below --lobby-max-connections on the internet)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--chat-burst", options.chat_burst, "chat lines a player may send at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--chat-rate", options.chat_lines_per_second,
                 "chat lines per second a player may keep sending")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--request-burst", options.request_burst,
                 "other lobby requests a connection may send at once")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--request-rate", options.requests_per_second,
                 "other lobby requests per second a connection may keep sending")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--match-seconds", options.match_seconds, "length of a match")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--drones", options.drones, "wandering drones per match")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--key-file", options.key_file,
                 "ticket signing key, shared by a separate lobby and game server (created when "
                 "missing)");
  app.add_option("--web-root", options.web_root, "directory of the web lobby page")
      ->capture_default_str();
  app.add_flag("--beacon,!--no-beacon", options.beacon, "announce the server on the LAN")
      ->capture_default_str();
  app.add_option("--beacon-address", options.beacon_address, "where LAN beacons are sent")
      ->capture_default_str();
  app.add_option("--discovery-port", options.discovery_port, "UDP port of LAN beacons")
      ->capture_default_str();
  app.add_option("--name", options.name, "server name in LAN beacons")->capture_default_str();
  app.add_option("--latency", options.latency_ms, "simulated round-trip latency, ms")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--jitter", options.jitter_ms, "simulated round-trip jitter, ms")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--loss", options.loss_percent, "simulated loss each way, percent")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--duplicate", options.duplicate_percent,
                 "simulated duplication each way, percent")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--seed", options.seed, "seed of drones and simulated conditions")
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "stop after this many seconds (0: Ctrl-C)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--status-interval", options.status_interval_s,
                 "seconds between status lines (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.jitter_ms > options.latency_ms) {
    std::fprintf(stderr, "tickwire-server: --jitter must not exceed --latency\n");
    return 1;
  }
  if (options.role == "lobby" && options.game_server.empty() && options.secret.empty()) {
    std::fprintf(stderr,
                 "tickwire-server: --role lobby needs --game-server host:port, or --secret for "
                 "game servers to register with\n");
    return 1;
  }
  if (!options.lobby.empty()) {
    if (options.role != "game" || options.secret.empty() ||
        !arena::parse_host_port(options.lobby)) {
      std::fprintf(stderr,
                   "tickwire-server: --lobby host:port is for --role game, with --secret\n");
      return 1;
    }
  }
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  return run(options);
}
