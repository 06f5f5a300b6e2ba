// chat: a console chat on Tickwire's lobby. Every line typed goes to everyone in the lobby
// (global chat); every line anyone says is printed. One instance can host the lobby itself:
//   chat ann --host-lobby --tls-cert cert.pem --tls-key key.pem --tls-ca ca.pem  # hosts a lobby
//   chat bob --tls-ca ca.pem          # another terminal: joins it (ca.pem: what signed cert.pem)
// The lobby speaks TLS unless --insecure-plaintext is given (to both), for a LAN test: then
// anyone on the path reads and alters the chat.
// It ends at the end of its input (Ctrl-D) or when the lobby goes away.

#include <tickwire/net/lobby.hpp>
#include <tickwire/net/lobby_client.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace net = tickwire::net;

// Lines from standard input, read on their own thread so that the chat loop never blocks on them.
struct ConsoleInput {
  std::mutex mutex;
  std::deque<std::string> lines;
  std::atomic<bool> ended = false;

  void start() {
    std::thread([this] {
      for (std::string line; std::getline(std::cin, line);) {
        const std::lock_guard lock(mutex);
        lines.push_back(std::move(line));
      }
      ended = true;
    }).detach();  // blocked in a read until input ends; the process may end first
  }
  // False when no line is waiting; `finished` then says whether more can come.
  bool next(std::string& line, bool& finished) {
    finished = ended;  // read before looking at the lines: the last line is in before `ended`
    const std::lock_guard lock(mutex);
    if (lines.empty()) return false;
    line = std::move(lines.front());
    lines.pop_front();
    return true;
  }
};

int main(int argc, char** argv) {
  if (argc < 2) {
    return std::fprintf(stderr,
                        "usage: chat NAME [--host-lobby] [--port N] [--tls-cert FILE --tls-key "
                        "FILE] [--tls-ca FILE] [--insecure-plaintext]\n"),
           2;
  }
  const std::string name = argv[1];
  bool host = false;
  bool plaintext = false;
  int port = 7780;
  std::string cert, key, ca;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--host-lobby")
      host = true;
    else if (arg == "--insecure-plaintext")
      plaintext = true;
    else if (arg == "--port" && has_value)
      port = std::atoi(argv[++i]);
    else if (arg == "--tls-cert" && has_value)
      cert = argv[++i];
    else if (arg == "--tls-key" && has_value)
      key = argv[++i];
    else if (arg == "--tls-ca" && has_value)
      ca = argv[++i];
    else
      return std::fprintf(stderr, "chat: unknown argument %s\n", argv[i]), 2;
  }
  const auto security =
      plaintext ? net::WebSocketSecurity::insecure_plaintext : net::WebSocketSecurity::tls;

  // The lobby a game server or a dedicated lobby process would run (port 0: any free port).
  std::unique_ptr<net::LobbyServer> lobby;
  if (host) {
    net::LobbyConfig config;
    config.websocket.port = static_cast<std::uint16_t>(port);
    config.websocket.transport_security = security;
    config.websocket.tls.certificate_chain_file = cert;
    config.websocket.tls.private_key_file = key;
    lobby = std::make_unique<net::LobbyServer>(config, net::JoinTicketIssuer::generate());
    if (const net::Status started = lobby->start(); !started) {
      return std::fprintf(stderr, "chat: %s\n", started.message().c_str()), 1;
    }
    port = lobby->port();
    std::printf("chat: lobby listening on port %d\n", port);
  }

  net::LobbyClientConfig config;  // 127.0.0.1 unless told otherwise
  config.websocket.server_port = static_cast<std::uint16_t>(port);
  config.websocket.transport_security = security;
  config.websocket.tls.ca_file = ca;  // empty: the system's CA store
  auto client = net::LobbyClient::connect(config);
  if (!client) return std::fprintf(stderr, "chat: %s\n", client.error().c_str()), 1;
  net::LobbyClient& chat = **client;

  ConsoleInput input;
  std::optional<std::chrono::steady_clock::time_point> quit_at;
  // The frame loop of a game's menu.
  while (!quit_at || std::chrono::steady_clock::now() < *quit_at) {
    net::LobbyEvent event;
    while (chat.poll(event, std::chrono::milliseconds(10))) {
      switch (event.type) {
        case net::LobbyEventType::connected:
          chat.hello(name);
          break;
        case net::LobbyEventType::welcome:
          std::printf("chat: welcome, %s\n", chat.nickname().c_str());
          input.start();  // now there is someone to send lines to
          break;
        case net::LobbyEventType::chat:
          std::printf("%s: %s\n", event.chat.from_nickname.c_str(), event.chat.text.c_str());
          break;
        case net::LobbyEventType::reply:  // every request is answered, errors with a reason
          if (event.error != net::LobbyError::none)
            std::printf("chat: %s\n", event.error_message.c_str());
          break;
        case net::LobbyEventType::disconnected:
          std::printf("chat: disconnected (%s)\n", std::string(to_string(event.reason)).c_str());
          return 0;
        default:
          break;
      }
      std::fflush(stdout);
    }
    bool finished = false;
    for (std::string line; input.next(line, finished);)
      chat.chat(line, net::ChatScope::global);
    // Input is over: what was typed last still goes out before the connection closes.
    if (finished && !quit_at)
      quit_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  }
}
