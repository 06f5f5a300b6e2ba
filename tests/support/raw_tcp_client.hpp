#pragma once
// A bare TCP client for what a well-behaved client never does: stall, send half a handshake,
// send broken frames, never read. POSIX sockets, so tests using it compile no Asio.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace tickwire::test {

class RawTcpClient {
 public:
  // Connects to 127.0.0.1:`port`; `receive_buffer` > 0 shrinks the socket's receive buffer first.
  // With `source_address` (another loopback address, "127.0.0.2") the connection comes from it,
  // as a second visitor's would.
  explicit RawTcpClient(std::uint16_t port, int receive_buffer = 0,
                        const char* source_address = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    if (source_address != nullptr) {
      sockaddr_in source{};
      source.sin_family = AF_INET;
      ::inet_pton(AF_INET, source_address, &source.sin_addr);
      if (::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) return;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawTcpClient() { ::close(fd_); }
  RawTcpClient(const RawTcpClient&) = delete;
  RawTcpClient& operator=(const RawTcpClient&) = delete;

  bool connected() const { return connected_; }
  bool send_bytes(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Appends what arrives to received() until `done(received())`, the end of the stream (or a
  // reset) or `timeout`. Returns done().
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(received_) && !closed_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd ready{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed_ = true;
        reset_ = n < 0 && errno == ECONNRESET;
        break;
      }
      received_.append(buffer, static_cast<std::size_t>(n));
    }
    return done(received_);
  }
  // Reads until `terminator` has arrived, the server closes, or `timeout` passes; returns what
  // was received and forgets it, so the next read starts afresh.
  std::string take_until(std::string_view terminator, std::chrono::milliseconds timeout) {
    read_until([&](const std::string& r) { return r.find(terminator) != std::string::npos; },
               timeout);
    return std::exchange(received_, {});
  }
  // True if the server closes the connection (end of stream or reset) before `timeout`.
  bool closed_by_server_within(std::chrono::milliseconds timeout) {
    read_until([](const std::string&) { return false; }, timeout);
    return closed_;
  }

  bool closed() const { return closed_; }
  // The server reset the connection instead of closing it: unread data was lost.
  bool reset() const { return reset_; }
  const std::string& received() const { return received_; }
  void consume(std::size_t bytes) { received_.erase(0, bytes); }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  bool reset_ = false;
  std::string received_;
};

}  // namespace tickwire::test
