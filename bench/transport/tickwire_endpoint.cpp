// Tickwire's ENet and WebSocket transports behind the benchmark's Endpoint: the transports under
// test, used the way a game would use them (public headers only, default configuration, loopback
// address).

#include <chrono>
#include <memory>
#include <string>

#include "common/bench_lobby.hpp"
#include "endpoint.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::bench {
namespace {

using std::chrono::milliseconds;

// Shared by both roles: polls the transport, keeps the last message's payload alive until the
// next call (the payload is the received ENet packet itself, released when it is dropped), and
// notes which peer is connected.
class SinglePeerPoller {
 public:
  explicit SinglePeerPoller(net::Transport& transport) : transport_(transport) {}

  std::optional<std::span<const std::byte>> receive(milliseconds wait) {
    event_.payload.reset();
    while (transport_.poll(event_, wait)) {
      switch (event_.type) {
        case net::EventType::connected:
          peer_ = event_.peer;
          break;
        case net::EventType::disconnected:
          if (event_.peer == peer_) peer_ = net::kInvalidPeer;
          break;
        case net::EventType::message:
          return event_.payload.bytes();
      }
    }
    return std::nullopt;
  }

  bool send(net::Channel channel, net::Delivery delivery, std::span<const std::byte> message) {
    if (peer_ == net::kInvalidPeer) return false;
    return transport_.send(peer_, channel, delivery, message) == net::SendResult::ok;
  }

  net::PeerId peer() const { return peer_; }
  const net::Event& last_event() const { return event_; }

 private:
  net::Transport& transport_;
  net::Event event_;
  net::PeerId peer_ = net::kInvalidPeer;
};

WireTotals wire_of(const net::Transport& transport) {
  const net::TransportCounters counters = transport.counters();
  return {counters.wire_bytes_sent, counters.datagrams_sent};
}

class TickwireServer final : public ServerEndpoint {
 public:
  explicit TickwireServer(std::unique_ptr<net::ServerTransport> server)
      : server_(std::move(server)), endpoint_(*server_) {}

  bool send(net::Channel channel, net::Delivery delivery,
            std::span<const std::byte> message) override {
    return endpoint_.send(channel, delivery, message);
  }
  void flush() override { server_->flush(); }
  std::optional<std::span<const std::byte>> receive(milliseconds wait) override {
    return endpoint_.receive(wait);
  }
  WireTotals wire_sent() const override { return wire_of(*server_); }
  std::uint16_t port() const override { return server_->port(); }

 private:
  std::unique_ptr<net::ServerTransport> server_;
  SinglePeerPoller endpoint_;
};

class TickwireClient final : public Endpoint {
 public:
  explicit TickwireClient(std::unique_ptr<net::ClientTransport> client)
      : client_(std::move(client)), endpoint_(*client_) {}

  // Polls until the transport reports the connection, or says why there is none.
  net::Status connect() {
    const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      // A message cannot arrive before `connected`: the transport holds early ones back.
      (void)endpoint_.receive(milliseconds(10));
      if (endpoint_.peer() != net::kInvalidPeer) return {};
      if (client_->state() == net::ClientState::disconnected) {
        return net::Status::error("Tickwire client could not connect: " +
                                  std::string(net::to_string(endpoint_.last_event().reason)));
      }
    }
    return net::Status::error("Tickwire client: no connection within the connect timeout");
  }

  bool send(net::Channel channel, net::Delivery delivery,
            std::span<const std::byte> message) override {
    return endpoint_.send(channel, delivery, message);
  }
  void flush() override { client_->flush(); }
  std::optional<std::span<const std::byte>> receive(milliseconds wait) override {
    return endpoint_.receive(wait);
  }
  WireTotals wire_sent() const override { return wire_of(*client_); }

 private:
  std::unique_ptr<net::ClientTransport> client_;
  SinglePeerPoller endpoint_;
};

// WebSocket over ws://: the benchmark measures what the ticket session's seal costs, which TLS
// under both cases would only blur. ENet configs have no such field.
template <class Config>
void without_tls(Config& config) {
  if constexpr (requires { config.transport_security; }) {
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
  }
}

// The factories of one Tickwire transport, for the benchmark's two roles: `kMakeServer` and
// `kMakeClient` are make_enet_server/client or make_websocket_server/client, `kName` names the
// transport in errors, and `kEncrypted` chooses a ticketed session or plaintext.
template <class ServerConfig, class ClientConfig, auto kMakeServer, auto kMakeClient,
          const char* kName, bool kEncrypted>
struct TickwireFactories {
  static net::Result<std::unique_ptr<ServerEndpoint>> server() {
    ServerConfig config;
    config.bind_address = "127.0.0.1";
    config.port = 0;
    without_tls(config);
    if (kEncrypted) {
      config.require_ticket = BenchLobby::get().requirement();
    } else {
      config.security = net::SessionSecurity::plaintext_for_development;
    }
    auto made = kMakeServer(config);
    if (!made.ok()) return net::Status::error(std::string(kName) + " server: " + made.error());
    return std::unique_ptr<ServerEndpoint>(std::make_unique<TickwireServer>(std::move(*made)));
  }

  static net::Result<std::unique_ptr<Endpoint>> client(std::uint16_t port) {
    ClientConfig config;
    without_tls(config);
    if (kEncrypted) {
      net::IssuedTicket issued = BenchLobby::get().ticket();
      config.join_ticket = std::move(issued.ticket);
      config.session_keys = issued.keys;
    }
    config.server_host = "127.0.0.1";
    config.server_port = port;
    config.connect_timeout_ms =
        static_cast<std::uint32_t>(std::chrono::milliseconds(kConnectTimeout).count());
    auto made = kMakeClient(config);
    if (!made.ok()) return net::Status::error(std::string(kName) + " client: " + made.error());
    auto client = std::make_unique<TickwireClient>(std::move(*made));
    if (net::Status status = client->connect(); !status.ok()) return status;
    return std::unique_ptr<Endpoint>(std::move(client));
  }
};

constexpr char kEnetName[] = "Tickwire ENet";
constexpr char kWebSocketName[] = "Tickwire WebSocket";

template <bool kEncrypted>
using EnetFactories =
    TickwireFactories<net::EnetServerConfig, net::EnetClientConfig, &net::make_enet_server,
                      &net::make_enet_client, kEnetName, kEncrypted>;
template <bool kEncrypted>
using WebSocketFactories =
    TickwireFactories<net::WebSocketServerConfig, net::WebSocketClientConfig,
                      &net::make_websocket_server, &net::make_websocket_client, kWebSocketName,
                      kEncrypted>;

}  // namespace

TransportUnderTest tickwire_websocket_transport() {
  return {"WebSocket enc", &WebSocketFactories<true>::server, &WebSocketFactories<true>::client};
}

TransportUnderTest tickwire_websocket_plaintext_transport() {
  return {"WebSocket plain", &WebSocketFactories<false>::server,
          &WebSocketFactories<false>::client};
}

TransportUnderTest tickwire_enet_transport() {
  return {"Tickwire enc", &EnetFactories<true>::server, &EnetFactories<true>::client};
}

TransportUnderTest tickwire_plaintext_transport() {
  return {"Tickwire plain", &EnetFactories<false>::server, &EnetFactories<false>::client};
}

}  // namespace tickwire::bench
