// The floor: one plain datagram per message over a connected UDP socket on 127.0.0.1. No
// reliability, ordering or fragmentation, so every delivery kind is the same thing here; the
// table labels these rows as datagrams. A 16 KiB message is one 16 KiB datagram (the loopback
// MTU is 64 KiB), where ENet sends about a dozen MTU-sized fragments.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "endpoint.hpp"

namespace tickwire::bench {
namespace {

using std::chrono::milliseconds;

// The same socket buffer sizes ENet asks for (ENET_HOST_{RECEIVE,SEND}_BUFFER_SIZE), so the floor
// loses datagrams no sooner than ENet would.
constexpr int kSocketBufferBytes = 256 * 1024;
// Shorter than any benchmark message (their header alone is 16 bytes), so never mistaken for one.
constexpr std::byte kHello{0x48};
constexpr std::size_t kLargestDatagram = 65536;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Fails with a message, or gives a non-blocking UDP socket bound to 127.0.0.1 on any port.
net::Result<int> open_socket() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return net::Status::error(errno_text("raw UDP: socket"));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBufferBytes, sizeof kSocketBufferBytes);
  const sockaddr_in address = loopback(0);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return net::Status::error(errno_text("raw UDP: bind 127.0.0.1"));
  }
  return fd;
}

class RawUdpEndpoint final : public ServerEndpoint {
 public:
  enum class Role : std::uint8_t { server, client };

  RawUdpEndpoint(int fd, Role role) : fd_(fd), role_(role), buffer_(kLargestDatagram) {}
  ~RawUdpEndpoint() override { ::close(fd_); }
  RawUdpEndpoint(const RawUdpEndpoint&) = delete;
  RawUdpEndpoint& operator=(const RawUdpEndpoint&) = delete;

  // Client only: connects the socket to the server and says hello until the server answers, so
  // that the server knows where to send before the first measured message.
  net::Status connect(std::uint16_t port) {
    const sockaddr_in server = loopback(port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0) {
      return net::Status::error(errno_text("raw UDP: connect"));
    }
    const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      send_datagram({&kHello, 1});
      (void)receive(milliseconds(10));
      if (has_peer_) return {};
    }
    return net::Status::error("raw UDP client: the server never answered hello");
  }

  bool send(net::Channel /*channel*/, net::Delivery /*delivery*/,
            std::span<const std::byte> message) override {
    if (!has_peer_) return false;
    return send_datagram(message);
  }

  void flush() override {}  // every send() is already a datagram on the wire

  std::optional<std::span<const std::byte>> receive(milliseconds wait) override {
    bool waited = false;
    for (;;) {
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const ssize_t received = ::recvfrom(fd_, buffer_.data(), buffer_.size(), 0,
                                          reinterpret_cast<sockaddr*>(&from), &from_length);
      if (received < 0) {
        if (errno == EINTR) continue;
        // Anything else (EAGAIN, or ECONNREFUSED after the other end closed) means no message.
        if (errno != EAGAIN && errno != EWOULDBLOCK) return std::nullopt;
        if (waited || wait.count() <= 0) return std::nullopt;
        pollfd readable{fd_, POLLIN, 0};
        ::poll(&readable, 1, static_cast<int>(wait.count()));
        waited = true;
        continue;
      }
      const std::span<const std::byte> datagram(buffer_.data(), static_cast<std::size_t>(received));
      if (datagram.size() == 1 && datagram[0] == kHello) {
        on_hello(from);
        continue;
      }
      if (has_peer_) return datagram;
    }
  }

  WireTotals wire_sent() const override { return sent_; }

  std::uint16_t port() const override {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
  }

 private:
  void on_hello(const sockaddr_in& from) {
    if (role_ == Role::client) {
      has_peer_ = true;
      return;
    }
    // The server connects its socket to the first client that says hello: from then on the
    // kernel delivers only that client's datagrams, and send() needs no address.
    if (!has_peer_) {
      if (::connect(fd_, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) return;
      has_peer_ = true;
    }
    send_datagram({&kHello, 1});  // answered every time: the client may have missed one
  }

  bool send_datagram(std::span<const std::byte> datagram) {
    const ssize_t sent = ::send(fd_, datagram.data(), datagram.size(), 0);
    if (sent != static_cast<ssize_t>(datagram.size())) return false;
    sent_.bytes += datagram.size();
    ++sent_.datagrams;
    return true;
  }

  int fd_;
  Role role_;
  bool has_peer_ = false;
  std::vector<std::byte> buffer_;
  WireTotals sent_;
};

net::Result<std::unique_ptr<ServerEndpoint>> make_server() {
  auto fd = open_socket();
  if (!fd.ok()) return net::Status::error(fd.error());
  return std::unique_ptr<ServerEndpoint>(
      std::make_unique<RawUdpEndpoint>(*fd, RawUdpEndpoint::Role::server));
}

net::Result<std::unique_ptr<Endpoint>> make_client(std::uint16_t port) {
  auto fd = open_socket();
  if (!fd.ok()) return net::Status::error(fd.error());
  auto client = std::make_unique<RawUdpEndpoint>(*fd, RawUdpEndpoint::Role::client);
  if (net::Status status = client->connect(port); !status.ok()) return status;
  return std::unique_ptr<Endpoint>(std::move(client));
}

}  // namespace

TransportUnderTest raw_udp_transport() {
  return {"raw UDP", &make_server, &make_client};
}

}  // namespace tickwire::bench
