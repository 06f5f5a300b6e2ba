#include <gtest/gtest.h>

#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/loopback_transport.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::net {
namespace {

bool mentions(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(EnetConfig, defaults_are_valid) {
  EXPECT_TRUE(EnetServerConfig{}.validate().ok());
  EXPECT_TRUE(EnetClientConfig{}.validate().ok());
}

TEST(EnetConfig, validate_names_the_bad_field_and_its_value) {
  EnetServerConfig server;
  server.max_peers = 0;
  EXPECT_TRUE(mentions(server.validate(), "max_peers = 0"));
  server = {};
  server.common.mtu = 100;
  EXPECT_TRUE(mentions(server.validate(), "mtu = 100"));
  server = {};
  server.common.max_waiting_data = 10;
  EXPECT_TRUE(mentions(server.validate(), "max_waiting_data"));
  server = {};
  server.common.max_incomplete_messages_per_peer = 0;
  EXPECT_TRUE(mentions(server.validate(), "max_incomplete_messages_per_peer = 0"));
  EnetClientConfig client;
  client.server_port = 0;
  EXPECT_TRUE(mentions(client.validate(), "server_port"));
}

TEST(EnetConfig, join_ticket_must_fit_one_datagram_at_the_smallest_mtu) {
  EnetClientConfig client;
  client.join_ticket.resize(547);
  EXPECT_TRUE(client.validate().ok());
  client.join_ticket.resize(548);
  EXPECT_TRUE(mentions(client.validate(), "join_ticket size = 548"));
  // The largest ticket a lobby issues (the longest server address a verifier accepts) fits.
  const auto lobby = JoinTicketIssuer::generate();
  client.join_ticket = lobby.issue(~0ull, ~0ull, std::string(255, 'a'));
  EXPECT_TRUE(client.validate().ok()) << client.join_ticket.size() << " bytes";
}

TEST(EnetConfig, invalid_config_makes_no_transport_and_says_why) {
  EnetServerConfig server;
  server.common.channel_count = 0;
  auto made = make_enet_server(server);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("channel_count"), std::string::npos) << made.error();
}

TEST(EnetConfig, unusable_bind_address_is_reported) {
  EnetServerConfig server;
  server.bind_address = "not-an-address";
  auto made = make_enet_server(server);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("not-an-address"), std::string::npos) << made.error();
}

TEST(LoopbackConfig, validate_names_the_bad_field) {
  LoopbackConfig config;
  config.channel_count = 0;
  EXPECT_TRUE(mentions(config.validate(), "channel_count"));
  EXPECT_FALSE(LoopbackNetwork::create(config).ok());
}

TEST(UdpLinkSimulatorConfig, requires_a_target) {
  EXPECT_TRUE(mentions(UdpLinkSimulatorConfig{}.validate(), "target_port"));
}

}  // namespace
}  // namespace tickwire::net
