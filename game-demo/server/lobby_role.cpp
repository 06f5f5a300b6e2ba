// tickwire-server's lobby: from the flags to a started LobbyServer.

#include "lobby_role.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <tickwire/net/redis_lobby_state.hpp>

#include "host_port.hpp"

namespace arena {

namespace net = tickwire::net;

namespace {

void warn_plaintext_lobby() {
  std::fprintf(stderr,
               "WARNING: the lobby serves plaintext http:// and ws:// (no --tls-cert-file); on "
               "any network you do not trust give --tls-cert-file and --tls-key-file.\n");
}

bool lobby_tls(const ServerOptions& options) {
  return !options.tls_cert_file.empty();
}

// The scheme of the lobby's page (and of the Origin browsers send from it).
std::string page_scheme(const ServerOptions& options) {
  return lobby_tls(options) ? "https://" : "http://";
}

// The lobby's state: in this process, or on the Redis server of --redis HOST:PORT.
net::Result<std::shared_ptr<net::LobbyState>> lobby_state(const ServerOptions& options) {
  if (options.redis.empty()) return net::make_in_memory_lobby_state();
  const auto address = parse_host_port(options.redis);
  if (!address) {
    return net::Status::error("'" + options.redis + "' is not HOST:PORT (e.g. 127.0.0.1:6379)");
  }
  net::RedisLobbyStateConfig config;
  config.host = address->host;
  config.port = address->port;
  // A command connection per state worker: no worker waits for another's round trips.
  config.connections = options.state_workers;
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

// What the lobby listens on, serves and allows, from the flags.
net::LobbyConfig lobby_config(const ServerOptions& options, const std::string& host) {
  net::LobbyConfig config;
  config.websocket.bind_address = options.bind;
  config.websocket.port = options.lobby_port;
  if (lobby_tls(options)) {
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
  config.resume_grace_ms = options.resume_grace_ms;
  config.state_workers = options.state_workers;
  config.nickname_lease_ms = options.nickname_lease_ms;
  // A full room's reply to JoinRoom must fit in one message (validate() checks): about 100
  // bytes a member as JSON, with room to spare.
  config.websocket.common.max_message_size = std::max<std::size_t>(
      config.websocket.common.max_message_size, 8 * 1024 + 128 * options.max_players);
  // The page is served by the lobby itself: browsers send its address as their Origin.
  const std::string port = std::to_string(options.lobby_port);
  const std::string scheme = page_scheme(options);
  config.websocket.allowed_origins = {scheme + host + ":" + port, scheme + "127.0.0.1:" + port,
                                      scheme + "localhost:" + port};
  config.web_root = options.web_root;
  // The lobby's HTTP serves the recorded matches (GET /api/replays, /replays/NAME).
  if (options.replays) config.replay_directory = options.replay_dir;
  // Uploaded replays are kept as many as recorded ones (the same folder in one process).
  config.keep_replays = options.keep_replays;
  // And the operator's files (GET /api/files, /files/NAME); validate() checks the folder exists.
  config.files_directory = options.files_dir;
  return config;
}

// --upload-tokens: who may PUT replays.
net::Status allow_uploads(const ServerOptions& options, net::LobbyConfig& config) {
  if (options.upload_tokens_file.empty()) return {};
  auto tokens = net::read_upload_tokens(options.upload_tokens_file);
  if (!tokens) return net::Status::error("--upload-tokens: " + tokens.error());
  config.upload_tokens = std::move(tokens.value());
  if (!config.replay_directory.empty()) {
    // A lobby of its own (--role lobby) records nothing, so nothing else makes the folder its
    // uploads go to.
    std::error_code error;
    std::filesystem::create_directories(config.replay_directory, error);
    if (error) {
      return net::Status::error("--replay-dir " + config.replay_directory +
                                " cannot be created: " + error.message());
    }
  }
  std::printf("replays may be uploaded with %zu token(s)%s\n", config.upload_tokens.size(),
              lobby_tls(options) ? "" : " (over plaintext HTTP: anyone on the path can read them)");
  return {};
}

// Where matches go: the game server the lobby is told of, and those --game-server-keys allows to
// register.
net::Status name_game_servers(const ServerOptions& options, const ServerKeys& keys,
                              const GameServerAddresses& local, net::LobbyConfig& config) {
  config.local_game_server = options.role == "lobby" ? options.game_server : local.game;
  config.local_game_server_websocket =
      options.role == "lobby" ? options.game_server_websocket : local.game_websocket;
  config.local_game_server_seal_key = keys.seal_public_key;
  if (options.game_server_keys_file.empty()) return {};
  auto allowed = net::read_game_server_keys(options.game_server_keys_file);
  if (!allowed) return net::Status::error("--game-server-keys: " + allowed.error());
  config.game_server_keys = std::move(allowed.value());
  config.allow_any_registered_address = options.allow_any_registered_address;
  config.max_game_server_capacity = options.max_game_server_capacity;
  config.game_server_lease_ms = options.game_server_lease_ms;
  std::printf("game servers may register with %zu allowed key(s)%s\n",
              config.game_server_keys.size(),
              config.allow_any_registered_address ? ", at any address" : "");
  return {};
}

}  // namespace

net::Result<std::unique_ptr<net::LobbyServer>> start_lobby(const ServerOptions& options,
                                                           const ServerKeys& keys,
                                                           const std::string& host,
                                                           const GameServerAddresses& local) {
  net::LobbyConfig config = lobby_config(options, host);
  if (net::Status status = allow_uploads(options, config); !status.ok()) return status;
  if (net::Status status = name_game_servers(options, keys, local, config); !status.ok()) {
    return status;
  }
  auto state = lobby_state(options);
  if (!state) return net::Status::error("--redis: " + state.error());
  auto lobby = std::make_unique<net::LobbyServer>(config, keys.tickets, std::move(state.value()));
  if (const net::Status status = lobby->start(); !status.ok()) {
    return net::Status::error("lobby: " + status.message());
  }
  std::printf("lobby on %s:%u (page: %s%s:%u/), matches go to %s\n", options.bind.c_str(),
              static_cast<unsigned>(lobby->port()), page_scheme(options).c_str(), host.c_str(),
              static_cast<unsigned>(lobby->port()),
              config.local_game_server.empty() ? "game servers that register"
                                               : config.local_game_server.c_str());
  return lobby;
}

}  // namespace arena
