// The relay thread: receive from clients and server, let a LinkShaper decide each datagram's
// fate, hold it until due, send it on.

#include "tickwire/net/udp_link_simulator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "conditions/link_shaper.hpp"

namespace tickwire::net {
namespace {

using conditions_detail::Fate;
using conditions_detail::LinkShaper;

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::optional<sockaddr_in> ipv4(const std::string& address, std::uint16_t port) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &out.sin_addr) != 1) return std::nullopt;
  return out;
}

bool same_address(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

int open_udp_socket(const sockaddr_in& bind_to) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&bind_to), sizeof bind_to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class UdpLinkSimulatorImpl final : public UdpLinkSimulator {
 public:
  UdpLinkSimulatorImpl(const UdpLinkSimulatorConfig& config, int listen_fd, sockaddr_in target,
                       int wake_fd)
      : config_(config),
        listen_fd_(listen_fd),
        target_(target),
        wake_fd_(wake_fd),
        to_server_(config.conditions.client_to_server, config.conditions.seed),
        to_clients_(config.conditions.server_to_client,
                    config.conditions.seed ^ 0x9E3779B97F4A7C15ull) {
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~UdpLinkSimulatorImpl() override {
    stop_.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = write(wake_fd_, &one, sizeof one);
    thread_.join();
    for (const ClientLink& client : clients_)
      close(client.upstream_fd);
    close(listen_fd_);
    close(wake_fd_);
  }

  std::uint16_t port() const override { return port_; }

  void set_conditions(const NetworkConditions& conditions) override {
    std::lock_guard lock(pending_mutex_);
    pending_conditions_ = conditions;
  }

  UdpLinkSimulatorCounters counters() const override {
    UdpLinkSimulatorCounters out;
    out.forwarded_to_server = forwarded_to_server_.load();
    out.forwarded_to_clients = forwarded_to_clients_.load();
    out.dropped = dropped_.load();
    out.duplicated = duplicated_.load();
    out.reordered = reordered_.load();
    out.overflowed = overflowed_.load();
    out.idle_clients_forgotten = idle_clients_forgotten_.load();
    out.clients_replaced = clients_replaced_.load();
    return out;
  }

 private:
  struct ClientLink {
    std::uint64_t id;  // never reused, unlike the socket number
    sockaddr_in address;
    int upstream_fd;
    std::uint64_t last_heard_us;
  };
  struct Held {
    std::uint64_t due_us;
    std::uint64_t order;  // keeps datagrams due at the same time in arrival order
    // To the server: the client whose upstream socket sends it (gone by then: not sent).
    std::uint64_t client_id;
    sockaddr_in to;
    std::vector<std::uint8_t> bytes;
    bool to_server;
  };
  struct DueLater {
    bool operator()(const Held& a, const Held& b) const {
      return a.due_us != b.due_us ? a.due_us > b.due_us : a.order > b.order;
    }
  };

  void run() {
    std::vector<std::uint8_t> buffer(65536);
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> polled_clients;  // the client of each upstream socket polled
    while (!stop_.load()) {
      take_new_conditions();
      send_due(now_us());
      forget_idle_clients(now_us());
      fds.clear();
      polled_clients.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (const ClientLink& client : clients_) {
        fds.push_back({client.upstream_fd, POLLIN, 0});
        polled_clients.push_back(client.id);
      }
      timespec timeout{0, 50'000'000};
      if (!held_.empty()) {
        const std::uint64_t now = now_us();
        const std::uint64_t wait_us = held_.top().due_us > now ? held_.top().due_us - now : 0;
        timeout = {static_cast<time_t>(wait_us / 1'000'000),
                   static_cast<long>((wait_us % 1'000'000) * 1000)};
      }
      if (ppoll(fds.data(), fds.size(), &timeout, nullptr) <= 0) continue;
      // Clients may come and go while their datagrams are read: the server's answers are read
      // by client id, not by position.
      if ((fds[1].revents & POLLIN) != 0) receive_from_clients(buffer);
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        if (const ClientLink* client = find_client(polled_clients[i - 2])) {
          receive_from_server(*client, buffer);
        }
      }
    }
  }

  void take_new_conditions() {
    std::lock_guard lock(pending_mutex_);
    if (!pending_conditions_) return;
    to_server_.set_conditions(pending_conditions_->client_to_server);
    to_clients_.set_conditions(pending_conditions_->server_to_client);
    pending_conditions_.reset();
  }

  void receive_from_clients(std::vector<std::uint8_t>& buffer) {
    for (;;) {
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const ssize_t size = recvfrom(listen_fd_, buffer.data(), buffer.size(), 0,
                                    reinterpret_cast<sockaddr*>(&from), &from_length);
      if (size < 0) return;
      ClientLink* client = client_for(from);
      if (client == nullptr) {
        ++overflowed_;
        continue;
      }
      client->last_heard_us = now_us();
      hold(to_server_, client->id, target_, buffer.data(), static_cast<std::size_t>(size), true);
    }
  }

  void receive_from_server(const ClientLink& client, std::vector<std::uint8_t>& buffer) {
    for (;;) {
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const ssize_t size = recvfrom(client.upstream_fd, buffer.data(), buffer.size(), 0,
                                    reinterpret_cast<sockaddr*>(&from), &from_length);
      if (size < 0) return;
      if (!same_address(from, target_)) continue;  // only the server's datagrams are relayed back
      hold(to_clients_, client.id, client.address, buffer.data(), static_cast<std::size_t>(size),
           false);
    }
  }

  ClientLink* find_client(std::uint64_t id) {
    for (ClientLink& client : clients_) {
      if (client.id == id) return &client;
    }
    return nullptr;
  }

  void forget_client(std::vector<ClientLink>::iterator client) {
    close(client->upstream_fd);
    clients_.erase(client);
  }

  void forget_idle_clients(std::uint64_t now) {
    const std::uint64_t timeout_us = std::uint64_t{config_.idle_timeout_ms} * 1000;
    idle_clients_forgotten_ += std::erase_if(clients_, [&](const ClientLink& client) {
      if (now - client.last_heard_us < timeout_us) return false;
      close(client.upstream_fd);
      return true;
    });
  }

  ClientLink* client_for(const sockaddr_in& from) {
    std::size_t same_host = 0;
    auto least_recent_of_host = clients_.end();
    for (auto client = clients_.begin(); client != clients_.end(); ++client) {
      if (same_address(client->address, from)) return &*client;
      if (client->address.sin_addr.s_addr != from.sin_addr.s_addr) continue;
      ++same_host;
      if (least_recent_of_host == clients_.end() ||
          client->last_heard_us < least_recent_of_host->last_heard_us) {
        least_recent_of_host = client;
      }
    }
    if (same_host >= config_.max_clients_per_address) {
      forget_client(least_recent_of_host);
      ++clients_replaced_;
    } else if (clients_.size() >= config_.max_clients) {
      return nullptr;
    }
    sockaddr_in any_port{};
    any_port.sin_family = AF_INET;
    any_port.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (target_.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) any_port.sin_addr.s_addr = INADDR_ANY;
    const int fd = open_udp_socket(any_port);
    if (fd < 0) return nullptr;
    clients_.push_back({next_client_id_++, from, fd, now_us()});
    return &clients_.back();
  }

  void hold(LinkShaper& shaper, std::uint64_t client_id, const sockaddr_in& to,
            const std::uint8_t* data, std::size_t size, bool to_server) {
    const Fate fate = shaper.decide();
    if (fate.dropped) {
      ++dropped_;
      return;
    }
    if (fate.copies > 1) ++duplicated_;
    if (fate.reordered) ++reordered_;
    const std::uint64_t now = now_us();
    for (int copy = 0; copy < fate.copies; ++copy) {
      if (held_.size() >= config_.max_held_datagrams) {
        ++overflowed_;
        return;
      }
      held_.push(Held{now + fate.delay_us[copy], next_order_++, client_id, to,
                      std::vector<std::uint8_t>(data, data + size), to_server});
    }
  }

  void send_due(std::uint64_t now) {
    while (!held_.empty() && held_.top().due_us <= now) {
      const Held& held = held_.top();
      int fd = listen_fd_;
      if (held.to_server) {
        const ClientLink* client = find_client(held.client_id);
        fd = client != nullptr ? client->upstream_fd : -1;
      }
      if (fd >= 0) {
        sendto(fd, held.bytes.data(), held.bytes.size(), 0,
               reinterpret_cast<const sockaddr*>(&held.to), sizeof held.to);
        ++(held.to_server ? forwarded_to_server_ : forwarded_to_clients_);
      }
      held_.pop();
    }
  }

  UdpLinkSimulatorConfig config_;
  int listen_fd_;
  sockaddr_in target_;
  int wake_fd_;
  std::uint16_t port_ = 0;
  LinkShaper to_server_;
  LinkShaper to_clients_;
  std::vector<ClientLink> clients_;
  std::priority_queue<Held, std::vector<Held>, DueLater> held_;
  std::uint64_t next_order_ = 0;
  std::uint64_t next_client_id_ = 1;
  std::mutex pending_mutex_;
  std::optional<NetworkConditions> pending_conditions_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> forwarded_to_server_{0}, forwarded_to_clients_{0}, dropped_{0},
      duplicated_{0}, reordered_{0}, overflowed_{0}, idle_clients_forgotten_{0},
      clients_replaced_{0};
  std::thread thread_;
};

}  // namespace

