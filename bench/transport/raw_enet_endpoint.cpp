// The baseline: ENet 1.3 called directly, the way a game without Tickwire would. The calls
// mirror what Tickwire's transport makes underneath (one enet_host_service per event, flags per
// delivery kind), so that the ratio measures what Tickwire adds and nothing else.

#include <enet/enet.h>

#include <chrono>
#include <memory>
#include <utility>

#include "endpoint.hpp"

namespace tickwire::bench {
namespace {

using std::chrono::milliseconds;

// Channels a game would open for the two streams the benchmark uses (data and acks).
constexpr std::size_t kChannels = 2;
// Peers the server host has room for: Tickwire's default max_peers, so that both servers walk
// the same number of peer slots on every service.
constexpr std::size_t kServerPeers = 64;

enet_uint32 packet_flags(net::Delivery delivery) {
  switch (delivery) {
    case net::Delivery::reliable_ordered:
      return ENET_PACKET_FLAG_RELIABLE;
    case net::Delivery::unreliable_sequenced:
      // Without it ENet sends a message larger than the MTU as reliable fragments.
      return ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
    case net::Delivery::unreliable:
      return ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
  }
  return ENET_PACKET_FLAG_RELIABLE;
}

void initialise_enet_once() {
  // enet_initialize only sets up Winsock on Windows; it is called as the API requires. It is
  // never paired with enet_deinitialize here because Tickwire's transport, in the same process,
  // keeps its own count of ENet users.
  static const int initialised = enet_initialize();
  (void)initialised;
}

ENetAddress loopback(std::uint16_t port) {
  ENetAddress address{};
  enet_address_set_host_ip(&address, "127.0.0.1");
  address.port = port;
  return address;
}

class RawEnetEndpoint final : public ServerEndpoint {
 public:
  explicit RawEnetEndpoint(ENetHost* host) : host_(host) {}
  ~RawEnetEndpoint() override {
    if (held_ != nullptr) enet_packet_destroy(held_);
    if (peer_ != nullptr) enet_peer_disconnect_now(peer_, 0);
    enet_host_destroy(host_);
  }
  RawEnetEndpoint(const RawEnetEndpoint&) = delete;
  RawEnetEndpoint& operator=(const RawEnetEndpoint&) = delete;

  // Client only: services the host until the connection to `address` is up.
  net::Status connect(const ENetAddress& address) {
    ENetPeer* peer = enet_host_connect(host_, &address, kChannels, 0);
    if (peer == nullptr) return net::Status::error("raw ENet: enet_host_connect failed");
    const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)receive(milliseconds(10));
      if (peer_ != nullptr) return {};
    }
    return net::Status::error("raw ENet client: no connection within the connect timeout");
  }

  bool send(net::Channel channel, net::Delivery delivery,
            std::span<const std::byte> message) override {
    if (peer_ == nullptr) return false;
    ENetPacket* packet = enet_packet_create(message.data(), message.size(), packet_flags(delivery));
    if (packet == nullptr) return false;
    if (enet_peer_send(peer_, channel, packet) < 0) {
      enet_packet_destroy(packet);
      return false;
    }
    return true;
  }

  void flush() override {
    collect_sent_totals();
    enet_host_flush(host_);
  }

  std::optional<std::span<const std::byte>> receive(milliseconds wait) override {
    // The previous message's packet is kept until now so that its bytes need no copy.
    if (held_ != nullptr) {
      enet_packet_destroy(held_);
      held_ = nullptr;
    }
    collect_sent_totals();
    ENetEvent event;
    int serviced = enet_host_service(host_, &event, static_cast<enet_uint32>(wait.count()));
    while (serviced > 0) {
      switch (event.type) {
        case ENET_EVENT_TYPE_CONNECT:
          peer_ = event.peer;
          break;
        case ENET_EVENT_TYPE_DISCONNECT:
          if (event.peer == peer_) peer_ = nullptr;
          break;
        case ENET_EVENT_TYPE_RECEIVE:
          held_ = event.packet;
          return std::span<const std::byte>(reinterpret_cast<const std::byte*>(held_->data),
                                            held_->dataLength);
        case ENET_EVENT_TYPE_NONE:
          break;
      }
      serviced = enet_host_service(host_, &event, 0);
    }
    return std::nullopt;
  }

  WireTotals wire_sent() const override {
    return {sent_.bytes + host_->totalSentData, sent_.datagrams + host_->totalSentPackets};
  }

  std::uint16_t port() const override { return host_->address.port; }

 private:
  // ENet keeps its send totals in 32 bits, which wrap after 4 GiB (about ten seconds of 16 KiB
  // messages here): they are moved into ours before every call that sends, as Tickwire's
  // transport does before each service.
  void collect_sent_totals() {
    sent_.bytes += std::exchange(host_->totalSentData, 0);
    sent_.datagrams += std::exchange(host_->totalSentPackets, 0);
  }

  ENetHost* host_;
  ENetPeer* peer_ = nullptr;
  ENetPacket* held_ = nullptr;
  WireTotals sent_;
};

net::Result<std::unique_ptr<ServerEndpoint>> make_server() {
  initialise_enet_once();
  const ENetAddress address = loopback(0);
  ENetHost* host = enet_host_create(&address, kServerPeers, kChannels, 0, 0);
  if (host == nullptr) return net::Status::error("raw ENet: cannot bind a UDP port on 127.0.0.1");
  return std::unique_ptr<ServerEndpoint>(std::make_unique<RawEnetEndpoint>(host));
}

net::Result<std::unique_ptr<Endpoint>> make_client(std::uint16_t port) {
  initialise_enet_once();
  ENetHost* host = enet_host_create(nullptr, 1, kChannels, 0, 0);
  if (host == nullptr) return net::Status::error("raw ENet: cannot open a client UDP socket");
  auto client = std::make_unique<RawEnetEndpoint>(host);
  if (net::Status status = client->connect(loopback(port)); !status.ok()) return status;
  return std::unique_ptr<Endpoint>(std::move(client));
}

}  // namespace

TransportUnderTest raw_enet_transport() {
  return {"raw ENet", &make_server, &make_client};
}

}  // namespace tickwire::bench
