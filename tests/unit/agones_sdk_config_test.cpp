#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "tickwire/net/agones_sdk.hpp"

namespace tickwire::net {
namespace {

bool mentions(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(AgonesSdkConfig, defaults_reach_the_sidecar_on_loopback) {
  const AgonesSdkConfig config;
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 9358);
}

TEST(AgonesSdkConfig, validate_names_the_bad_field_and_its_value) {
  AgonesSdkConfig host;
  host.host = "sidecar.local";
  EXPECT_TRUE(mentions(host.validate(), "AgonesSdkConfig.host is \"sidecar.local\""));
  AgonesSdkConfig port;
  port.port = 0;
  EXPECT_TRUE(mentions(port.validate(), "AgonesSdkConfig.port is 0"));
  AgonesSdkConfig health;
  health.health_interval_ms = 60000;
  EXPECT_TRUE(mentions(health.validate(), "health_interval_ms is 60000"));
  AgonesSdkConfig retry;
  retry.retry_initial_ms = 5000;
  retry.retry_max_ms = 1000;
  EXPECT_TRUE(mentions(retry.validate(), "retry_initial_ms is 5000 and retry_max_ms 1000"));
  // The factory refuses what validate() refuses.
  const auto refused = AgonesSdk::start(host);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().find("AgonesSdkConfig.host") != std::string::npos);
}

TEST(AgonesSdkConfig, port_comes_from_the_environment_agones_sets) {
  ::unsetenv("AGONES_SDK_HTTP_PORT");
  EXPECT_EQ(agones_sdk_port_from_environment().value(), 9358);
  ::setenv("AGONES_SDK_HTTP_PORT", "59358", 1);
  EXPECT_EQ(agones_sdk_port_from_environment().value(), 59358);
  for (const char* bad : {"0", "65536", "93 58", "port"}) {
    ::setenv("AGONES_SDK_HTTP_PORT", bad, 1);
    const auto port = agones_sdk_port_from_environment();
    ASSERT_FALSE(port.ok()) << bad;
    EXPECT_TRUE(port.error().find(std::string("AGONES_SDK_HTTP_PORT is \"") + bad) !=
                std::string::npos)
        << port.error();
  }
  ::unsetenv("AGONES_SDK_HTTP_PORT");
}

TEST(AgonesGameServerRecord, address_and_named_ports_are_read) {
  auto record = parse_agones_game_server(R"({
    "object_meta": {"name": "arena-7xk2p", "namespace": "tickwire"},
    "status": {"state": "Scheduled", "address": "203.0.113.7",
               "ports": [{"name": "game", "port": 7342}, {"name": "game-websocket", "port": 7343}]}
  })");
  ASSERT_TRUE(record.ok()) << record.error();
  EXPECT_EQ(record.value().name, "arena-7xk2p");
  EXPECT_EQ(record.value().state, "Scheduled");
  EXPECT_EQ(record.value().address, "203.0.113.7");
  EXPECT_EQ(record.value().port("game"), std::optional<std::uint16_t>(7342));
  EXPECT_EQ(record.value().port("game-websocket"), std::optional<std::uint16_t>(7343));
  EXPECT_EQ(record.value().port("metrics"), std::nullopt);
}

TEST(AgonesGameServerRecord, a_record_that_is_not_usable_says_why) {
  EXPECT_TRUE(parse_agones_game_server("{\"status\": ").error().find("not JSON") !=
              std::string::npos);
  EXPECT_TRUE(parse_agones_game_server(R"({"status": {"state": "Ready"}})")
                  .error()
                  .find("no status.address") != std::string::npos);
  for (const char* port : {R"({"name": "game"})", R"({"name": "game", "port": 70000})",
                           R"({"name": "game", "port": "x"})", R"({"port": 7000})"}) {
    const std::string json =
        std::string(R"({"status": {"address": "10.0.0.1", "ports": [)") + port + "]}}";
    EXPECT_TRUE(parse_agones_game_server(json).error().find("a port without") != std::string::npos)
        << json;
  }
  EXPECT_TRUE(parse_agones_game_server(std::string(70 * 1024, ' ')).error().find("64 KiB") !=
              std::string::npos);
}

}  // namespace
}  // namespace tickwire::net