Status UdpLinkSimulatorConfig::validate() const {
  if (target_port == 0) return Status::error("target_port = 0 is invalid: name the server's port");
  if (max_clients == 0) return Status::error("max_clients = 0 is invalid: use >= 1");
  if (max_clients_per_address == 0) {
    return Status::error("max_clients_per_address = 0 is invalid: use >= 1");
  }
  if (idle_timeout_ms < 1000) {
    return Status::error("idle_timeout_ms = " + std::to_string(idle_timeout_ms) +
                         " is invalid: use >= 1000 (a live peer can be silent for a while)");
  }
  if (max_held_datagrams == 0) return Status::error("max_held_datagrams = 0 is invalid: use >= 1");
  return conditions.validate();
}

Result<std::unique_ptr<UdpLinkSimulator>> UdpLinkSimulator::start(
    const UdpLinkSimulatorConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  const auto listen = ipv4(config.listen_address, config.listen_port);
  if (!listen) return Status::error("listen_address '" + config.listen_address + "' is not IPv4");
  const auto target = ipv4(config.target_address, config.target_port);
  if (!target) return Status::error("target_address '" + config.target_address + "' is not IPv4");
  const int listen_fd = open_udp_socket(*listen);
  if (listen_fd < 0) {
    return Status::error("cannot bind UDP " + config.listen_address + ":" +
                         std::to_string(config.listen_port) + ": " + std::strerror(errno));
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    close(listen_fd);
    return Status::error(std::string("eventfd failed: ") + std::strerror(errno));
  }
  return std::unique_ptr<UdpLinkSimulator>(
      std::make_unique<UdpLinkSimulatorImpl>(config, listen_fd, *target, wake_fd));
}

}  // namespace tickwire::net
