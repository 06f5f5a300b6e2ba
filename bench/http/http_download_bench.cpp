// HTTP download of a big replay from the lobby (GET /replays/NAME on its port, as curl or the
// client's replay list fetch it) against a minimal raw Boost.Beast file server sending the same
// file with http::file_body, in the same process, on loopback. Each round downloads the file from
// one and then the other with the same client (a plain socket reading into a large buffer, so the
// client costs both the same); the median rate of each and their ratio are printed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../tests/support/temp_directory.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kReplayName = "bench-download.twreplay";

// The baseline: Beast's advanced server example cut down to one GET of one file. One io thread;
// each connection reads a request and answers it with the file through http::file_body, then
// closes.
class RawBeastFileServer {
 public:
  explicit RawBeastFileServer(std::string path)
      : path_(std::move(path)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RawBeastFileServer() {
    io_.stop();
    thread_.join();
  }
  RawBeastFileServer(const RawBeastFileServer&) = delete;
  RawBeastFileServer& operator=(const RawBeastFileServer&) = delete;
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket socket, const std::string& file) : stream(std::move(socket)), path(file) {}
    void run() {
      http::async_read(stream, buffer, request,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) return;
                         self->answer();
                       });
    }
    void answer() {
      beast::error_code ec;
      http::file_body::value_type body;
      body.open(path.c_str(), beast::file_mode::scan, ec);
      if (ec) return;
      response.emplace(std::piecewise_construct, std::make_tuple(std::move(body)),
                       std::make_tuple(http::status::ok, request.version()));
      response->set(http::field::content_type, "application/octet-stream");
      response->keep_alive(false);
      response->prepare_payload();
      http::async_write(stream, *response,
                        [self = shared_from_this()](beast::error_code, std::size_t) {
                          beast::error_code ignored;
                          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        });
    }
    beast::tcp_stream stream;
    const std::string& path;
    beast::flat_buffer buffer;
    http::request<http::empty_body> request;
    std::optional<http::response<http::file_body>> response;
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), path_)->run();
      }
      accept();
    });
  }

  std::string path_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// Downloads http://127.0.0.1:port/replays/NAME and returns the body bytes received (0 on a
// failure or a status other than 200). The socket is read into 1 MiB at a time and discarded.
std::uint64_t download(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return 0;
  }
  const std::string request = std::string("GET /replays/") + kReplayName +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return 0;
  }
  std::vector<char> buffer(1 << 20);
  std::string head;
  std::uint64_t body = 0;
  bool in_body = false;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) break;
    if (in_body) {
      body += static_cast<std::uint64_t>(n);
      continue;
    }
    head.append(buffer.data(), static_cast<std::size_t>(n));
    const std::size_t end = head.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    if (head.rfind("HTTP/1.1 200", 0) != 0) break;
    in_body = true;
    body = head.size() - (end + 4);
  }
  ::close(fd);
  return in_body ? body : 0;
}

struct Rates {
  std::vector<double> lobby;
  std::vector<double> raw;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// MiB/s of one download, or a negative number if it did not bring the whole file.
double timed_download(std::uint16_t port, std::uint64_t size) {
  const auto start = Clock::now();
  const std::uint64_t got = download(port);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (got != size) return -1;
  return static_cast<double>(size) / (1024.0 * 1024.0) / seconds;
}

int run(std::size_t megabytes, int rounds) {
  // Removed when run() returns, after the servers that serve from it.
  const tickwire::test::TempDirectory directory("tickwire-bench-http");
  const fs::path& folder = directory.path();
  const fs::path file = folder / kReplayName;
  const std::uint64_t size = static_cast<std::uint64_t>(megabytes) * 1024 * 1024;
  {
    std::ofstream out(file, std::ios::binary);
    std::vector<char> block(1 << 20);
    for (std::size_t i = 0; i < block.size(); ++i)
      block[i] = static_cast<char>((i * 2654435761u) >> 13);
    for (std::size_t i = 0; i < megabytes; ++i)
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }

  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.bind_address = "127.0.0.1";
  config.websocket.port = 0;
  config.replay_directory = folder.string();
  config.http_burst = static_cast<std::size_t>(rounds) * 4 + 20;
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  if (const net::Status status = lobby.start(); !status.ok()) {
    std::fprintf(stderr, "lobby: %s\n", status.message().c_str());
    return 1;
  }
  RawBeastFileServer raw(file.string());

  // One download of each first, so that the file is in the page cache for both.
  (void)download(lobby.port());
  (void)download(raw.port());
  Rates rates;
  for (int round = 0; round < rounds; ++round) {
    const double from_lobby = timed_download(lobby.port(), size);
    const double from_raw = timed_download(raw.port(), size);
    if (from_lobby < 0 || from_raw < 0) {
      std::fprintf(stderr, "round %d: a download was incomplete (lobby %s, raw %s)\n", round,
                   from_lobby < 0 ? "short" : "ok", from_raw < 0 ? "short" : "ok");
      return 1;
    }
    rates.lobby.push_back(from_lobby);
    rates.raw.push_back(from_raw);
  }

  const double lobby_rate = median(rates.lobby);
  const double raw_rate = median(rates.raw);
  std::printf("HTTP download of a %zu MiB replay on loopback, median of %d rounds\n", megabytes,
              rounds);
  std::printf("  %-40s %10.0f MiB/s\n", "lobby GET /replays/NAME", lobby_rate);
  std::printf("  %-40s %10.0f MiB/s\n", "raw Beast http::file_body", raw_rate);
  std::printf("  ratio lobby / raw Beast: %.2fx (goal >= 0.80x)\n", lobby_rate / raw_rate);
  return 0;
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  CLI::App app{"Tickwire HTTP download benchmark: the lobby against a raw Beast file server"};
  std::size_t megabytes = 256;
  int rounds = 9;
  bool quick = false;
  app.add_option("--mib", megabytes, "size of the replay file, MiB")->capture_default_str();
  app.add_option("--rounds", rounds, "downloads from each server (the median is reported)")
      ->capture_default_str();
  app.add_flag("--quick", quick, "a smoke run: 8 MiB, 3 rounds");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    megabytes = 8;
    rounds = 3;
  }
  return tickwire::bench::run(megabytes, rounds);
}
