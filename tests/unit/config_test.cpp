#include <gtest/gtest.h>

#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/loopback_transport.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::net {
namespace {

bool mentions(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(EnetConfig, a_server_encrypts_by_default_and_says_what_it_needs_for_that) {
  EXPECT_TRUE(mentions(EnetServerConfig{}.validate(), "require_ticket"));
  EnetServerConfig server;
  server.require_ticket = TicketRequirement{JoinTicketIssuer::generate().public_key(), "a:1"};
  EXPECT_TRUE(mentions(server.validate(), "seal_keys"));
  server.require_ticket->seal_keys = GameServerSealKeys::generate();
  EXPECT_TRUE(server.validate().ok());
  // Plaintext only when asked for by name.
  EnetServerConfig plaintext;
  plaintext.security = SessionSecurity::plaintext_for_development;
  EXPECT_TRUE(plaintext.validate().ok());
  EXPECT_TRUE(EnetClientConfig{}.validate().ok());
}

TEST(EnetConfig, validate_names_the_bad_field_and_its_value) {
  EnetServerConfig server;
  server.security = SessionSecurity::plaintext_for_development;
  server.max_peers = 0;
  EXPECT_TRUE(mentions(server.validate(), "max_peers = 0"));
  server = {};
  server.security = SessionSecurity::plaintext_for_development;
  server.common.mtu = 100;
  EXPECT_TRUE(mentions(server.validate(), "mtu = 100"));
  server = {};
  server.security = SessionSecurity::plaintext_for_development;
  server.common.max_waiting_data = 10;
  EXPECT_TRUE(mentions(server.validate(), "max_waiting_data"));
  server = {};
  server.security = SessionSecurity::plaintext_for_development;
  server.common.max_incomplete_messages_per_peer = 0;
  EXPECT_TRUE(mentions(server.validate(), "max_incomplete_messages_per_peer = 0"));
  EnetClientConfig client;
  client.common.resends_without_backoff = 33;
  EXPECT_TRUE(mentions(client.validate(), "resends_without_backoff = 33"));
  client = {};
  client.server_port = 0;
  EXPECT_TRUE(mentions(client.validate(), "server_port"));
}

TEST(EnetConfig, invalid_config_makes_no_transport_and_says_why) {
  EnetServerConfig server;
  server.security = SessionSecurity::plaintext_for_development;
  server.common.channel_count = 0;
  auto made = make_enet_server(server);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("channel_count"), std::string::npos) << made.error();
}

TEST(EnetConfig, unusable_bind_address_is_reported) {
  EnetServerConfig server;
  server.security = SessionSecurity::plaintext_for_development;
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
