#pragma once
// One small harness per transport for transport_contract_test.cpp: each makes a server and clients
// connected to it the way a game would (tickets and session security on, where the transport has
// them), and says through capability flags where the transport legitimately differs.
//
// Every harness has:
//   kName, and the flags kHasWire, kAdmitsByTicket, kCapsSendQueue, kChecksReceivedSize,
//   kMeasuresRtt;
//   start_server(ServerLimits), server(), stop_server() (later clients then aim at nothing);
//   make_client(ClientOptions); where kAdmitsByTicket, issue(player_id): a ticket with its keys.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/test_certificates.hpp"
#include "tickwire/net/loopback_transport.hpp"
#include "tickwire/net/traffic_policy.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::test {

struct ServerLimits {
  std::size_t max_message_size = 64 * 1024;
  std::size_t max_queued_bytes_per_peer = 256 * 1024;
  std::size_t max_peers = 8;
};

struct ClientOptions {
  // A client may allow itself larger messages than the server does (the oversize attack).
  std::size_t max_message_size = 64 * 1024;
  // Received bytes the client buffers unpolled (WebSocket): small, so that a client the test does
  // not poll pushes back on the server soon.
  std::size_t max_unpolled_bytes = 4 * 1024 * 1024;
  enum class Ticket { fresh, none, given } ticket = Ticket::fresh;
  net::IssuedTicket given;  // with Ticket::given
};

// The lobby's part: it signs tickets for the game server and seals their keys to it.
class TicketingLobby {
 public:
  net::IssuedTicket issue(std::uint64_t player_id) const {
    return lobby_.issue_with_keys(player_id, 1, kServerName, seal_.public_key);
  }

 protected:
  static constexpr const char* kServerName = "127.0.0.1:7777";
  // The ticket deadline stays clear of the WebSocket handshake_timeout_ms (2000 here): when they
  // are equal, a ticketless WebSocket client closed at the deadline now and then gets the
  // connection's end without the close frame (EOF) and reports `timeout`, not ticket_rejected.
  // An open bug of the WebSocket server, not part of the contract.
  net::TicketRequirement requirement() const {
    return net::TicketRequirement{lobby_.public_key(), kServerName, 1500, seal_};
  }
  // Gives a client's config (ENet, WebSocket or gameplay) the ticket and keys `options` asks for.
  template <typename ClientConfig>
  void add_ticket(ClientConfig& config, const ClientOptions& options) {
    if (auto ticket = ticket_for(options)) {
      config.join_ticket = ticket->ticket;
      config.session_keys = ticket->keys;
    }
  }

 private:
  // The ticket and keys `options` asks for (nothing for Ticket::none).
  std::optional<net::IssuedTicket> ticket_for(const ClientOptions& options) {
    switch (options.ticket) {
      case ClientOptions::Ticket::fresh:
        return issue(++next_player_);
      case ClientOptions::Ticket::given:
        return options.given;
      case ClientOptions::Ticket::none:
        break;
    }
    return std::nullopt;
  }

  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  const net::GameServerSealKeys seal_ = net::GameServerSealKeys::generate();
  std::uint64_t next_player_ = 1000;
};

// In-memory: no wire, no tickets, no send queue; one size limit for the whole network.
class LoopbackHarness {
 public:
  static constexpr const char* kName = "loopback";
  static constexpr bool kHasWire = false;
  static constexpr bool kAdmitsByTicket = false;
  static constexpr bool kCapsSendQueue = false;
  static constexpr bool kChecksReceivedSize = false;
  static constexpr bool kMeasuresRtt = false;

  void start_server(const ServerLimits& limits) {
    net::LoopbackConfig config;
    config.max_message_size = limits.max_message_size;
    config.max_peers = limits.max_peers;
    network_ = std::move(net::LoopbackNetwork::create(config).value());
    server_ = std::move(network_->make_server().value());
  }
  net::ServerTransport& server() { return *server_; }
  void stop_server() { server_.reset(); }
  std::unique_ptr<net::ClientTransport> make_client(const ClientOptions& /*options*/) {
    return network_->make_client();
  }

