// LAN beacons: a broadcast UDP socket on the server, a listening one on the client.

#include "tickwire/net/lan_discovery.hpp"

#include <arpa/inet.h>
#include <flatbuffers/flatbuffers.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>

#include <tickwire/schemas/discovery_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

namespace tickwire::net {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxBeaconBytes = 512;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

class BeaconSender final : public LanBeacon {
 public:
  BeaconSender(const LanBeaconConfig& config, int fd, sockaddr_in to)
      : config_(config), socket_(fd), to_(to) {}

  void announce(const ServerAnnouncement& announcement) override {
    announcement_ = announcement;
    announcement_.name.resize(std::min(announcement_.name.size(), kMaxName));
  }

  void poll() override {
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::milliseconds(config_.interval_ms);
    flatbuffers::FlatBufferBuilder builder(128);
    const auto name = builder.CreateString(announcement_.name);
    builder.Finish(schemas::CreateServerBeacon(builder, config_.protocol_id, name,
                                               announcement_.players, announcement_.max_players,
                                               announcement_.game_port, announcement_.lobby_port));
    // A beacon that cannot go out (no route, a full buffer) is simply missed; the next one
    // follows in a second.
    if (sendto(socket_.fd(), builder.GetBufferPointer(), builder.GetSize(), 0,
               reinterpret_cast<const sockaddr*>(&to_), sizeof to_) > 0) {
      ++sent_;
    }
  }

  std::uint64_t beacons_sent() const override { return sent_; }

 private:
  LanBeaconConfig config_;
  Socket socket_;
  sockaddr_in to_;
  ServerAnnouncement announcement_;
  Clock::time_point next_ = Clock::now();
  std::uint64_t sent_ = 0;
};

class BeaconListener final : public LanBrowser {
 public:
  BeaconListener(const LanBrowserConfig& config, int fd) : config_(config), socket_(fd) {}

  void poll() override {
    std::uint8_t buffer[kMaxBeaconBytes + 1];
    for (;;) {
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t size = recvfrom(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT,
                                    reinterpret_cast<sockaddr*>(&from), &length);
      if (size < 0) break;
      ++counters_.beacons;
      take(std::as_bytes(std::span(buffer, static_cast<std::size_t>(size))), from);
    }
    const auto now = Clock::now();
    std::erase_if(heard_, [&](const Heard& h) {
      return now - h.at > std::chrono::milliseconds(config_.expiry_ms);
    });
  }

  std::vector<DiscoveredServer> servers() const override {
    std::vector<Heard> sorted = heard_;
    std::sort(sorted.begin(), sorted.end(),
              [](const Heard& a, const Heard& b) { return a.at > b.at; });
    std::vector<DiscoveredServer> out;
    for (const Heard& h : sorted)
      out.push_back(h.server);
    return out;
  }
  LanBrowserCounters counters() const override { return counters_; }

 private:
  struct Heard {
    DiscoveredServer server;
    Clock::time_point at;
  };

  void take(std::span<const std::byte> bytes, const sockaddr_in& from) {
    if (bytes.size() > kMaxBeaconBytes) {
      ++counters_.malformed;
      return;
    }
    const schemas::AlignedView view(bytes);
    flatbuffers::Verifier verifier(view.data(), view.size(), 4, 4);
    if (!schemas::VerifyServerBeaconBuffer(verifier)) {
      ++counters_.malformed;
      return;
    }
    const schemas::ServerBeacon* beacon = schemas::GetServerBeacon(view.data());
    if (beacon->protocol_id() != config_.protocol_id) {
      ++counters_.other_protocol;
      return;
    }
    const std::size_t name_size = beacon->name() != nullptr ? beacon->name()->size() : 0;
    if (name_size > kMaxName || beacon->game_port() == 0) {
      ++counters_.malformed;
      return;
    }
    char address[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &from.sin_addr, address, sizeof address);
    DiscoveredServer server{
        address,
        {name_size > 0 ? beacon->name()->str() : std::string(), beacon->players(),
         beacon->max_players(), beacon->game_port(), beacon->lobby_port()}};
    // One entry per server: its address and game port.
    const auto same = std::find_if(heard_.begin(), heard_.end(), [&](const Heard& h) {
      return h.server.address == server.address &&
             h.server.announcement.game_port == server.announcement.game_port;
    });
    if (same != heard_.end()) {
      *same = {std::move(server), Clock::now()};
    } else if (heard_.size() < config_.max_servers) {
      heard_.push_back({std::move(server), Clock::now()});
    } else {
      ++counters_.over_capacity;
    }
  }

  LanBrowserConfig config_;
  Socket socket_;
  std::vector<Heard> heard_;
  LanBrowserCounters counters_;
};

}  // namespace

Status LanBeaconConfig::validate() const {
  in_addr address{};
  if (inet_pton(AF_INET, broadcast_address.c_str(), &address) != 1) {
    return Status::error("broadcast_address '" + broadcast_address + "' is not an IPv4 address");
  }
  if (discovery_port == 0) return Status::error("discovery_port = 0 is invalid: use 1..65535");
  if (interval_ms < 100) {
    return Status::error("interval_ms = " + std::to_string(interval_ms) +
                         " is invalid: use >= 100");
  }
  return {};
}

Status LanBrowserConfig::validate() const {
  if (discovery_port == 0) return Status::error("discovery_port = 0 is invalid: use 1..65535");
  if (expiry_ms == 0) return Status::error("expiry_ms = 0 is invalid: use > 0");
  if (max_servers == 0) return Status::error("max_servers = 0 is invalid: use >= 1");
  return {};
}

Result<std::unique_ptr<LanBeacon>> LanBeacon::start(const LanBeaconConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Status::error(std::string("cannot open a UDP socket: ") + std::strerror(errno));
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &yes, sizeof yes);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(config.discovery_port);
  inet_pton(AF_INET, config.broadcast_address.c_str(), &to.sin_addr);
  return std::unique_ptr<LanBeacon>(std::make_unique<BeaconSender>(config, fd, to));
}

Result<std::unique_ptr<LanBrowser>> LanBrowser::start(const LanBrowserConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Status::error(std::string("cannot open a UDP socket: ") + std::strerror(errno));
  // Several clients on one machine (a play test) all listen on the discovery port.
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(config.discovery_port);
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return Status::error("cannot listen for LAN beacons on UDP port " +
                         std::to_string(config.discovery_port) + ": " + why);
  }
  return std::unique_ptr<LanBrowser>(std::make_unique<BeaconListener>(config, fd));
}

}  // namespace tickwire::net
