// tickwire-server's keys: which file each comes from, and what the server says about them.

#include "server_keys.hpp"

#include <cstdio>

#include "key_file.hpp"

namespace arena {

namespace net = tickwire::net;

namespace {

net::Result<net::JoinTicketIssuer> ticket_key(const ServerOptions& options) {
  if (options.key_file.empty()) {
    if (options.role != "all") {
      return net::Status::error("--role " + options.role +
                                " needs --key-file (the lobby and the game server share it)");
    }
    return net::JoinTicketIssuer::generate();
  }
  return load_or_create_key(options.key_file);
}

// The game server's sealing key pair: from --seal-key-file (created when missing), else fresh.
net::Result<net::GameServerSealKeys> seal_keys(const ServerOptions& options) {
  if (options.seal_key_file.empty()) return net::GameServerSealKeys::generate();
  return load_or_create_seal_keys(options.seal_key_file);
}

// What the risk is, Tickwire's log says when the server starts (a warning from "enet" or
// "websocket"); these lines say which flags change it.
void warn_plaintext() {
  std::fprintf(stderr,
               "WARNING: --insecure-plaintext: game sessions are neither encrypted nor "
               "authenticated; use it for development and LAN tests only.\n");
}

}  // namespace

net::Result<ServerKeys> load_server_keys(const ServerOptions& options) {
  auto tickets = ticket_key(options);
  if (!tickets) return net::Status::error(tickets.error());
  ServerKeys keys{.tickets = std::move(tickets.value())};
  if (options.insecure_plaintext) warn_plaintext();
  if (options.role != "lobby" && !options.insecure_plaintext) {
    auto loaded = seal_keys(options);
    if (!loaded) return net::Status::error(loaded.error());
    keys.seal = loaded.value();
    keys.seal_public_key = keys.seal->public_key;
  } else if (!options.game_server_seal_key.empty()) {
    keys.seal_public_key = parse_seal_public_key(options.game_server_seal_key);
  }
  return keys;
}

net::Result<net::ServerIdentity> identity_key(const ServerOptions& options) {
  std::string path = options.identity_key_file;
  if (path.empty()) {
    auto in_config = config_file_path("server-identity.key");
    if (!in_config) return net::Status::error(in_config.error() + " (--identity-key-file)");
    path = in_config.value();
  }
  return load_or_create_identity(path);
}

}  // namespace arena
