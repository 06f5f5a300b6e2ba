// LAN beacons: a broadcast UDP socket on the server, a listening one on the client. The browser
// checks each beacon (discovery/beacon_codec.hpp), its age, and the name's pinned key
// (discovery/server_pins.hpp), and keeps the servers it heard most recently.

#include "tickwire/net/lan_discovery.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>
#include <tuple>

#include "discovery/beacon_codec.hpp"
#include "discovery/server_pins.hpp"
#include "sodium_ready.hpp"
#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net {
namespace {

using discovery_detail::BeaconError;
using discovery_detail::BeaconFields;
using discovery_detail::kMaxBeaconBytes;
using discovery_detail::kMaxNameBytes;
using discovery_detail::ReadBeacon;
using discovery_detail::ServerPins;
using Clock = std::chrono::steady_clock;

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
    std::string& name = announcement_.name;
    name.resize(std::min(name.size(), kMaxNameBytes));
    // Browsers refuse names with control characters: a list shows them badly, and a pin file
    // line cannot hold a line break.
    std::replace_if(
        name.begin(), name.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, ' ');
  }

  void poll() override {
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::milliseconds(config_.interval_ms);
    const BeaconFields fields{config_.protocol_id, announcement_, config_.host, unix_time_ms(),
                              sequence_++};
    const std::vector<std::byte> beacon =
        discovery_detail::encode_beacon(fields, config_.identity ? &*config_.identity : nullptr);
    // A beacon that cannot go out (no route, a full buffer) is simply missed; the next one
    // follows in a second.
    if (sendto(socket_.fd(), beacon.data(), beacon.size(), 0,
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
  std::uint64_t sequence_ = 0;
  std::uint64_t sent_ = 0;
};

class BeaconListener final : public LanBrowser {
 public:
  BeaconListener(const LanBrowserConfig& config, int fd, ServerPins pins)
      : config_(config), socket_(fd), pins_(std::move(pins)) {}

  void poll() override {
    std::uint8_t buffer[kMaxBeaconBytes + 1];
    for (std::size_t read = 0; read < config_.max_beacons_per_poll; ++read) {
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
    std::vector<const Heard*> sorted;
    for (const Heard& h : heard_)
      sorted.push_back(&h);
    std::sort(sorted.begin(), sorted.end(),
              [](const Heard* a, const Heard* b) { return a->at > b->at; });
    std::vector<DiscoveredServer> out;
    for (const Heard* h : sorted)
      out.push_back(h->server);
    return out;
  }

  LanBrowserCounters counters() const override { return counters_; }

  Status pin(const DiscoveredServer& server) override {
    if (config_.pin_file.empty()) return Status::error("no pin_file is configured");
    if (!server.verified) {
      return Status::error("server '" + server.announcement.name +
                           "' cannot be pinned: its beacons are not signed");
    }
    const std::string& name = server.announcement.name;
    if (const ServerPublicKey* pinned = pins_.key_for(name);
        pinned != nullptr && *pinned == server.public_key) {
      return {};
    }
    ServerPins updated = pins_;
    if (Status added = updated.add(name, server.public_key); !added.ok()) return added;
    if (Status saved = updated.save(config_.pin_file); !saved.ok()) return saved;
    pins_ = std::move(updated);
    // Listed servers of that name with another key are impostors from now on.
    std::erase_if(heard_, [&](const Heard& h) {
      return h.server.announcement.name == name && h.server.public_key != server.public_key;
    });
    for (Heard& h : heard_) {
      if (h.server.announcement.name == name) h.server.pinned = true;
    }
    return {};
  }

 private:
  struct Heard {
    DiscoveredServer server;
    Clock::time_point at;
    // The last beacon listed for this server, to refuse older ones (replays).
    std::uint64_t sent_unix_ms;
    std::uint64_t sequence;
  };

  void take(std::span<const std::byte> bytes, const sockaddr_in& from) {
    auto read = discovery_detail::read_beacon(bytes, config_.protocol_id);
    if (const auto* error = std::get_if<BeaconError>(&read)) {
      ++(*error == BeaconError::other_protocol ? counters_.other_protocol : counters_.malformed);
      return;
    }
    ReadBeacon& beacon = std::get<ReadBeacon>(read);
    if (!beacon.is_signed && !config_.accept_unsigned) {
      ++counters_.unsigned_beacons;
      return;
    }
    // The cheap checks first: a flood of stale beacons or impostors costs no signature check.
    const std::uint64_t now = unix_time_ms();
    const std::uint64_t sent = beacon.fields.sent_unix_ms;
    if ((sent > now ? sent - now : now - sent) > config_.max_clock_skew_ms) {
      ++counters_.stale;
      return;
    }
    const ServerPublicKey* pinned = pins_.key_for(beacon.fields.announcement.name);
    if (pinned != nullptr && (!beacon.is_signed || *pinned != beacon.public_key)) {
      ++counters_.impostors;
      return;
    }
    DiscoveredServer server;
    if (beacon.fields.host.empty()) {
      char address[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &from.sin_addr, address, sizeof address);
      server.address = address;
    } else {
      server.address = beacon.fields.host;
    }
    server.announcement = std::move(beacon.fields.announcement);
    server.verified = beacon.is_signed;
    server.public_key = beacon.public_key;
    server.pinned = pinned != nullptr;
    // One entry per server: its key, address and game port.
    const auto same = std::find_if(heard_.begin(), heard_.end(), [&](const Heard& h) {
      return h.server.verified == server.verified && h.server.public_key == server.public_key &&
             h.server.address == server.address &&
             h.server.announcement.game_port == server.announcement.game_port;
    });
    if (same != heard_.end() &&
        std::tie(sent, beacon.fields.sequence) <= std::tie(same->sent_unix_ms, same->sequence)) {
      ++counters_.replayed;
      return;
    }
    if (beacon.is_signed && !discovery_detail::signature_valid(beacon)) {
      ++counters_.bad_signature;
      return;
    }
    Heard heard{std::move(server), Clock::now(), sent, beacon.fields.sequence};
    if (same != heard_.end()) {
      *same = std::move(heard);
      return;
    }
    if (heard_.size() >= config_.max_servers) {
      // Make room: the server heard least recently goes, a pinned one only when all are. A real
      // server keeps being heard, so fakes that flood the list push out each other.
      const auto victim =
          std::min_element(heard_.begin(), heard_.end(), [](const Heard& a, const Heard& b) {
            return std::tie(a.server.pinned, a.at) < std::tie(b.server.pinned, b.at);
          });
      heard_.erase(victim);
      ++counters_.evicted;
    }
    heard_.push_back(std::move(heard));
  }

  LanBrowserConfig config_;
  Socket socket_;
  ServerPins pins_;
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
  if (!host.empty() && inet_pton(AF_INET, host.c_str(), &address) != 1) {
    return Status::error("host '" + host + "' is not an IPv4 address: leave it empty to let " +
                         "browsers use the sender's address");
  }
  if (identity) {
    ensure_sodium();
    ServerPublicKey derived{};
    crypto_sign_ed25519_sk_to_pk(derived.data(), identity->secret_key.data());
    if (derived != identity->public_key) {
      return Status::error(
          "identity: the public key is not the secret key's: build it with "
          "ServerIdentity::generate() or from_secret_key()");
    }
  }
  return {};
}

Status LanBrowserConfig::validate() const {
  if (discovery_port == 0) return Status::error("discovery_port = 0 is invalid: use 1..65535");
  if (expiry_ms == 0) return Status::error("expiry_ms = 0 is invalid: use > 0");
  if (max_servers == 0) return Status::error("max_servers = 0 is invalid: use >= 1");
  if (max_clock_skew_ms < 1000) {
    return Status::error("max_clock_skew_ms = " + std::to_string(max_clock_skew_ms) +
                         " is invalid: use >= 1000 (clocks on a LAN disagree)");
  }
  if (max_beacons_per_poll == 0) {
    return Status::error("max_beacons_per_poll = 0 is invalid: use >= 1");
  }
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
  ensure_sodium();
  Result<ServerPins> pins = ServerPins{};
  if (!config.pin_file.empty()) {
    pins = ServerPins::load(config.pin_file);
    if (!pins) return Status::error(pins.error());
  }
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
  return std::unique_ptr<LanBrowser>(
      std::make_unique<BeaconListener>(config, fd, std::move(pins.value())));
}

}  // namespace tickwire::net
