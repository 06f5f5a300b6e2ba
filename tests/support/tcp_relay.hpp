#pragma once
// A man in the middle of WebSocket connections on loopback: it relays TCP both ways, records what
// an observer on the path would read (client frames unmasked, since masking hides nothing from an
// observer who reads the mask key), and can alter the next binary message a client sends, as an
// active attacker on the path would. POSIX sockets and one thread, so tests using it compile no
// Asio.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tickwire::test {

class TcpRelay {
 public:
  // Listens on 127.0.0.1 (any free port) and relays every connection to 127.0.0.1:`target_port`.
  explicit TcpRelay(std::uint16_t target_port) : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 8) != 0) {
      return;
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TcpRelay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (Pair& pair : pairs_) {
      ::close(pair.client);
      ::close(pair.server);
    }
    ::close(listener_);
  }
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const { return port_; }
  // Everything the server sent, and the payloads of the client's frames, as an observer reads
  // them.
  std::string seen_from_server() const {
    const std::lock_guard lock(mutex_);
    return from_server_;
  }
  std::string seen_from_client() const {
    const std::lock_guard lock(mutex_);
    return from_client_;
  }
  // Flips one bit in the last payload byte of the next binary frame a client sends.
  void alter_next_client_message() { alter_ = true; }
  bool altered_one() const { return altered_; }

 private:
  struct Pair {
    int client;
    int server;
    std::string pending;  // client bytes not yet a whole frame
    bool closed = false;
  };

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      std::vector<Pair*> open;
      for (Pair& pair : pairs_) {
        if (pair.closed) continue;
        open.push_back(&pair);
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.server, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
      for (std::size_t i = 0; i < open.size(); ++i) {
        if ((fds[1 + 2 * i].revents & kReadable) != 0) relay_from_client(*open[i]);
        if (!open[i]->closed && (fds[2 + 2 * i].revents & kReadable) != 0) {
          relay_from_server(*open[i]);
        }
      }
      if ((fds[0].revents & POLLIN) != 0) accept_one();
    }
  }

  void accept_one() {
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in target = loopback(target_port_);
    if (::connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    pairs_.push_back({client, server, {}});
  }

  static void close_pair(Pair& pair) {
    ::shutdown(pair.client, SHUT_RDWR);
    ::shutdown(pair.server, SHUT_RDWR);
    pair.closed = true;
  }

  void relay_from_server(Pair& pair) {
    char buffer[16384];
    const ssize_t n = ::recv(pair.server, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n <= 0) return close_pair(pair);
    {
      const std::lock_guard lock(mutex_);
      from_server_.append(buffer, static_cast<std::size_t>(n));
    }
    ::send(pair.client, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
  }

  // Client frames are forwarded whole, so that one can be altered and its payload recorded
  // unmasked. Until the upgrade is done the bytes are HTTP: forwarded as they come.
  void relay_from_client(Pair& pair) {
    char buffer[16384];
    const ssize_t n = ::recv(pair.client, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n <= 0) return close_pair(pair);
    pair.pending.append(buffer, static_cast<std::size_t>(n));
    if (pair.pending.rfind("GET ", 0) == 0) {
      const std::size_t end = pair.pending.find("\r\n\r\n");
      if (end == std::string::npos) return;
      forward(pair, end + 4);
    }
    while (const std::size_t size = whole_frame(pair.pending)) {
      record_and_maybe_alter(pair.pending, size);
      forward(pair, size);
    }
  }

  void forward(Pair& pair, std::size_t size) {
    ::send(pair.server, pair.pending.data(), size, MSG_NOSIGNAL);
    pair.pending.erase(0, size);
  }

  // The size of the masked client frame at the start of `bytes`, or 0 if it is not all there.
  static std::size_t whole_frame(const std::string& bytes) {
    if (bytes.size() < 2) return 0;
    std::uint64_t length = static_cast<std::uint8_t>(bytes[1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (bytes.size() < 4) return 0;
      length = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) |
               static_cast<std::uint8_t>(bytes[3]);
      header = 4;
    } else if (length == 127) {
      if (bytes.size() < 10) return 0;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
      header = 10;
    }
    header += 4;  // the mask key
    return bytes.size() >= header + length ? header + static_cast<std::size_t>(length) : 0;
  }

  void record_and_maybe_alter(std::string& bytes, std::size_t size) {
    const std::size_t length_field = static_cast<std::uint8_t>(bytes[1]) & 0x7f;
    const std::size_t header = (length_field == 126 ? 4 : length_field == 127 ? 10 : 2) + 4;
    const char* mask = bytes.data() + header - 4;
    std::string payload;
    for (std::size_t i = header; i < size; ++i)
      payload += static_cast<char>(bytes[i] ^ mask[(i - header) % 4]);
    {
      const std::lock_guard lock(mutex_);
      from_client_ += payload;
    }
    const bool binary = (static_cast<std::uint8_t>(bytes[0]) & 0x0f) == 0x2;
    if (binary && size > header && alter_.exchange(false)) {
      bytes[size - 1] = static_cast<char>(bytes[size - 1] ^ 0x01);
      altered_ = true;
    }
  }

  std::uint16_t target_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<Pair> pairs_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> alter_{false};
  std::atomic<bool> altered_{false};
  mutable std::mutex mutex_;
  std::string from_server_;
  std::string from_client_;
};

}  // namespace tickwire::test
