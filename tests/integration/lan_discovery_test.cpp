// LAN discovery on one machine: beacons go to 127.255.255.255, which reaches listeners on the
// loopback interface the way a broadcast reaches a LAN. (Across network namespaces joined by a
// bridge, a real broadcast domain, the demo's LAN test exercises it.)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "tickwire/net/lan_discovery.hpp"

namespace tickwire::test {
namespace {

// A port of our own per test run, so parallel runs on one machine do not hear each other.
std::uint16_t discovery_port() {
  return static_cast<std::uint16_t>(42000 + getpid() % 2000);
}

net::LanBeaconConfig beacon_config() {
  net::LanBeaconConfig config;
  config.broadcast_address = "127.255.255.255";
  config.discovery_port = discovery_port();
  config.interval_ms = 100;
  return config;
}

net::LanBrowserConfig browser_config() {
  net::LanBrowserConfig config;
  config.discovery_port = discovery_port();
  config.expiry_ms = 400;
  return config;
}

// Polls both for `ms` milliseconds.
void run_for(int ms, std::vector<net::LanBeacon*> beacons, net::LanBrowser& browser) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    for (auto* beacon : beacons)
      beacon->poll();
    browser.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(LanDiscovery, a_client_lists_the_servers_it_hears_and_forgets_silent_ones) {
  auto browser = std::move(net::LanBrowser::start(browser_config()).value());
  auto first = std::move(net::LanBeacon::start(beacon_config()).value());
  auto second = std::move(net::LanBeacon::start(beacon_config()).value());
  first->announce({"Arena one", 3, 16, 7777, 7700});
  second->announce({"Arena two", 0, 8, 7787, 0});
  run_for(350, {first.get(), second.get()}, *browser);
  auto servers = browser->servers();
  ASSERT_EQ(servers.size(), 2u);
  const auto& one = servers[0].announcement.game_port == 7777 ? servers[0] : servers[1];
  EXPECT_EQ(one.announcement.name, "Arena one");
  EXPECT_EQ(one.announcement.players, 3);
  EXPECT_EQ(one.announcement.max_players, 16);
  EXPECT_EQ(one.announcement.lobby_port, 7700);
  EXPECT_EQ(one.address.rfind("127.", 0), 0u);
  // The second server goes quiet: it leaves the list after the expiry.
  run_for(700, {first.get()}, *browser);
  servers = browser->servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].announcement.name, "Arena one");
}

TEST(LanDiscovery, garbage_and_other_games_beacons_are_counted_not_listed) {
  auto browser = std::move(net::LanBrowser::start(browser_config()).value());
  auto config = beacon_config();
  config.protocol_id = 0xBADBAD;
  auto other_game = std::move(net::LanBeacon::start(config).value());
  other_game->announce({"Not ours", 1, 2, 9999, 0});
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(discovery_port());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  for (int i = 0; i < 50; ++i) {
    const char garbage[] = "definitely not a beacon";
    sendto(fd, garbage, sizeof garbage, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  close(fd);
  run_for(250, {other_game.get()}, *browser);
  EXPECT_TRUE(browser->servers().empty());
  EXPECT_EQ(browser->counters().malformed, 50u);
  EXPECT_GE(browser->counters().other_protocol, 1u);
}

TEST(LanDiscovery, configs_name_the_bad_field) {
  net::LanBeaconConfig beacon;
  beacon.broadcast_address = "everyone";
  EXPECT_NE(beacon.validate().message().find("broadcast_address"), std::string::npos);
  net::LanBrowserConfig browser;
  browser.max_servers = 0;
  EXPECT_NE(browser.validate().message().find("max_servers"), std::string::npos);
}

}  // namespace
}  // namespace tickwire::test
