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

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <tickwire/net/lan_discovery.hpp>
#include <tickwire/net/lobby.hpp>
#include <tickwire/net/redis_lobby_state.hpp>
#include <tickwire/net/udp_link_simulator.hpp>

#include "agones_lifecycle.hpp"
#include "arena_server.hpp"
#include "game_metrics.hpp"
#include "host_port.hpp"
#include "key_file.hpp"
#include "lobby_link.hpp"
#include "match_recorder.hpp"
#include "server_options.hpp"

namespace {

namespace net = tickwire::net;
using arena::PublicEndpoints;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

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

std::string public_host(const arena::ServerOptions& options) {
  if (!options.public_host.empty()) return options.public_host;
  if (options.bind == "0.0.0.0") return lan_address();
  return options.bind;
}

net::Result<net::JoinTicketIssuer> ticket_key(const arena::ServerOptions& options) {
  if (options.key_file.empty()) {
    if (options.role != "all") {
      return net::Status::error("--role " + options.role +
                                " needs --key-file (the lobby and the game server share it)");
    }
    return net::JoinTicketIssuer::generate();
  }
  return arena::load_or_create_key(options.key_file);
}

// The game server's sealing key pair: from --seal-key-file (created when missing), else fresh.
net::Result<net::GameServerSealKeys> seal_keys(const arena::ServerOptions& options) {
  if (options.seal_key_file.empty()) return net::GameServerSealKeys::generate();
  return arena::load_or_create_seal_keys(options.seal_key_file);
}

// What the risk is, Tickwire's log says when the server starts (a warning from "enet" or
// "websocket"); these lines say which flags change it.
void warn_plaintext() {
  std::fprintf(stderr,
               "WARNING: --insecure-plaintext: game sessions are neither encrypted nor "
               "authenticated; use it for development and LAN tests only.\n");
}

void warn_plaintext_lobby() {
  std::fprintf(stderr,
               "WARNING: the lobby serves plaintext http:// and ws:// (no --tls-cert-file); on "
               "any network you do not trust give --tls-cert-file and --tls-key-file.\n");
}

// The key that signs LAN beacons and registrations with a lobby: the same one across restarts,
// because clients pin it and lobbies list it.
net::Result<net::ServerIdentity> identity_key(const arena::ServerOptions& options) {
  std::string path = options.identity_key_file;
  if (path.empty()) {
    auto in_config = arena::config_file_path("server-identity.key");
    if (!in_config) return net::Status::error(in_config.error() + " (--identity-key-file)");
    path = in_config.value();
  }
  return arena::load_or_create_identity(path);
}

PublicEndpoints public_endpoints(const arena::ServerOptions& options) {
  return {public_host(options), options.game_port,
          options.game_websocket_port != 0 ? options.game_websocket_port : options.game_port};
}

// The lobby's state: in this process, or on the Redis server of --redis HOST:PORT.
net::Result<std::shared_ptr<net::LobbyState>> lobby_state(const arena::ServerOptions& options) {
  if (options.redis.empty()) return net::make_in_memory_lobby_state();
  const auto address = arena::parse_host_port(options.redis);
  if (!address) {
    return net::Status::error("'" + options.redis + "' is not HOST:PORT (e.g. 127.0.0.1:6379)");
  }
  net::RedisLobbyStateConfig config;
  config.host = address->host;
  config.port = address->port;
  if (!options.redis_password_file.empty()) {
    std::ifstream file(options.redis_password_file);
    if (!file || !std::getline(file, config.password) || config.password.empty()) {
      return net::Status::error("--redis-password-file " + options.redis_password_file +
                                ": cannot read a password from its first line");
    }
  } else if (const char* password = std::getenv("TICKWIRE_REDIS_PASSWORD")) {
    config.password = password;
  }
  auto state = net::make_redis_lobby_state(config);
  if (!state) return net::Status::error(state.error());
  std::printf("lobby state on redis %s (shared with every lobby there)\n", options.redis.c_str());
  return std::move(state.value());
}

int run(const arena::ServerOptions& options) {
  const bool run_lobby = options.role != "game";
  const bool run_game = options.role != "lobby";
  auto key = ticket_key(options);
  if (!key) {
    std::fprintf(stderr, "tickwire-server: %s\n", key.error().c_str());
    return 1;
  }
  if (options.insecure_plaintext) warn_plaintext();
  // The game server's key pair (this process runs one and encrypts), or the public key of the one
  // a lobby-only process names.
  std::optional<net::GameServerSealKeys> seal;
  std::optional<net::ServerSealPublicKey> seal_public_key;
  if (run_game && !options.insecure_plaintext) {
    auto loaded = seal_keys(options);
    if (!loaded) {
      std::fprintf(stderr, "tickwire-server: %s\n", loaded.error().c_str());
      return 1;
    }
    seal = loaded.value();
    seal_public_key = seal->public_key;
  } else if (!options.game_server_seal_key.empty()) {
    seal_public_key = arena::parse_seal_public_key(options.game_server_seal_key);
  }
  std::unique_ptr<net::AgonesSdk> agones;  // before `game`: its match callbacks use it
  if (options.agones) {
    auto started_sdk = start_agones(options);
    if (!started_sdk) {
      std::fprintf(stderr, "tickwire-server: --agones: %s\n", started_sdk.error().c_str());
      return 1;
    }
    agones = std::move(started_sdk.value());
  }
  PublicEndpoints endpoints = public_endpoints(options);
  if (agones && options.public_host.empty()) endpoints = endpoints_from_agones(*agones, endpoints);
  const std::string& host = endpoints.host;
  const std::string game_address = host + ":" + std::to_string(endpoints.game_port);
  // The port gameplay over WebSocket listens on (players may reach it at another: endpoints).
  const std::uint16_t game_websocket_port =
      options.game_websocket_port != 0 ? options.game_websocket_port : options.game_port;
  // Only a game server in this process (or a lobby told so) names a WebSocket endpoint.
  const std::string game_websocket_address =
      options.game_websocket ? host + ":" + std::to_string(endpoints.game_websocket_port) : "";

  std::unique_ptr<net::LobbyServer> lobby;
  if (run_lobby) {
    net::LobbyConfig config;
    config.websocket.bind_address = options.bind;
    config.websocket.port = options.lobby_port;
    const bool lobby_tls = !options.tls_cert_file.empty();
    if (lobby_tls) {
      config.websocket.tls.certificate_chain_file = options.tls_cert_file;
      config.websocket.tls.private_key_file = options.tls_key_file;
    } else {
      config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
      warn_plaintext_lobby();
    }
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
    const std::string scheme = lobby_tls ? "https://" : "http://";
    config.websocket.allowed_origins = {scheme + host + ":" + port, scheme + "127.0.0.1:" + port,
                                        scheme + "localhost:" + port};
    config.web_root = options.web_root;
    // The lobby's HTTP serves the recorded matches (GET /api/replays, /replays/NAME).
    if (options.replays) config.replay_directory = options.replay_dir;
    if (!options.upload_tokens_file.empty()) {
      auto tokens = net::read_upload_tokens(options.upload_tokens_file);
      if (!tokens) {
        std::fprintf(stderr, "tickwire-server: --upload-tokens: %s\n", tokens.error().c_str());
        return 1;
      }
      config.upload_tokens = std::move(tokens.value());
      std::printf("replays may be uploaded with %zu token(s)%s\n", config.upload_tokens.size(),
                  lobby_tls ? "" : " (over plaintext HTTP: anyone on the path can read them)");
    }
    config.local_game_server = options.role == "lobby" ? options.game_server : game_address;
    config.local_game_server_websocket =
        options.role == "lobby" ? options.game_server_websocket : game_websocket_address;
    config.local_game_server_seal_key = seal_public_key;
    config.resume_grace_ms = options.resume_grace_ms;
    config.nickname_lease_ms = options.nickname_lease_ms;
    if (!options.game_server_keys_file.empty()) {
      auto keys = net::read_game_server_keys(options.game_server_keys_file);
      if (!keys) {
        std::fprintf(stderr, "tickwire-server: --game-server-keys: %s\n", keys.error().c_str());
        return 1;
      }
      config.game_server_keys = std::move(keys.value());
      config.allow_any_registered_address = options.allow_any_registered_address;
      config.max_game_server_capacity = options.max_game_server_capacity;
      config.game_server_lease_ms = options.game_server_lease_ms;
      std::printf("game servers may register with %zu allowed key(s)%s\n",
                  config.game_server_keys.size(),
                  config.allow_any_registered_address ? ", at any address" : "");
    }
    auto state = lobby_state(options);
    if (!state) {
      std::fprintf(stderr, "tickwire-server: --redis: %s\n", state.error().c_str());
      return 1;
    }
    lobby = std::make_unique<net::LobbyServer>(config, key.value(), std::move(state.value()));
    if (const net::Status status = lobby->start(); !status.ok()) {
      std::fprintf(stderr, "tickwire-server: lobby: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("lobby on %s:%u (page: %s%s:%u/), matches go to %s\n", options.bind.c_str(),
                static_cast<unsigned>(lobby->port()), scheme.c_str(), host.c_str(),
                static_cast<unsigned>(lobby->port()),
                config.local_game_server.empty() ? "game servers that register"
                                                 : config.local_game_server.c_str());
  }

  std::unique_ptr<arena::ArenaServer> game;
  std::unique_ptr<arena::LobbyLink> link_to_lobby;
  std::unique_ptr<net::UdpLinkSimulator> link;
  std::unique_ptr<net::LanBeacon> beacon;
  std::unique_ptr<arena::GameMetrics> metrics;
  if (run_game) {
    const bool simulate = options.latency_ms > 0 || options.jitter_ms > 0 ||
                          options.loss_percent > 0 || options.duplicate_percent > 0;
    arena::ServerConfig config;
    config.lobby_key = key.value().public_key();
    if (seal) {
      config.seal_keys = *seal;
      config.enet.security = net::SessionSecurity::encrypted;
    } else {
      config.enet.security = net::SessionSecurity::plaintext_for_development;
    }
    config.public_address = game_address;
    config.tick_rate_hz = options.tick_rate;
    config.snapshot_rate_hz = options.snapshot_rate;
    config.match_seconds = options.match_seconds;
    config.reconnect_grace_ms = static_cast<std::uint32_t>(options.reconnect_grace_s * 1000);
    config.drones = options.drones;
    config.max_spectators_per_match = static_cast<std::uint32_t>(options.max_spectators);
    config.spectator_delay_ms =
        static_cast<std::uint32_t>(std::lround(options.spectator_delay_s * 1000));
    config.view_radius_m = options.view_radius_m;
    config.seed = options.seed;
    if (options.replays) {
      auto recorder = arena::MatchRecorder::make(
          {.directory = options.replay_dir, .keep_newest = options.keep_replays});
      if (!recorder) {
        std::fprintf(stderr, "tickwire-server: --replay-dir: %s\n", recorder.error().c_str());
        return 1;
      }
      config.observer = recorder.value();
      std::printf("recording every match into %s/ (keeping the newest %zu)\n",
                  options.replay_dir.c_str(), options.keep_replays);
    }
    if (lobby) {
      // Same process: the room goes back to the lobby when its match ends.
      config.on_match_began = [&lobby](std::uint64_t match) { lobby->match_began(match); };
      config.on_match_over = [&lobby](std::uint64_t match, net::MatchEndReason reason) {
        lobby->end_match(match, reason);
      };
    } else if (const auto remote = arena::parse_host_port(options.lobby)) {
      auto identity = identity_key(options);
      if (!identity) {
        std::fprintf(stderr, "tickwire-server: registration key: %s\n", identity.error().c_str());
        return 1;
      }
      // The public half only: the lobby's --game-server-keys file must list it.
      std::printf("registering with identity key %s\n",
                  arena::to_hex(identity.value().public_key).c_str());
      link_to_lobby = std::make_unique<arena::LobbyLink>(
          remote->host, remote->port, options.lobby_tls,
          net::GameServerRegistration{
              .address = game_address,
              .capacity = static_cast<std::uint32_t>(options.max_players),
              .identity = identity.value(),
              .seal_key = seal_public_key,
              .lobby_key = key.value().public_key(),
              .websocket_address = game_websocket_address,
          });
      config.on_match_began = [&link_to_lobby](std::uint64_t match) {
        link_to_lobby->match_began(match);
      };
      config.on_match_over = [&link_to_lobby](std::uint64_t match, net::MatchEndReason reason) {
        link_to_lobby->match_over(match, reason);
      };
    }
    if (agones) {
      // The lobby placed a match here: Allocated, so that Agones does not scale this server down
      // or replace it in a rolling update while players are on it.
      config.on_match_began = [began = std::move(config.on_match_began),
                               &agones](std::uint64_t match) {
        if (began) began(match);
        agones->allocate();
      };
    }
    // With simulated conditions, players reach the game port through the link simulator and
    // the game server itself listens on a private loopback port behind it.
    config.enet.bind_address = simulate ? "127.0.0.1" : options.bind;
    if (options.game_websocket) {
      // Straight to the server, TCP (the simulated conditions are UDP's).
      net::WebSocketServerConfig websocket;
      websocket.bind_address = options.bind;
      websocket.port = game_websocket_port;
      websocket.max_connections = options.max_players;
      websocket.max_connections_per_address = options.max_per_address;
      websocket.max_pending_handshakes = std::max<std::size_t>(64, options.max_per_address);
      websocket.connection_burst_per_address =
          std::max<std::size_t>(websocket.connection_burst_per_address, options.max_per_address);
      config.websocket = websocket;
    }
    config.enet.port = simulate ? 0 : options.game_port;
    config.enet.max_peers = options.max_players;
    config.enet.max_peers_per_address = options.max_per_address;
    // The connect rate limits and the handshakes in flight stay at the engine's defaults unless
    // one address may hold more players than they allow.
    const net::EnetServerConfig defaults;
    config.enet.connect_burst_per_address = std::max(
        defaults.connect_burst_per_address, static_cast<std::uint32_t>(options.max_per_address));
    config.enet.connect_rate_per_address =
        std::max(defaults.connect_rate_per_address, static_cast<double>(options.max_per_address));
    config.enet.max_pending_handshakes =
        std::max(defaults.max_pending_handshakes, options.max_per_address);
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
      link_config.max_clients_per_address = static_cast<std::uint32_t>(options.max_per_address);
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
    if (game->websocket_port() != 0) {
      std::printf("gameplay over WebSocket (where UDP gets no answer) on %s:%u (TCP)\n",
                  options.bind.c_str(), static_cast<unsigned>(game->websocket_port()));
    }
    if (seal) {
      // The public half only: a lobby that names this server needs it (--game-server-seal-key).
      std::printf("game sessions encrypted; seal public key %s\n",
                  arena::to_hex(seal->public_key).c_str());
    } else {
      std::printf("game sessions NOT encrypted (--insecure-plaintext)\n");
    }
    if (options.metrics) {
      // The main loop turns every 50 ms or so; two seconds without a turn is a stall.
      auto started_metrics = arena::GameMetrics::start(
          {.bind_address = options.metrics_bind, .port = options.metrics_port}, *game,
          std::chrono::seconds(2));
      if (!started_metrics) {
        std::fprintf(stderr, "tickwire-server: metrics: %s\n", started_metrics.error().c_str());
        return 1;
      }
      metrics = std::move(started_metrics.value());
      std::printf("metrics on http://%s:%u/metrics (health: /healthz)\n",
                  options.metrics_bind.c_str(), static_cast<unsigned>(metrics->port()));
    }
    if (options.beacon) {
      auto identity = identity_key(options);
      if (!identity) {
        std::fprintf(stderr, "tickwire-server: LAN beacon: %s\n", identity.error().c_str());
        return 1;
      }
      net::LanBeaconConfig beacon_config;
      beacon_config.broadcast_address = options.beacon_address;
      beacon_config.discovery_port = options.discovery_port;
      beacon_config.identity = identity.value();
      // Signed into the beacon, so that a beacon replayed from another machine still points
      // here; the same host that tickets name. (A --public-host that is a DNS name cannot go in a
      // beacon: browsers then use the sender's address.)
      in_addr parsed{};
      if (inet_pton(AF_INET, host.c_str(), &parsed) == 1) beacon_config.host = host;
      auto started_beacon = net::LanBeacon::start(beacon_config);
      if (!started_beacon) {
        std::fprintf(stderr, "tickwire-server: LAN beacon: %s\n", started_beacon.error().c_str());
        return 1;
      }
      beacon = std::move(started_beacon.value());
      std::printf("LAN beacon to %s:%u, signed by server key %s\n", options.beacon_address.c_str(),
                  static_cast<unsigned>(options.discovery_port),
                  net::fingerprint(identity.value().public_key).c_str());
    }
  }
  if (agones) {
    // Everything listens now: players may come.
    agones->ready();
    std::printf(
        "agones: Ready requested from the SDK sidecar; this server exits once its match "
        "is over\n");
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
    if (metrics) metrics->publish(*game);
    if (agones && game->stats().matches_finished > 0 && game->stats().matches == 0) {
      std::printf("agones: the match is over\n");
      break;
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
  if (agones) say_goodbye_to_agones(*agones, *game, link_to_lobby.get());
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
  metrics.reset();  // it reads the game server's figures
  game.reset();
  if (lobby) lobby->stop();
  std::printf("clean exit\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  arena::ServerOptions options;
  if (const std::optional<int> exit_code = arena::parse_server_options(argc, argv, options)) {
    return *exit_code;
  }
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  return run(options);
}
