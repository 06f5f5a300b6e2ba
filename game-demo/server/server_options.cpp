#include "server_options.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "host_port.hpp"
#include "key_file.hpp"

namespace arena {

std::optional<int> parse_server_options(int argc, char** argv, ServerOptions& options) {
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
  app.add_flag("--game-websocket,!--no-game-websocket", options.game_websocket,
               "the game server also takes players over WebSocket (TCP), where their UDP gets no "
               "answer")
      ->capture_default_str();
  app.add_option("--game-websocket-port", options.game_websocket_port,
                 "TCP port of gameplay over WebSocket (default: the --game-port number)");
  app.add_option("--game-server-websocket", options.game_server_websocket,
                 "--role lobby with --game-server: that server's WebSocket gameplay endpoint, "
                 "host:port");
  app.add_option("--game-server", options.game_server,
                 "--role lobby: the game server matches go to when none has registered, "
                 "host:port");
  app.add_option("--lobby", options.lobby,
                 "--role game: the lobby to register with, host:port (it must list this "
                 "server's identity key, which the server prints when it starts)");
  app.add_option("--game-server-keys", options.game_server_keys_file,
                 "--role lobby or all: file of the game servers that may register, one public "
                 "key per line (64 hex digits or base64, then an optional name; # comments)")
      ->envname("TICKWIRE_GAME_SERVER_KEYS");
  app.add_option("--redis", options.redis,
                 "--role lobby or all: HOST:PORT of a Redis server to keep the lobby's state in, "
                 "so that several lobby processes on it serve the same rooms (they must share "
                 "--key-file); default: this process's memory")
      ->envname("TICKWIRE_REDIS");
  app.add_option("--redis-password-file", options.redis_password_file,
                 "with --redis: a file whose first line is the Redis AUTH password (or set "
                 "TICKWIRE_REDIS_PASSWORD); no flag takes the password itself, as ps shows flags "
                 "to every user");
  app.add_option("--state-workers", options.state_workers,
                 "with --redis: threads that make the lobby's Redis calls (each with a Redis "
                 "connection of its own), so that its own thread never waits on Redis")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--allow-any-registered-address", options.allow_any_registered_address,
               "with --game-server-keys: a game server may register an address other than the "
               "one it connects from (behind a proxy or NAT, or a DNS name)");
  app.add_option("--max-game-server-capacity", options.max_game_server_capacity,
                 "with --game-server-keys: players a registering game server may claim at most")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--game-server-lease-ms", options.game_server_lease_ms,
                 "with --game-server-keys: milliseconds without a load report (game servers "
                 "send one every second) after which a registered game server is gone and its "
                 "matches end as server_lost; at least 2000, so that one late report is "
                 "forgiven")
      ->check(CLI::Range(2000, 3600000))
      ->capture_default_str();
  app.add_option("--resume-grace-ms", options.resume_grace_ms,
                 "milliseconds a dropped player's seat and nickname wait for their resume token "
                 "(0: none)")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--nickname-lease-ms", options.nickname_lease_ms,
                 "milliseconds a connected player's nickname and resume record are leased for, "
                 "renewed every third of it: a lobby that dies (kill -9) holds its players' seats "
                 "this long plus --resume-grace-ms for them to resume on another lobby")
      ->check(CLI::Range(300, 3600000))
      ->capture_default_str();
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
                 "game server connections (players, handshakes) from one IP address at most; "
                 "raise it for bots or tests that run many players on one machine")
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
  app.add_option("--reconnect-grace", options.reconnect_grace_s,
                 "seconds a dropped player's entity, score and team wait for them to come back "
                 "(0: gone at once)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--max-spectators", options.max_spectators,
                 "spectators per match at most (0: none); they use the server's connection "
                 "slots (--max-players) too")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--spectator-delay", options.spectator_delay_s,
                 "seconds behind the match spectators see it, so that what they see is too old "
                 "to help a player")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  app.add_option("--drones", options.drones, "wandering drones per match")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--view-radius", options.view_radius_m,
                 "metres around a player within which they are sent the others (0: the whole "
                 "arena)")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  app.add_option("--key-file", options.key_file,
                 "ticket signing key, shared by a separate lobby and game server (created when "
                 "missing)");
  app.add_option("--seal-key-file", options.seal_key_file,
                 "the game server's sealing key pair, which opens the session keys in tickets "
                 "(created when missing; default: a fresh pair each start)");
  app.add_option("--game-server-seal-key", options.game_server_seal_key,
                 "--role lobby with --game-server: that server's seal public key, 64 hex digits "
                 "(it prints it when it starts)");
  app.add_flag("--insecure-plaintext", options.insecure_plaintext,
               "game sessions without encryption or authentication: anyone on the path can read "
               "and forge them (development and LAN tests only)");
  app.add_option("--tls-cert-file", options.tls_cert_file,
                 "the lobby's TLS certificate chain (PEM: the certificate, then intermediates): "
                 "the lobby then serves https:// and wss:// only (needs --tls-key-file; without "
                 "both it serves plaintext, with a warning)");
  app.add_option("--tls-key-file", options.tls_key_file,
                 "the private key of --tls-cert-file (PEM, unencrypted; keep it mode 0600)");
  app.add_flag("--lobby-tls", options.lobby_tls.tls,
               std::string("--role game: ") + arena::kLobbyTlsHelp);
  app.add_option("--tls-ca-file", options.lobby_tls.ca_file,
                 std::string("--role game: ") + arena::kTlsCaFileHelp);
  app.add_option("--identity-key-file", options.identity_key_file,
                 "the server's identity key, which signs its LAN beacons (clients pin it) and "
                 "its registration with a lobby (--lobby) (created when missing; default: "
                 "server-identity.key in ~/.config/tickwire)");
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
  app.add_flag("--replays,!--no-replays", options.replays,
               "record every match into --replay-dir (and, with a lobby, serve the folder over "
               "HTTP: /api/replays)")
      ->capture_default_str();
  app.add_option("--replay-dir", options.replay_dir, "folder of match replays (created if missing)")
      ->capture_default_str();
  app.add_option("--keep-replays", options.keep_replays,
                 "replays kept in --replay-dir, recorded and (with a lobby) uploaded: older ones "
                 "are deleted (0: keep all)")
      ->capture_default_str();
  app.add_option("--reports-dir", options.reports_dir,
                 "--role game or all: folder of players' bug reports (F8 in the client: a "
                 "screenshot, named after its match, tick and player); '' refuses reports")
      ->capture_default_str();
  app.add_option("--keep-reports", options.keep_reports,
                 "bug reports kept in --reports-dir: older ones are deleted (1..100000)")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  app.add_option("--files-dir", options.files_dir,
                 "--role lobby or all: folder of files offered for download over the lobby's "
                 "HTTP (maps, mod packs): GET /api/files lists them, GET /files/NAME fetches one");
  app.add_option("--upload-tokens", options.upload_tokens_file,
                 "--role lobby or all: file of secrets, one per line (# comments), that may "
                 "upload replays: PUT /replays/NAME with 'Authorization: Bearer TOKEN'")
      ->envname("TICKWIRE_UPLOAD_TOKENS");
  app.add_option("--replay-upload-token", options.replay_upload_token_file,
                 "--role game with --lobby: file holding one of the lobby's upload tokens; each "
                 "finished replay is sent to the lobby (PUT /replays/NAME, over TLS as the lobby "
                 "link says) and deleted here once stored, retried while the lobby is away")
      ->envname("TICKWIRE_REPLAY_UPLOAD_TOKEN");
  app.add_flag("--metrics,!--no-metrics", options.metrics,
               "serve the game server's /metrics (Prometheus) and /healthz over HTTP")
      ->capture_default_str();
  app.add_option("--metrics-bind", options.metrics_bind,
                 "address the metrics port listens on (IPv4 or IPv6)")
      ->capture_default_str();
  app.add_option("--metrics-port", options.metrics_port,
                 "TCP port of /metrics and /healthz (0: any free port, printed at start)")
      ->capture_default_str();
  app.add_flag("--agones", options.agones,
               "run as an Agones game server: Ready, Health, Allocate and Shutdown through the SDK "
               "sidecar on 127.0.0.1, and exit once a match has ended and none is left");
  app.add_option("--agones-port", options.agones_port,
                 "with --agones: the SDK sidecar's HTTP port (default: AGONES_SDK_HTTP_PORT, else "
                 "9358)")
      ->check(CLI::Range(1, 65535));
  CLI11_PARSE(app, argc, argv);
  if (!options.replay_upload_token_file.empty() &&
      (options.role != "game" || options.lobby.empty() || !options.replays)) {
    std::fprintf(stderr,
                 "tickwire-server: --replay-upload-token sends this game server's replays to its "
                 "lobby: for --role game with --lobby, recording (not --no-replays)\n");
    return 1;
  }
  if (options.agones && options.role == "lobby") {
    std::fprintf(stderr,
                 "tickwire-server: --agones is the game server's lifecycle, for --role game or "
                 "all\n");
    return 1;
  }
  if (app.count("--agones-port") > 0 && !options.agones) {
    std::fprintf(stderr, "tickwire-server: --agones-port goes with --agones\n");
    return 1;
  }
  if (options.jitter_ms > options.latency_ms) {
    std::fprintf(stderr, "tickwire-server: --jitter must not exceed --latency\n");
    return 1;
  }
  if (options.role == "lobby" && options.game_server.empty() &&
      options.game_server_keys_file.empty()) {
    std::fprintf(stderr,
                 "tickwire-server: --role lobby needs --game-server host:port, or "
                 "--game-server-keys FILE for game servers to register with\n");
    return 1;
  }
  if (!options.redis.empty() && options.role == "game") {
    std::fprintf(stderr,
                 "tickwire-server: --redis holds the lobby's state, for --role lobby or all\n");
    return 1;
  }
  if (options.redis.empty() &&
      (!options.redis_password_file.empty() || app.count("--state-workers") > 0)) {
    std::fprintf(stderr,
                 "tickwire-server: --redis-password-file and --state-workers go with --redis "
                 "HOST:PORT\n");
    return 1;
  }
  if (!options.game_server_keys_file.empty() && options.role == "game") {
    std::fprintf(stderr,
                 "tickwire-server: --game-server-keys is the lobby's allow-list, for --role "
                 "lobby or all\n");
    return 1;
  }
  if (options.game_server_keys_file.empty() &&
      (options.allow_any_registered_address || app.count("--max-game-server-capacity") > 0 ||
       app.count("--game-server-lease-ms") > 0)) {
    std::fprintf(stderr,
                 "tickwire-server: --allow-any-registered-address, --max-game-server-capacity "
                 "and --game-server-lease-ms are for a lobby with --game-server-keys\n");
    return 1;
  }
  if (options.role == "lobby" && !options.game_server.empty() && !options.insecure_plaintext &&
      options.game_server_seal_key.empty()) {
    std::fprintf(stderr,
                 "tickwire-server: --role lobby --game-server needs --game-server-seal-key (the "
                 "game server prints it when it starts), or --insecure-plaintext for a game "
                 "server that runs without encryption\n");
    return 1;
  }
  if (!options.game_server_websocket.empty() &&
      (options.role != "lobby" || options.game_server.empty() ||
       !arena::parse_host_port(options.game_server_websocket))) {
    std::fprintf(stderr,
                 "tickwire-server: --game-server-websocket is host:port, for --role lobby with "
                 "--game-server\n");
    return 1;
  }
  if (!options.game_server_seal_key.empty()) {
    if (options.role != "lobby" || options.game_server.empty() || options.insecure_plaintext ||
        !arena::parse_seal_public_key(options.game_server_seal_key)) {
      std::fprintf(stderr,
                   "tickwire-server: --game-server-seal-key is 64 hex digits, for --role lobby "
                   "with --game-server (and without --insecure-plaintext)\n");
      return 1;
    }
  }
  if (!options.seal_key_file.empty() && (options.role == "lobby" || options.insecure_plaintext)) {
    std::fprintf(stderr,
                 "tickwire-server: --seal-key-file is the game server's key, for --role all or "
                 "game without --insecure-plaintext\n");
    return 1;
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    std::fprintf(stderr,
                 "tickwire-server: --tls-cert-file and --tls-key-file go together (the lobby's "
                 "certificate chain and its private key)\n");
    return 1;
  }
  if (!options.tls_cert_file.empty() && options.role == "game") {
    std::fprintf(stderr,
                 "tickwire-server: --tls-cert-file is the lobby's certificate, for --role all or "
                 "lobby\n");
    return 1;
  }
  if ((options.lobby_tls.tls || !options.lobby_tls.ca_file.empty()) && options.role != "game") {
    std::fprintf(stderr,
                 "tickwire-server: --lobby-tls and --tls-ca-file are for --role game (how it "
                 "reaches its lobby)\n");
    return 1;
  }
  if (!options.lobby.empty()) {
    if (options.role != "game" || !arena::parse_host_port(options.lobby)) {
      std::fprintf(stderr, "tickwire-server: --lobby host:port is for --role game\n");
      return 1;
    }
  }
  return std::nullopt;
}

}  // namespace arena
