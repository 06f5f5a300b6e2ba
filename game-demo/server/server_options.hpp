#pragma once
// tickwire-server's command line: every option, its default and its help, and the checks of
// combinations that make no sense (main.cpp runs what they say). No flag takes a secret or a
// secret key: `ps` shows a command line to every user of the machine. Keys live in files (the
// flags name them), created with mode 0600 when missing.

#include <cstdint>
#include <optional>
#include <string>

#include "lobby_tls.hpp"

namespace arena {

struct ServerOptions {
  std::string role = "all";
  std::string bind = "0.0.0.0";
  std::string public_host;  // empty: derived from bind
  std::uint16_t lobby_port = 7700;
  std::uint16_t game_port = 7777;
  std::string game_server;  // --role lobby: where matches go (when no server registers)
  // --role lobby with --game-server: that server's WebSocket gameplay endpoint, host:port.
  std::string game_server_websocket;
  // Gameplay over WebSocket (TCP) too, for players whose UDP gets no answer. Port 0: the same
  // number as game_port.
  bool game_websocket = true;
  std::uint16_t game_websocket_port = 0;
  std::string lobby;  // --role game: the lobby to register with, host:port
  // --role lobby or all: the allow-list of game servers that may register (a file of public
  // keys); empty: none may.
  std::string game_server_keys_file;
  // --role lobby or all: HOST:PORT of the Redis server whose shared lobby state this lobby uses
  // (several lobby processes on one Redis serve the same rooms); empty: this process's memory.
  std::string redis;
  // A file whose first line is the Redis AUTH password (no flag takes a secret: ps shows flags to
  // every user); TICKWIRE_REDIS_PASSWORD in the environment is the other way to give it.
  std::string redis_password_file;
  // With --redis: the lobby's state workers (LobbyConfig::state_workers), which make its calls to
  // Redis off its own thread, and as many Redis command connections
  // (RedisLobbyStateConfig::connections), one each. Default 4.
  std::size_t state_workers = 4;
  bool allow_any_registered_address = false;
  std::uint32_t max_game_server_capacity = 4096;
  // Milliseconds a registered game server stays without a load report before the lobby takes it
  // for gone and ends its matches (LobbyConfig::game_server_lease_ms). Default 3000, at least
  // 2000: tickwire-server's game servers report every second.
  std::uint32_t game_server_lease_ms = 3000;
  // How long a dropped player's seat and nickname wait for their resume token, in milliseconds
  // (LobbyConfig::resume_grace_ms). Default 30000.
  std::uint32_t resume_grace_ms = 30'000;
  // A connected player's nickname and resume record are leased for this long, in milliseconds,
  // and renewed every third of it (LobbyConfig::nickname_lease_ms). Default 15000.
  std::uint32_t nickname_lease_ms = 15'000;
  double tick_rate = 60;
  double snapshot_rate = 30;
  std::size_t max_players = 64;
  // Game server connections (players, handshakes) from one IP address at most: well below
  // max_players, so that one host cannot take the server. Bots and tests that run many players
  // on one machine raise it with --max-per-address.
  std::size_t max_per_address = 8;
  // The lobby's: per address well below the total, so that one address cannot lock others out.
  std::size_t lobby_max_connections = 1024;
  std::size_t lobby_max_per_address = 32;
  std::size_t chat_burst = 5;
  double chat_lines_per_second = 2.0;
  std::size_t request_burst = 40;
  double requests_per_second = 20.0;
  double match_seconds = 180;
  double reconnect_grace_s = 30;  // a dropped player's entity waits this long for them
  int drones = 30;
  int max_spectators = 16;       // spectators per match at most (they take connection slots too)
  double spectator_delay_s = 3;  // how far behind the match spectators see it
  double view_radius_m = 45;     // ServerConfig::view_radius_m
  std::string key_file;
  std::string seal_key_file;         // the game server's sealing key pair; empty: fresh each start
  std::string game_server_seal_key;  // --role lobby --game-server: that server's seal public key
  bool insecure_plaintext = false;
  // The lobby's TLS certificate chain and key (PEM files); both empty: a plaintext lobby.
  std::string tls_cert_file;
  std::string tls_key_file;
  LobbyTlsOptions lobby_tls;  // --role game: how to reach the lobby it registers with
  // The server's identity (LAN beacons, registration with a lobby); empty: server-identity.key in
  // the user's config directory.
  std::string identity_key_file;
  std::string web_root = TICKWIRE_DEMO_WEB_ROOT;
  bool beacon = true;
  std::string beacon_address = "255.255.255.255";
  std::uint16_t discovery_port = 7779;
  std::string name = "Tickwire Arena";
  double latency_ms = 0, jitter_ms = 0, loss_percent = 0, duplicate_percent = 0;
  std::uint64_t seed = 1;
  double duration_s = 0;
  double status_interval_s = 1;
  // The game server's /metrics and /healthz (TCP): loopback by default, as what they say is for
  // the operator. Port 0: any free port (printed at start).
  bool metrics = true;
  std::string metrics_bind = "127.0.0.1";
  std::uint16_t metrics_port = 9777;
  // Every match is recorded into replay_dir (the lobby's HTTP serves the folder), which keeps the
  // newest keep_replays (0: all).
  bool replays = true;
  std::string replay_dir = "replays";
  std::size_t keep_replays = 50;
  // Players' bug reports (F8 in the client: a screenshot sent over the game connection) go to
  // reports_dir, named after their match, tick and player; the newest keep_reports are kept.
  // Empty reports_dir: reports are refused.
  std::string reports_dir = "reports";
  std::size_t keep_reports = 200;
  // --role lobby or all: a folder of files offered for download (maps, mod packs), served at
  // GET /api/files and /files/NAME. Empty: none.
  std::string files_dir;
  // --agones: the game server follows Agones' lifecycle through the SDK sidecar's HTTP gateway on
  // 127.0.0.1 (Ready once it listens, Health, Allocate when a match starts, Shutdown and exit
  // once its matches are over). Port 0: AGONES_SDK_HTTP_PORT, else 9358.
  bool agones = false;
  std::uint16_t agones_port = 0;
  // --role lobby or all: a file of upload tokens (one per line): PUT /replays/NAME with
  // "Authorization: Bearer TOKEN" stores a replay. Empty: uploads refused.
  std::string upload_tokens_file;
  // --role game with --lobby: a file holding one of that lobby's upload tokens; every finished
  // replay is then sent to the lobby (PUT /replays/NAME) and its local copy deleted once stored.
  // Empty: replays stay on this server's disk.
  std::string replay_upload_token_file;
};

// Parses the command line into `options`. Returns nothing to go on, or the exit code (help was
// asked for, or a flag or a combination of flags is wrong, with a message on stderr).
std::optional<int> parse_server_options(int argc, char** argv, ServerOptions& options);

}  // namespace arena
