// The traffic-class policy: gameplay over ENet, and over WebSocket when UDP cannot reach the
// server, with the same game code on both ends.

#include <gtest/gtest.h>

#include "../support/pump.hpp"
#include "tickwire/net/traffic_policy.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::test {
namespace {

using net::TransportKind;

class TrafficPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::EnetServerConfig enet;
    enet.port = 0;
    // The policy's choice of transport is under test here; the WebSocket fallback has no tickets.
    enet.security = net::SessionSecurity::plaintext_for_development;
    net::WebSocketServerConfig websocket;
    websocket.security = net::WebSocketSecurity::insecure_plaintext;
    websocket.port = 0;
    auto udp = net::make_enet_server(enet);
    auto tcp = net::make_websocket_server(websocket);
    ASSERT_TRUE(udp.ok() && tcp.ok());
    udp_port_ = udp.value()->port();
    tcp_port_ = tcp.value()->port();
    std::vector<std::unique_ptr<net::ServerTransport>> both;
    both.push_back(std::move(udp.value()));
    both.push_back(std::move(tcp.value()));
    server_ = std::move(net::combine_servers(std::move(both)).value());
  }

  net::GameplayClientConfig client_config(std::uint16_t udp_port) const {
    net::GameplayClientConfig config;
    config.policy.udp_timeout_ms = 300;
    config.enet.server_port = udp_port;
    config.websocket.server_port = tcp_port_;
    config.websocket.security = net::WebSocketSecurity::insecure_plaintext;
    return config;
  }

  // The game's side of a connection: identical whichever transport carries it.
  void exchange(net::ClientTransport& client, EventLog& client_log) {
    ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {&client, &client_log}}, [&] {
      return !client_log.connected.empty() && !server_log_.connected.empty();
    }));
    ASSERT_EQ(client.send(0, net::Delivery::reliable_ordered, bytes_of("input")),
              net::SendResult::ok);
    ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {&client, &client_log}},
                           [&] { return !server_log_.messages.empty(); }));
    const net::PeerId peer = server_log_.messages.back().peer;
    EXPECT_EQ(peer, server_log_.connected.back());
    ASSERT_EQ(server_->send(peer, 1, net::Delivery::unreliable_sequenced, bytes_of("snapshot")),
              net::SendResult::ok);
    ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {&client, &client_log}},
                           [&] { return !client_log.messages.empty(); }));
    EXPECT_EQ(client_log.messages.back().bytes, bytes_of("snapshot"));
  }

  std::unique_ptr<net::ServerTransport> server_;
  std::uint16_t udp_port_ = 0, tcp_port_ = 0;
  EventLog server_log_;
};

TEST_F(TrafficPolicyTest, gameplay_goes_over_enet_when_udp_reaches_the_server) {
  auto client = std::move(net::make_gameplay_client(client_config(udp_port_)).value());
  EventLog log;
  exchange(*client, log);
  EXPECT_EQ(client->kind(), TransportKind::enet);
}

TEST_F(TrafficPolicyTest, gameplay_falls_back_to_websocket_when_udp_gets_no_answer) {
  // UDP goes into a black hole: a link simulator that loses everything.
  net::UdpLinkSimulatorConfig blackhole;
  blackhole.target_port = udp_port_;
  blackhole.conditions = net::NetworkConditions::symmetric({.loss = 1.0});
  auto link = std::move(net::UdpLinkSimulator::start(blackhole).value());
  auto client = std::move(net::make_gameplay_client(client_config(link->port())).value());
  EventLog log;
  exchange(*client, log);
  EXPECT_EQ(client->kind(), TransportKind::websocket);
  EXPECT_TRUE(log.disconnected.empty()) << "the failed UDP attempt is not the game's business";
  EXPECT_EQ(log.connected.size(), 1u);
}

TEST_F(TrafficPolicyTest, peers_of_both_transports_get_distinct_ids_and_their_own_messages) {
  auto over_udp = std::move(net::make_gameplay_client(client_config(udp_port_)).value());
  auto config = client_config(udp_port_);
  config.policy.gameplay = TransportKind::websocket;
  auto over_tcp = std::move(net::make_gameplay_client(config).value());
  EventLog udp_log, tcp_log;
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {over_udp.get(), &udp_log}, {over_tcp.get(), &tcp_log}},
      [&] { return server_log_.connected.size() == 2; }));
  EXPECT_NE(server_log_.connected[0], server_log_.connected[1]);
  EXPECT_EQ(server_->connected_peers(), 2u);
  ASSERT_EQ(server_->broadcast(0, net::Delivery::reliable_ordered, bytes_of("all")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {over_udp.get(), &udp_log}, {over_tcp.get(), &tcp_log}},
      [&] { return !udp_log.messages.empty() && !tcp_log.messages.empty(); }));
  over_tcp.reset();
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {over_udp.get(), &udp_log}},
                         [&] { return !server_log_.disconnected.empty(); }));
  EXPECT_EQ(server_->connected_peers(), 1u);
  EXPECT_EQ(server_->send(server_log_.disconnected[0].first, 0, net::Delivery::reliable_ordered,
                          bytes_of("x")),
            net::SendResult::unknown_peer);
}

TEST_F(TrafficPolicyTest, when_neither_transport_answers_the_client_reports_connect_failed) {
  net::UdpLinkSimulatorConfig blackhole;
  blackhole.target_port = udp_port_;
  blackhole.conditions = net::NetworkConditions::symmetric({.loss = 1.0});
  auto link = std::move(net::UdpLinkSimulator::start(blackhole).value());
  auto config = client_config(link->port());
  server_.reset();  // the WebSocket port is closed now too
  auto client = std::move(net::make_gameplay_client(config).value());
  EventLog log;
  ASSERT_TRUE(pump_until({{client.get(), &log}}, [&] { return !log.disconnected.empty(); }));
  EXPECT_EQ(log.disconnected[0].second, net::DisconnectReason::connect_failed);
  EXPECT_EQ(client->state(), net::ClientState::disconnected);
}

}  // namespace
}  // namespace tickwire::test