 private:
  std::unique_ptr<net::LoopbackNetwork> network_;
  std::unique_ptr<net::ServerTransport> server_;
};

inline net::EnetCommonConfig contract_enet_common(std::size_t max_message_size) {
  net::EnetCommonConfig common;
  common.max_message_size = max_message_size;
  common.timeout_min_ms = 2000;
  common.timeout_max_ms = 4000;
  common.ping_interval_ms = 200;
  return common;
}

inline net::WebSocketCommonConfig contract_websocket_common(std::size_t max_message_size) {
  net::WebSocketCommonConfig common;
  common.max_message_size = max_message_size;
  common.handshake_timeout_ms = 2000;
  common.idle_timeout_ms = 4000;
  common.ping_interval_ms = 200;
  common.shutdown_timeout_ms = 500;
  return common;
}

inline net::EnetServerConfig contract_enet_server(const ServerLimits& limits,
                                                  net::TicketRequirement requirement) {
  net::EnetServerConfig config;
  config.port = 0;
  config.max_peers = limits.max_peers;
  config.require_ticket = std::move(requirement);
  config.common = contract_enet_common(limits.max_message_size);
  config.common.max_queued_bytes_per_peer = limits.max_queued_bytes_per_peer;
  return config;
}

inline net::WebSocketServerConfig contract_websocket_server(const ServerLimits& limits,
                                                            net::TicketRequirement requirement) {
  net::WebSocketServerConfig config;
  config.port = 0;
  config.max_connections = limits.max_peers;
  config.require_ticket = std::move(requirement);
  config.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.common = contract_websocket_common(limits.max_message_size);
  config.common.max_queued_bytes_per_peer = limits.max_queued_bytes_per_peer;
  return config;
}

inline net::EnetClientConfig contract_enet_client(std::uint16_t port,
                                                  const ClientOptions& options) {
  net::EnetClientConfig config;
  config.server_host = "127.0.0.1";
  config.server_port = port;
  config.connect_timeout_ms = 1000;
  config.common = contract_enet_common(options.max_message_size);
  return config;
}

inline net::WebSocketClientConfig contract_websocket_client(std::uint16_t port,
                                                            const ClientOptions& options) {
  net::WebSocketClientConfig config;
  config.server_host = "127.0.0.1";
  config.server_port = port;
  config.connect_timeout_ms = 2000;
  config.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.common = contract_websocket_common(options.max_message_size);
  config.common.max_unpolled_bytes_per_peer = options.max_unpolled_bytes;
  return config;
}

// What the transports with a wire (ENet, WebSocket, both combined) share: every capability, and
// one server.
class WireHarness : public TicketingLobby {
 public:
  static constexpr bool kHasWire = true;
  static constexpr bool kAdmitsByTicket = true;
  static constexpr bool kCapsSendQueue = true;
  static constexpr bool kChecksReceivedSize = true;
  static constexpr bool kMeasuresRtt = true;

  net::ServerTransport& server() { return *server_; }
  void stop_server() { server_.reset(); }

 protected:
  // The client a factory made, or null (a failed test) with the factory's reason.
  template <typename Client>
  static std::unique_ptr<Client> client_or_null(net::Result<std::unique_ptr<Client>> made) {
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  std::unique_ptr<net::ServerTransport> server_;
};

class EnetHarness : public WireHarness {
 public:
  static constexpr const char* kName = "enet";

  void start_server(const ServerLimits& limits) {
    auto made = net::make_enet_server(contract_enet_server(limits, requirement()));
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
    port_ = server_->port();
  }
  std::unique_ptr<net::ClientTransport> make_client(const ClientOptions& options) {
    net::EnetClientConfig config = contract_enet_client(port_, options);
    add_ticket(config, options);
    return client_or_null(net::make_enet_client(config));
  }

 private:
  std::uint16_t port_ = 0;
};

// Gameplay sessions over WebSocket, over plain TCP or TLS.
template <net::WebSocketSecurity kSecurity>
class WebSocketHarness : public WireHarness {
 public:
  static constexpr const char* kName =
      kSecurity == net::WebSocketSecurity::tls ? "websocket_tls" : "websocket";

