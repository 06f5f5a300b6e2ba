// tickwire-server's game server: from the flags to a running ArenaServer and its companions.

#include "game_role.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "host_port.hpp"
#include "key_file.hpp"
#include "match_recorder.hpp"

namespace arena {

namespace net = tickwire::net;

namespace {

// Latency, jitter, loss or duplication asked for: players then reach the game port through a
// link simulator.
bool simulates_conditions(const ServerOptions& options) {
  return options.latency_ms > 0 || options.jitter_ms > 0 || options.loss_percent > 0 ||
         options.duplicate_percent > 0;
}

// The game server's rules, keys and listeners from the flags.
ServerConfig game_server_config(const ServerOptions& options, const ServerKeys& keys,
                                const GameServerAddresses& here) {
  ServerConfig config;
  config.lobby_key = keys.tickets.public_key();
  if (keys.seal) {
    config.seal_keys = *keys.seal;
    config.enet.security = net::SessionSecurity::encrypted;
  } else {
    config.enet.security = net::SessionSecurity::plaintext_for_development;
  }
  config.public_address = here.game;
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
  config.reports_directory = options.reports_dir;
  config.keep_reports = options.keep_reports;
  config.on_report = [](const std::filesystem::path& report) {
    std::printf("bug report: %s\n", report.c_str());
    std::fflush(stdout);
  };
  // With simulated conditions, players reach the game port through the link simulator and
  // the game server itself listens on a private loopback port behind it.
  const bool simulate = simulates_conditions(options);
  config.enet.bind_address = simulate ? "127.0.0.1" : options.bind;
  if (options.game_websocket) {
    // Straight to the server, TCP (the simulated conditions are UDP's).
    net::WebSocketServerConfig websocket;
    websocket.bind_address = options.bind;
    // The port it listens on (players may reach it at another: endpoints).
    websocket.port =
        options.game_websocket_port != 0 ? options.game_websocket_port : options.game_port;
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
  return config;
}

// --replay-upload-token: a sender of replays to the lobby at `remote`, as the lobby link reaches
// it.
net::Result<std::unique_ptr<ReplayUploader>> upload_replays(const ServerOptions& options,
                                                            const HostPort& remote) {
  auto uploader = ReplayUploader::make({.lobby_host = remote.host,
                                        .lobby_port = remote.port,
                                        .lobby_tls = options.lobby_tls,
                                        .directory = options.replay_dir},
                                       options.replay_upload_token_file);
  if (!uploader) return net::Status::error("--replay-upload-token: " + uploader.error());
  std::printf("sending every replay to the lobby at %s:%u (PUT /replays/NAME)\n",
              remote.host.c_str(), static_cast<unsigned>(remote.port));
  return uploader;
}

// --replays: every match into --replay-dir; each finished one to `uploads` when given.
net::Status record_matches(const ServerOptions& options, ServerConfig& config,
                           ReplayUploader* uploads) {
  RecordingConfig recording{.directory = options.replay_dir, .keep_newest = options.keep_replays};
  if (uploads != nullptr) {
    recording.on_replay_written = [uploads](const std::filesystem::path& replay) {
      uploads->add(replay);
    };
  }
  auto recorder = MatchRecorder::make(recording);
  if (!recorder) return net::Status::error("--replay-dir: " + recorder.error());
  config.observer = recorder.value();
  std::printf("recording every match into %s/ (keeping the newest %zu)\n",
              options.replay_dir.c_str(), options.keep_replays);
  const RecordingStats& salvage = recorder.value()->stats();
  if (salvage.replays_salvaged != 0 || salvage.interrupted_removed != 0) {
    std::printf(
        "salvaged %llu interrupted recording(s) as *-cut.twreplay, deleted %llu with "
        "nothing to play\n",
        static_cast<unsigned long long>(salvage.replays_salvaged),
        static_cast<unsigned long long>(salvage.interrupted_removed));
  }
  return {};
}

// --lobby: registers with the lobby at `remote`, signed with this server's identity key.
net::Result<std::unique_ptr<LobbyLink>> register_with_lobby(const ServerOptions& options,
                                                            const ServerKeys& keys,
                                                            const GameServerAddresses& here,
                                                            const HostPort& remote) {
  auto identity = identity_key(options);
  if (!identity) return net::Status::error("registration key: " + identity.error());
  // The public half only: the lobby's --game-server-keys file must list it.
  std::printf("registering with identity key %s\n", to_hex(identity.value().public_key).c_str());
  return std::make_unique<LobbyLink>(
      remote.host, remote.port, options.lobby_tls,
      net::GameServerRegistration{
          .address = here.game,
          .capacity = static_cast<std::uint32_t>(options.max_players),
          .identity = identity.value(),
          .seal_key = keys.seal_public_key,
          .lobby_key = keys.tickets.public_key(),
          .websocket_address = here.game_websocket,
      });
}

// Where match starts and ends go: the lobby in this process, or the one the game server
// registered with; and, under Agones, Allocate at every start.
void report_matches(ServerConfig& config, net::LobbyServer* lobby, LobbyLink* link_to_lobby,
                    net::AgonesSdk* agones) {
  if (lobby != nullptr) {
    // Same process: the room goes back to the lobby when its match ends.
    config.on_match_began = [lobby](std::uint64_t match) { lobby->match_began(match); };
    config.on_match_over = [lobby](std::uint64_t match, net::MatchEndReason reason) {
      lobby->end_match(match, reason);
    };
  } else if (link_to_lobby != nullptr) {
    config.on_match_began = [link_to_lobby](std::uint64_t match) {
      link_to_lobby->match_began(match);
    };
    config.on_match_over = [link_to_lobby](std::uint64_t match, net::MatchEndReason reason) {
      link_to_lobby->match_over(match, reason);
    };
  }
  if (agones != nullptr) {
    // The lobby placed a match here: Allocated, so that Agones does not scale this server down
    // or replace it in a rolling update while players are on it.
    config.on_match_began = [began = std::move(config.on_match_began),
                             agones](std::uint64_t match) {
      if (began) began(match);
      agones->allocate();
    };
  }
}

// --latency-ms and co: a UDP link simulator on the game port, in front of `game`.
net::Result<std::unique_ptr<net::UdpLinkSimulator>> start_network_conditions(
    const ServerOptions& options, const ArenaServer& game) {
  net::UdpLinkSimulatorConfig link_config;
  link_config.listen_address = options.bind;
  link_config.listen_port = options.game_port;
  link_config.target_address = "127.0.0.1";
  link_config.target_port = game.port();
  link_config.max_clients = static_cast<std::uint32_t>(options.max_players * 2);
  link_config.max_clients_per_address = static_cast<std::uint32_t>(options.max_per_address);
  const net::LinkConditions conditions{.latency_ms = options.latency_ms / 2,
                                       .jitter_ms = options.jitter_ms / 2,
                                       .loss = options.loss_percent / 100,
                                       .duplicate = options.duplicate_percent / 100};
  link_config.conditions = net::NetworkConditions::symmetric(conditions, options.seed);
  auto started = net::UdpLinkSimulator::start(link_config);
  if (!started) return net::Status::error("network conditions: " + started.error());
  std::printf("simulating %.0f ms round trip (+-%.0f), %.1f %% loss each way\n", options.latency_ms,
              options.jitter_ms, options.loss_percent);
  return std::move(started.value());
}

void say_where_game_server_listens(const ServerOptions& options, const ServerKeys& keys,
                                   const GameServerAddresses& here, const ArenaServer& game) {
  std::printf("game server on %s:%u, tickets name %s, %.0f Hz ticks, %.0f Hz snapshots\n",
              options.bind.c_str(), static_cast<unsigned>(options.game_port), here.game.c_str(),
              options.tick_rate, options.snapshot_rate);
  if (game.websocket_port() != 0) {
    std::printf("gameplay over WebSocket (where UDP gets no answer) on %s:%u (TCP)\n",
                options.bind.c_str(), static_cast<unsigned>(game.websocket_port()));
  }
  if (keys.seal) {
    // The public half only: a lobby that names this server needs it (--game-server-seal-key).
    std::printf("game sessions encrypted; seal public key %s\n",
                to_hex(keys.seal->public_key).c_str());
  } else {
    std::printf("game sessions NOT encrypted (--insecure-plaintext)\n");
  }
}

// --metrics: /metrics and /healthz of `game`.
net::Result<std::unique_ptr<GameMetrics>> start_metrics(const ServerOptions& options,
                                                        const ArenaServer& game) {
  // The main loop turns every 50 ms or so; two seconds without a turn is a stall.
  auto started =
      GameMetrics::start({.bind_address = options.metrics_bind, .port = options.metrics_port}, game,
                         std::chrono::seconds(2));
  if (!started) return net::Status::error("metrics: " + started.error());
  std::printf("metrics on http://%s:%u/metrics (health: /healthz)\n", options.metrics_bind.c_str(),
              static_cast<unsigned>(started.value()->port()));
  return std::move(started.value());
}

// --beacon: announces the server on the LAN, signed with its identity key.
net::Result<std::unique_ptr<net::LanBeacon>> start_beacon(const ServerOptions& options,
                                                          const std::string& host) {
  auto identity = identity_key(options);
  if (!identity) return net::Status::error("LAN beacon: " + identity.error());
  net::LanBeaconConfig beacon_config;
  beacon_config.broadcast_address = options.beacon_address;
  beacon_config.discovery_port = options.discovery_port;
  beacon_config.identity = identity.value();
  // Signed into the beacon, so that a beacon replayed from another machine still points
  // here; the same host that tickets name. (A --public-host that is a DNS name cannot go in a
  // beacon: browsers then use the sender's address.)
  in_addr parsed{};
  if (inet_pton(AF_INET, host.c_str(), &parsed) == 1) beacon_config.host = host;
  auto started = net::LanBeacon::start(beacon_config);
  if (!started) return net::Status::error("LAN beacon: " + started.error());
  std::printf("LAN beacon to %s:%u, signed by server key %s\n", options.beacon_address.c_str(),
              static_cast<unsigned>(options.discovery_port),
              net::fingerprint(identity.value().public_key).c_str());
  return std::move(started.value());
}

}  // namespace

net::Result<GameRole> start_game_role(const ServerOptions& options, const ServerKeys& keys,
                                      const PublicEndpoints& endpoints, net::LobbyServer* lobby,
                                      net::AgonesSdk* agones) {
  const GameServerAddresses here = game_server_addresses(options, endpoints);
  GameRole role;
  ServerConfig config = game_server_config(options, keys, here);
  const auto remote = lobby == nullptr ? parse_host_port(options.lobby) : std::nullopt;
  if (remote && !options.replay_upload_token_file.empty()) {
    auto uploads = upload_replays(options, *remote);
    if (!uploads) return net::Status::error(uploads.error());
    role.replay_uploads = std::move(uploads.value());
  }
  if (options.replays) {
    if (net::Status status = record_matches(options, config, role.replay_uploads.get());
        !status.ok())
      return status;
  }
  // After the recorder salvaged what a crash left: those go too.
  if (role.replay_uploads) role.replay_uploads->add_waiting();
  if (remote) {
    auto link = register_with_lobby(options, keys, here, *remote);
    if (!link) return net::Status::error(link.error());
    role.link_to_lobby = std::move(link.value());
  }
  report_matches(config, lobby, role.link_to_lobby.get(), agones);
  auto started = ArenaServer::start(config);
  if (!started) return net::Status::error("game server: " + started.error());
  role.game = std::move(started.value());
  if (simulates_conditions(options)) {
    auto link = start_network_conditions(options, *role.game);
    if (!link) return net::Status::error(link.error());
    role.link = std::move(link.value());
  }
  say_where_game_server_listens(options, keys, here, *role.game);
  if (options.metrics) {
    auto metrics = start_metrics(options, *role.game);
    if (!metrics) return net::Status::error(metrics.error());
    role.metrics = std::move(metrics.value());
  }
  if (options.beacon) {
    auto beacon = start_beacon(options, endpoints.host);
    if (!beacon) return net::Status::error(beacon.error());
    role.beacon = std::move(beacon.value());
  }
  return role;
}

}  // namespace arena
