// LAN discovery on one machine: beacons go to 127.255.255.255, which reaches listeners on the
// loopback interface the way a broadcast reaches a LAN. (Across network namespaces joined by a
// bridge, a real broadcast domain, the demo's LAN test exercises it.) Attackers send from other
// loopback addresses (127.0.0.2 and up), as a neighbour on the LAN would.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../support/temp_directory.hpp"
#include "discovery/beacon_codec.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lan_discovery.hpp"

namespace tickwire::test {
namespace {

using net::discovery_detail::BeaconFields;
using net::discovery_detail::encode_beacon;

// A port of our own per test run, so parallel runs on one machine do not hear each other.
std::uint16_t discovery_port() {
  return static_cast<std::uint16_t>(42000 + getpid() % 2000);
}

net::LanBeaconConfig beacon_config(const net::ServerIdentity& identity) {
  net::LanBeaconConfig config;
  config.broadcast_address = "127.255.255.255";
  config.discovery_port = discovery_port();
  config.interval_ms = 100;
  config.identity = identity;
  return config;
}

net::LanBrowserConfig browser_config() {
  net::LanBrowserConfig config;
  config.discovery_port = discovery_port();
  config.expiry_ms = 400;
  return config;
}

std::unique_ptr<net::LanBeacon> start_beacon(const net::LanBeaconConfig& config) {
  auto started = net::LanBeacon::start(config);
  EXPECT_TRUE(started.ok()) << started.error();
  return started.ok() ? std::move(started.value()) : nullptr;
}

std::unique_ptr<net::LanBrowser> start_browser(const net::LanBrowserConfig& config) {
  auto started = net::LanBrowser::start(config);
  EXPECT_TRUE(started.ok()) << started.error();
  return started.ok() ? std::move(started.value()) : nullptr;
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

// Polls both until `done()` or a generous deadline; returns done().
bool run_until(const std::function<bool()>& done, std::vector<net::LanBeacon*> beacons,
               net::LanBrowser& browser, int deadline_ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    run_for(10, beacons, browser);
  }
  return true;
}

std::optional<net::DiscoveredServer> listed(const net::LanBrowser& browser,
                                            const std::string& name) {
  for (const net::DiscoveredServer& server : browser.servers()) {
    if (server.announcement.name == name) return server;
  }
  return std::nullopt;
}

// Sends `bytes` to the discovery port from `source` (a loopback address): a LAN neighbour.
void send_from(const char* source, std::span<const std::byte> bytes) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(discovery_port());
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  close(fd);
}

BeaconFields fields(const std::string& name, std::uint16_t game_port, std::uint64_t sequence,
                    std::int64_t age_ms = 0) {
  BeaconFields out;
  out.protocol_id = net::LanBrowserConfig{}.protocol_id;
  out.announcement = {name, 1, 8, game_port, 7700};
  out.sent_unix_ms = net::unix_time_ms() - static_cast<std::uint64_t>(age_ms);
  out.sequence = sequence;
  return out;
}

// A pin file of the test's own, removed afterwards.
class PinFile {
 public:
  std::string path() const { return (directory_ / "pins").string(); }

 private:
  TempDirectory directory_{"tickwire-pins"};
};

TEST(LanDiscovery, a_client_lists_the_servers_it_hears_and_forgets_silent_ones) {
  const auto one_key = net::ServerIdentity::generate();
  auto browser = start_browser(browser_config());
  auto first = start_beacon(beacon_config(one_key));
  auto second = start_beacon(beacon_config(net::ServerIdentity::generate()));
  first->announce({"Arena one", 3, 16, 7777, 7700});
  second->announce({"Arena two", 0, 8, 7787, 0});
  ASSERT_TRUE(run_until([&] { return browser->servers().size() == 2; }, {first.get(), second.get()},
                        *browser));
  const auto one = listed(*browser, "Arena one");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->announcement.players, 3);
  EXPECT_EQ(one->announcement.max_players, 16);
  EXPECT_EQ(one->announcement.game_port, 7777);
  EXPECT_EQ(one->announcement.lobby_port, 7700);
  EXPECT_EQ(one->address.rfind("127.", 0), 0u);
  EXPECT_TRUE(one->verified);
  EXPECT_EQ(one->public_key, one_key.public_key);
  EXPECT_FALSE(one->pinned);
  // The second server goes quiet: it leaves the list after the expiry.
  run_for(700, {first.get()}, *browser);
  const auto servers = browser->servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].announcement.name, "Arena one");
}

