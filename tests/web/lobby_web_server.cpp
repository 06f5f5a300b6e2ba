// A lobby for the web tests (lobby_page.test.mjs, lobby_close_codes.test.mjs): serves game-demo/web
// over TLS (https://, wss://) on 127.0.0.1 with a certificate it makes at start (for 127.0.0.1 and
// localhost, signed by a CA of its own), allows the page's own origin, prints "ca file PATH" (that
// CA, for clients that verify) and "listening on PORT", and runs until its stdin closes or it
// receives SIGTERM (or SIGINT), then stops cleanly.
//   tickwire_lobby_web_server [WEB_ROOT]   (default: the source tree's game-demo/web)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdlib>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "../support/test_certificates.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) {
  g_stop.store(true);
}

// A free loopback port. The lobby's allowed origin must name the port, so it is picked before the
// lobby starts rather than read back after binding port 0; start() is retried if another process
// takes the port in between.
std::optional<std::uint16_t> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  std::optional<std::uint16_t> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// Returns when stdin reaches its end (or fails) or a stop signal has arrived.
void wait_for_stop() {
  char buffer[256];
  while (!g_stop.load()) {
    pollfd input{STDIN_FILENO, POLLIN, 0};
    // A short timeout instead of a self-pipe: a signal that lands just before poll() is then
    // noticed within 200 ms.
    const int ready = ::poll(&input, 1, 200);
    if (ready < 0) continue;  // EINTR: the loop checks the flag
    if (ready == 0) continue;
    const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (got <= 0) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tickwire::net;
  const std::string web_root = argc > 1 ? argv[1] : TICKWIRE_WEB_ROOT;

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const JoinTicketIssuer tickets = JoinTicketIssuer::generate();
  const tickwire::test::TestCertificates certificates;
  std::optional<LobbyServer> lobby;
  std::string last_error = "no free port on 127.0.0.1";
  for (int attempt = 0; attempt < 5 && !lobby; ++attempt) {
    const std::optional<std::uint16_t> port = free_loopback_port();
    if (!port) continue;
    LobbyConfig config;
    config.websocket.tls.certificate_chain_file = certificates.chain_file();
    config.websocket.tls.private_key_file = certificates.key_file();
    config.websocket.bind_address = "127.0.0.1";
    config.websocket.port = *port;
    // The page is served by this lobby, so the browser's Origin is the lobby's own address.
    config.websocket.allowed_origins = {"https://127.0.0.1:" + std::to_string(*port)};
    config.web_root = web_root;
    // The page's list of recorded matches reads this folder (GET /api/replays).
    if (const char* replays = std::getenv("TICKWIRE_REPLAY_DIR")) config.replay_directory = replays;
    // And its list of the server's files reads this one (GET /api/files).
    if (const char* files = std::getenv("TICKWIRE_FILES_DIR")) config.files_directory = files;
    // Tests shorten the Hello deadline to see an idle page closed and coming back.
    if (const char* hello_timeout = std::getenv("TICKWIRE_HELLO_TIMEOUT_MS")) {
      config.hello_timeout_ms =
          static_cast<std::uint32_t>(std::strtoul(hello_timeout, nullptr, 10));
    }
    lobby.emplace(std::move(config), tickets);
    const Status status = lobby->start();
    if (!status.ok()) {
      last_error = status.message();
      lobby.reset();
    }
  }
  if (!lobby) {
    std::fprintf(stderr, "tickwire_lobby_web_server: cannot start the lobby: %s\n",
                 last_error.c_str());
    return 1;
  }

  std::printf("ca file %s\nlistening on %u\n", certificates.ca_file().c_str(),
              static_cast<unsigned>(lobby->port()));
  std::fflush(stdout);
  std::fprintf(stderr, "tickwire_lobby_web_server: https://127.0.0.1:%u/ serving %s\n",
               static_cast<unsigned>(lobby->port()), web_root.c_str());

  wait_for_stop();
  lobby->stop();
  return 0;
}