  void start_server(const ServerLimits& limits) {
    auto config = contract_websocket_server(limits, requirement());
    config.transport_security = kSecurity;
    if (kSecurity == net::WebSocketSecurity::tls) {
      certificates_ = std::make_unique<TestCertificates>();
      config.tls.certificate_chain_file = certificates_->chain_file();
      config.tls.private_key_file = certificates_->key_file();
    }
    auto made = net::make_websocket_server(config);
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
    port_ = server_->port();
  }
  std::unique_ptr<net::ClientTransport> make_client(const ClientOptions& options) {
    net::WebSocketClientConfig config = contract_websocket_client(port_, options);
    config.transport_security = kSecurity;
    if (certificates_) config.tls.ca_file = certificates_->ca_file();
    add_ticket(config, options);
    return client_or_null(net::make_websocket_client(config));
  }

 private:
  std::unique_ptr<TestCertificates> certificates_;
  std::uint16_t port_ = 0;
};

// A game server on ENet and WebSocket at once (combine_servers), joined by gameplay clients
// (make_gameplay_client). With kUdpBlocked the clients' UDP goes into a black hole, so every
// connection is the WebSocket fallback.
template <bool kUdpBlocked>
class CombinedHarness : public WireHarness {
 public:
  static constexpr const char* kName =
      kUdpBlocked ? "combined_websocket_fallback" : "combined_enet";

  void start_server(const ServerLimits& limits) {
    auto udp = net::make_enet_server(contract_enet_server(limits, requirement()));
    ASSERT_TRUE(udp.ok()) << udp.error();
    auto tcp = net::make_websocket_server(contract_websocket_server(limits, requirement()));
    ASSERT_TRUE(tcp.ok()) << tcp.error();
    udp_port_ = udp.value()->port();
    tcp_port_ = tcp.value()->port();
    std::vector<std::unique_ptr<net::ServerTransport>> both;
    both.push_back(std::move(udp.value()));
    both.push_back(std::move(tcp.value()));
    auto combined = net::combine_servers(std::move(both));
    ASSERT_TRUE(combined.ok()) << combined.error();
    server_ = std::move(combined.value());
    if (kUdpBlocked) {
      net::UdpLinkSimulatorConfig config;
      config.target_port = udp_port_;
      config.conditions = net::NetworkConditions::symmetric({.loss = 1.0});
      auto link = net::UdpLinkSimulator::start(config);
      ASSERT_TRUE(link.ok()) << link.error();
      blackhole_ = std::move(link.value());
    }
  }
  std::unique_ptr<net::ClientTransport> make_client(const ClientOptions& options) {
    return make_gameplay_client(options);
  }
  std::unique_ptr<net::GameplayClient> make_gameplay_client(
      const ClientOptions& options, net::TransportKind first = net::TransportKind::enet) {
    net::GameplayClientConfig config;
    config.policy.gameplay = first;
    config.enet = contract_enet_client(blackhole_ ? blackhole_->port() : udp_port_, options);
    config.enet.connect_timeout_ms = 500;  // the fallback's wait
    config.websocket = contract_websocket_client(tcp_port_, options);
    add_ticket(config, options);
    return client_or_null(net::make_gameplay_client(config));
  }

 private:
  std::unique_ptr<net::UdpLinkSimulator> blackhole_;
  std::uint16_t udp_port_ = 0, tcp_port_ = 0;
};

// Every transport the harnesses drive, for typed test suites, each named by its harness.
using EveryTransport = ::testing::Types<
    LoopbackHarness, EnetHarness, WebSocketHarness<net::WebSocketSecurity::insecure_plaintext>,
    WebSocketHarness<net::WebSocketSecurity::tls>, CombinedHarness<false>, CombinedHarness<true>>;

class HarnessName {
 public:
  template <typename Harness>
  static std::string GetName(int /*index*/) {
    return Harness::kName;
  }
};

}  // namespace tickwire::test