TEST(LanDiscovery, a_beacon_names_the_host_it_is_signed_for_whoever_sends_it) {
  auto config = beacon_config(net::ServerIdentity::generate());
  config.host = "127.0.0.9";  // not the sender's address (127.0.0.1)
  auto browser = start_browser(browser_config());
  auto beacon = start_beacon(config);
  beacon->announce({"Arena", 0, 8, 7777, 7700});
  ASSERT_TRUE(
      run_until([&] { return listed(*browser, "Arena").has_value(); }, {beacon.get()}, *browser));
  EXPECT_EQ(listed(*browser, "Arena")->address, "127.0.0.9");
}

TEST(LanDiscovery, garbage_other_games_and_unsigned_beacons_are_counted_not_listed) {
  auto browser = start_browser(browser_config());
  auto real = start_beacon(beacon_config(net::ServerIdentity::generate()));
  real->announce({"Real", 1, 8, 7777, 7700});
  auto config = beacon_config(net::ServerIdentity::generate());
  config.protocol_id = 0xBADBAD;
  auto other_game = start_beacon(config);
  other_game->announce({"Not ours", 1, 2, 9999, 0});
  config = beacon_config(net::ServerIdentity::generate());
  config.identity.reset();
  auto unsigned_beacon = start_beacon(config);
  unsigned_beacon->announce({"Unsigned", 1, 2, 9998, 0});
  for (int i = 0; i < 50; ++i) {
    const char garbage[] = "definitely not a beacon";
    send_from("127.0.0.2", std::as_bytes(std::span(garbage)));
  }
  // A control character in the name: a list would show it badly, a pin file could not hold it.
  send_from("127.0.0.2", encode_beacon(fields("line\nbreak", 7000, 0), nullptr));
  ASSERT_TRUE(run_until(
      [&] {
        const auto counters = browser->counters();
        return counters.malformed >= 51 && counters.other_protocol >= 1 &&
               counters.unsigned_beacons >= 1 && listed(*browser, "Real").has_value();
      },
      {real.get(), other_game.get(), unsigned_beacon.get()}, *browser));
  EXPECT_EQ(browser->servers().size(), 1u) << "only the real server is listed";
  EXPECT_EQ(browser->counters().malformed, 51u);
}

TEST(LanDiscovery, unsigned_beacons_are_listed_as_unverified_when_accepted) {
  auto browser_settings = browser_config();
  browser_settings.accept_unsigned = true;
  auto browser = start_browser(browser_settings);
  auto config = beacon_config(net::ServerIdentity::generate());
  config.identity.reset();
  auto beacon = start_beacon(config);
  beacon->announce({"Open", 0, 8, 7777, 0});
  ASSERT_TRUE(
      run_until([&] { return listed(*browser, "Open").has_value(); }, {beacon.get()}, *browser));
  EXPECT_FALSE(listed(*browser, "Open")->verified);
  EXPECT_EQ(listed(*browser, "Open")->public_key, net::ServerPublicKey{});
}

TEST(LanDiscovery, a_forged_signature_is_dropped_and_counted_and_the_real_server_stays) {
  const auto real_key = net::ServerIdentity::generate();
  const auto forger = net::ServerIdentity::generate();
  auto browser = start_browser(browser_config());
  auto real = start_beacon(beacon_config(real_key));
  real->announce({"Arena", 2, 8, 7777, 7700});
  ASSERT_TRUE(
      run_until([&] { return listed(*browser, "Arena").has_value(); }, {real.get()}, *browser));
  // The forger claims the real server's key (to be taken for it) but cannot sign with it; it
  // announces the real name, another game port, and a host of its own.
  net::ServerIdentity claimed = forger;
  claimed.public_key = real_key.public_key;
  for (std::uint64_t i = 0; i < 20; ++i) {
    BeaconFields forged = fields("Arena", 7778, 1'000'000 + i);
    forged.host = "127.0.0.3";
    send_from("127.0.0.3", encode_beacon(forged, &claimed));
  }
  ASSERT_TRUE(
      run_until([&] { return browser->counters().bad_signature >= 20; }, {real.get()}, *browser));
  run_for(300, {real.get()}, *browser);
  const auto servers = browser->servers();
  ASSERT_EQ(servers.size(), 1u) << "the forged beacons were not listed";
  EXPECT_EQ(servers[0].announcement.game_port, 7777);
  EXPECT_EQ(servers[0].public_key, real_key.public_key);
  EXPECT_EQ(browser->counters().bad_signature, 20u);
}

