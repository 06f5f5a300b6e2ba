#pragma once
// Plain and raw UDP sockets for tests that play an attacker: a socket bound to any 127.x.y.z
// address, and a raw IPv4 socket that writes its own headers to spoof a source address and port
// (root only). Loopback only.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tickwire::test {

struct UdpAddress {
  std::uint32_t ip = 0;    // network order
  std::uint16_t port = 0;  // host order
  bool operator==(const UdpAddress&) const = default;
};

inline UdpAddress loopback(std::uint16_t port, const char* ip = "127.0.0.1") {
  UdpAddress address;
  inet_pton(AF_INET, ip, &address.ip);
  address.port = port;
  return address;
}

class UdpSocket {
 public:
  // Bound to `ip`:`port` (0: any free port).
  explicit UdpSocket(const char* ip = "127.0.0.1", std::uint16_t port = 0) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    inet_pton(AF_INET, ip, &local.sin_addr);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0;
  }
  ~UdpSocket() { close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  bool bound() const { return bound_; }
  UdpAddress address() const {
    sockaddr_in local{};
    socklen_t size = sizeof local;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &size);
    return {local.sin_addr.s_addr, ntohs(local.sin_port)};
  }
  void send_to(const UdpAddress& to, std::span<const std::uint8_t> bytes) const {
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = to.ip;
    target.sin_port = htons(to.port);
    sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&target),
           sizeof target);
  }
  // A datagram that has arrived, waiting at most `wait_ms`.
  std::optional<std::vector<std::uint8_t>> receive(UdpAddress& from, int wait_ms = 0) const {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, wait_ms) <= 0) return std::nullopt;
    std::vector<std::uint8_t> bytes(65536);
    sockaddr_in source{};
    socklen_t size = sizeof source;
    const ssize_t got =
        recvfrom(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&source), &size);
    if (got < 0) return std::nullopt;
    bytes.resize(static_cast<std::size_t>(got));
    from = {source.sin_addr.s_addr, ntohs(source.sin_port)};
    return bytes;
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

// Sends UDP datagrams with any source address and port: IPv4 and UDP headers written by hand.
class SpoofingSocket {
 public:
  SpoofingSocket() {
    fd_ = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd_ >= 0) {
      const int on = 1;
      setsockopt(fd_, IPPROTO_IP, IP_HDRINCL, &on, sizeof on);
    }
  }
  ~SpoofingSocket() {
    if (fd_ >= 0) close(fd_);
  }
  SpoofingSocket(const SpoofingSocket&) = delete;
  SpoofingSocket& operator=(const SpoofingSocket&) = delete;

  // False without CAP_NET_RAW (not root).
  bool usable() const { return fd_ >= 0; }

  bool send(const UdpAddress& from, const UdpAddress& to, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> packet(sizeof(iphdr) + sizeof(udphdr) + payload.size());
    iphdr ip{};
    ip.version = 4;
    ip.ihl = 5;
    ip.ttl = 64;
    ip.protocol = IPPROTO_UDP;
    ip.tot_len = htons(static_cast<std::uint16_t>(packet.size()));
    ip.saddr = from.ip;
    ip.daddr = to.ip;  // the kernel fills in the header checksum
    udphdr udp{};
    udp.source = htons(from.port);
    udp.dest = htons(to.port);
    udp.len = htons(static_cast<std::uint16_t>(sizeof(udphdr) + payload.size()));
    udp.check = 0;  // optional over IPv4
    std::memcpy(packet.data(), &ip, sizeof ip);
    std::memcpy(packet.data() + sizeof ip, &udp, sizeof udp);
    std::memcpy(packet.data() + sizeof ip + sizeof udp, payload.data(), payload.size());
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = to.ip;
    return sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                  sizeof target) == static_cast<ssize_t>(packet.size());
  }

 private:
  int fd_ = -1;
};

}  // namespace tickwire::test
