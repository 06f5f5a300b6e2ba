#pragma once
// How the demo programs that talk to a lobby (client, bots, a game server that registers) choose
// its transport: plaintext ws:// unless told otherwise, because tickwire-server without a
// certificate serves a plaintext lobby for LAN play; --lobby-tls, or a CA file of its own for a
// self-signed lobby, makes it wss:// with the certificate verified.

#include <string>

#include "tickwire/net/websocket_transport.hpp"

namespace arena {

struct LobbyTlsOptions {
  bool tls = false;     // --lobby-tls: verify against the system's CA certificates
  std::string ca_file;  // --tls-ca-file: trust this CA instead (implies TLS)
};

// The lobby connection's security as the options say; plaintext must be asked for by name in the
// engine, and this is where the demo does it.
inline void apply_lobby_tls(const LobbyTlsOptions& options,
                            tickwire::net::WebSocketClientConfig& config) {
  if (options.tls || !options.ca_file.empty()) {
    config.transport_security = tickwire::net::WebSocketSecurity::tls;
    config.tls.ca_file = options.ca_file;
  } else {
    config.transport_security = tickwire::net::WebSocketSecurity::insecure_plaintext;
  }
}

// The help texts of the two flags, the same in every program.
inline constexpr const char* kLobbyTlsHelp =
    "connect to the lobby over TLS (wss://), its certificate verified against the system's CA "
    "certificates (default: plaintext ws://, for a lobby started without --tls-cert-file)";
inline constexpr const char* kTlsCaFileHelp =
    "PEM file of the CA that signed the lobby's certificate (a self-signed lobby); implies "
    "--lobby-tls";

}  // namespace arena