TEST(LanDiscovery, stale_and_replayed_beacons_are_dropped_and_counted) {
  const auto key = net::ServerIdentity::generate();
  auto settings = browser_config();
  settings.expiry_ms = 3000;
  auto browser = start_browser(settings);
  auto real = start_beacon(beacon_config(net::ServerIdentity::generate()));
  real->announce({"Real", 1, 8, 7777, 7700});
  // A beacon recorded an hour ago, replayed now.
  send_from("127.0.0.2", encode_beacon(fields("Recorded", 7000, 7, 3'600'000), &key));
  // A fresh one, then an older one of the same server (a replay of a beacon recorded earlier).
  send_from("127.0.0.2", encode_beacon(fields("Arena", 7001, 5, 200), &key));
  send_from("127.0.0.2", encode_beacon(fields("Arena", 7001, 4, 300), &key));
  ASSERT_TRUE(run_until(
      [&] {
        return browser->counters().stale >= 1 && browser->counters().replayed >= 1 &&
               listed(*browser, "Real").has_value();
      },
      {real.get()}, *browser));
  EXPECT_FALSE(listed(*browser, "Recorded").has_value());
  ASSERT_TRUE(listed(*browser, "Arena").has_value());
  // The server's next beacon is newer: it is taken.
  const std::uint64_t replayed = browser->counters().replayed;
  send_from("127.0.0.2", encode_beacon(fields("Arena", 7001, 6, 100), &key));
  run_for(100, {real.get()}, *browser);
  const auto counters = browser->counters();
  EXPECT_EQ(counters.stale, 1u);
  EXPECT_EQ(counters.replayed, replayed);
  EXPECT_EQ(counters.bad_signature, 0u);
  EXPECT_TRUE(listed(*browser, "Real").has_value());
}

TEST(LanDiscovery, a_pinned_name_refuses_an_impostor_with_another_key) {
  PinFile pins;
  const auto real_key = net::ServerIdentity::generate();
  auto settings = browser_config();
  settings.expiry_ms = 3000;
  settings.pin_file = pins.path();
  auto browser = start_browser(settings);
  auto real = start_beacon(beacon_config(real_key));
  real->announce({"Arena", 2, 8, 7777, 7700});
  ASSERT_TRUE(
      run_until([&] { return listed(*browser, "Arena").has_value(); }, {real.get()}, *browser));
  // The user joins it: its key is pinned.
  const auto server = listed(*browser, "Arena");
  ASSERT_TRUE(browser->pin(*server).ok());
  EXPECT_TRUE(listed(*browser, "Arena")->pinned);

  // An impostor: the same name, a key of its own, properly signed, on another port.
  auto impostor = start_beacon(beacon_config(net::ServerIdentity::generate()));
  impostor->announce({"Arena", 0, 8, 7787, 7710});
  ASSERT_TRUE(run_until([&] { return browser->counters().impostors >= 3; },
                        {real.get(), impostor.get()}, *browser));
  auto servers = browser->servers();
  ASSERT_EQ(servers.size(), 1u) << "the impostor is never listed";
  EXPECT_EQ(servers[0].public_key, real_key.public_key);
  EXPECT_EQ(servers[0].announcement.game_port, 7777);
  EXPECT_TRUE(servers[0].pinned);

  // The pin outlives the program: a browser started later refuses the impostor by itself, and
  // pinning the impostor's name to its key is refused.
  browser.reset();
  auto later = start_browser(settings);
  ASSERT_TRUE(run_until([&] { return later->counters().impostors >= 3; },
                        {real.get(), impostor.get()}, *later));
  servers = later->servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].public_key, real_key.public_key);
  net::DiscoveredServer pretender = servers[0];
  pretender.public_key = net::ServerIdentity::generate().public_key;
  const net::Status refused = later->pin(pretender);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("pinned to another key"), std::string::npos);
}

TEST(LanDiscovery, pinning_a_name_drops_listed_servers_of_that_name_with_other_keys) {
  PinFile pins;
  auto settings = browser_config();
  settings.expiry_ms = 3000;
  settings.pin_file = pins.path();
  auto browser = start_browser(settings);
  auto first = start_beacon(beacon_config(net::ServerIdentity::generate()));
  auto second = start_beacon(beacon_config(net::ServerIdentity::generate()));
  first->announce({"Twin", 0, 8, 7777, 7700});
  second->announce({"Twin", 0, 8, 7787, 7710});
  // Not pinned yet: both are listed, each with its own key, for the user to choose.
  ASSERT_TRUE(run_until([&] { return browser->servers().size() == 2; }, {first.get(), second.get()},
                        *browser));
  const auto chosen = browser->servers()[0];
  ASSERT_TRUE(browser->pin(chosen).ok());
  run_for(300, {first.get(), second.get()}, *browser);
  const auto servers = browser->servers();
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].public_key, chosen.public_key);
  EXPECT_GE(browser->counters().impostors, 1u);
}

// Properly signed fake servers, each with a key and a name of its own: more of them than the
// list holds.
class FakeServers {
 public:
  FakeServers() {
    for (int i = 0; i < 64; ++i)
      keys_.push_back(net::ServerIdentity::generate());
  }
  void send(int count) {
    for (int i = 0; i < count; ++i, ++next_) {
      const std::size_t fake = next_ % keys_.size();
      send_from("127.0.0.2", encode_beacon(fields("Fake " + std::to_string(fake),
                                                  static_cast<std::uint16_t>(20000 + fake), next_),
                                           &keys_[fake]));
    }
  }

 private:
  std::vector<net::ServerIdentity> keys_;
  std::uint64_t next_ = 0;
};

// The list is full of fakes, and has already made room for some.
void fill_with_fakes(FakeServers& fakes, net::LanBrowser& browser, std::size_t max_servers) {
  ASSERT_TRUE(run_until(
      [&] {
        fakes.send(8);
        return browser.servers().size() == max_servers && browser.counters().evicted > 0;
      },
      {}, browser));
}

TEST(LanDiscovery, a_flood_of_fake_servers_cannot_lock_the_real_one_out) {
  auto settings = browser_config();
  settings.expiry_ms = 3000;
  settings.max_servers = 16;
  auto browser = start_browser(settings);
  FakeServers fakes;
  // The fakes fill the list before the real server starts...
  fill_with_fakes(fakes, *browser, settings.max_servers);
  const auto real_key = net::ServerIdentity::generate();
  auto real = start_beacon(beacon_config(real_key));
  real->announce({"Real", 1, 8, 7777, 7700});
  // ... and keep coming, a new one every round of at least 10 ms: ten times the real server's
  // rate, but fewer new servers per beacon interval (100 ms) than the list holds, so the server
  // heard least recently is always a fake.
  const auto round = [&] {
    fakes.send(1);
    run_for(10, {real.get()}, *browser);
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!listed(*browser, "Real") && std::chrono::steady_clock::now() < deadline)
    round();
  ASSERT_TRUE(listed(*browser, "Real").has_value())
      << "the real server never got into a list full of fakes";
  const std::uint64_t evicted_before = browser->counters().evicted;
  // It keeps being heard, so it stays listed while the flood goes on.
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
       std::chrono::steady_clock::now() < until;) {
    round();
    ASSERT_TRUE(listed(*browser, "Real").has_value()) << "the flood pushed the real server out";
  }
  EXPECT_EQ(listed(*browser, "Real")->public_key, real_key.public_key);
  EXPECT_EQ(browser->servers().size(), settings.max_servers);
  EXPECT_GT(browser->counters().evicted, evicted_before) << "fakes made room for fakes";
  EXPECT_EQ(browser->counters().bad_signature, 0u);
}

TEST(LanDiscovery, a_pinned_server_stays_listed_whatever_the_flood) {
  PinFile pins;
  auto settings = browser_config();
  settings.expiry_ms = 3000;
  settings.max_servers = 16;
  settings.pin_file = pins.path();
  auto browser = start_browser(settings);
  auto real = start_beacon(beacon_config(net::ServerIdentity::generate()));
  real->announce({"Real", 1, 8, 7777, 7700});
  ASSERT_TRUE(
      run_until([&] { return listed(*browser, "Real").has_value(); }, {real.get()}, *browser));
  ASSERT_TRUE(browser->pin(*listed(*browser, "Real")).ok());
  // Eight new fakes per round: far more than the list holds between two real beacons.
  FakeServers fakes;
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
       std::chrono::steady_clock::now() < until;) {
    fakes.send(8);
    run_for(10, {real.get()}, *browser);
    ASSERT_TRUE(listed(*browser, "Real").has_value()) << "the flood pushed the real server out";
  }
  EXPECT_GT(browser->counters().evicted, settings.max_servers) << "the fakes crowded each other";
}

TEST(LanDiscovery, configs_name_the_bad_field) {
  net::LanBeaconConfig beacon;
  beacon.broadcast_address = "everyone";
  EXPECT_NE(beacon.validate().message().find("broadcast_address"), std::string::npos);
  beacon = {};
  beacon.host = "game.example";
  EXPECT_NE(beacon.validate().message().find("host"), std::string::npos);
  beacon = {};
  beacon.identity = net::ServerIdentity::generate();
  beacon.identity->public_key = net::ServerIdentity::generate().public_key;
  EXPECT_NE(beacon.validate().message().find("identity"), std::string::npos);
  net::LanBrowserConfig browser;
  browser.max_servers = 0;
  EXPECT_NE(browser.validate().message().find("max_servers"), std::string::npos);
  browser = {};
  browser.max_clock_skew_ms = 10;
  EXPECT_NE(browser.validate().message().find("max_clock_skew_ms"), std::string::npos);
}

TEST(LanDiscovery, a_broken_pin_file_stops_the_browser_with_the_line_named) {
  PinFile pins;
  std::ofstream(pins.path()) << "# known servers\nnot a key Arena\n";
  auto settings = browser_config();
  settings.pin_file = pins.path();
  auto started = net::LanBrowser::start(settings);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("line 2"), std::string::npos) << started.error();
}

}  // namespace
}  // namespace tickwire::test
