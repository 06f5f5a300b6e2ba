// tickwire-bot's LAN mode: the beacon browser, pinning, and what it dropped.

#include "lan_search.hpp"

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <tickwire/net/lan_discovery.hpp>

#include "key_file.hpp"

namespace arena::bot {
namespace {

namespace net = tickwire::net;
using Clock = std::chrono::steady_clock;

// Says which beacons were dropped, if any were: what a LAN neighbour tried.
void report_dropped_beacons(const net::LanBrowserCounters& counters) {
  const std::uint64_t dropped = counters.malformed + counters.unsigned_beacons +
                                counters.bad_signature + counters.stale + counters.replayed +
                                counters.impostors;
  if (dropped == 0) return;
  std::printf(
      "LAN: dropped %llu beacons (malformed %llu, unsigned %llu, bad signature %llu, stale %llu, "
      "replayed %llu, impostors %llu)\n",
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(counters.malformed),
      static_cast<unsigned long long>(counters.unsigned_beacons),
      static_cast<unsigned long long>(counters.bad_signature),
      static_cast<unsigned long long>(counters.stale),
      static_cast<unsigned long long>(counters.replayed),
      static_cast<unsigned long long>(counters.impostors));
}

}  // namespace

bool find_lan_server(const LanSearch& search, const std::atomic<bool>& stop, std::string& host,
                     std::uint16_t& port) {
  tickwire::net::LanBrowserConfig config;
  config.discovery_port = search.discovery_port;
  config.pin_file = search.known_servers;
  if (config.pin_file.empty()) {
    auto path = arena::config_file_path("known-servers");
    if (!path) {
      std::fprintf(stderr, "tickwire-bot: LAN discovery: %s (--known-servers)\n",
                   path.error().c_str());
      return false;
    }
    config.pin_file = path.value();
  }
  auto browser = net::LanBrowser::start(config);
  if (!browser) {
    std::fprintf(stderr, "tickwire-bot: LAN discovery: %s\n", browser.error().c_str());
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(search.wait_s));
  while (Clock::now() < deadline && !stop.load()) {
    browser.value()->poll();
    const std::vector<net::DiscoveredServer> servers = browser.value()->servers();
    const net::DiscoveredServer* chosen = nullptr;
    for (const net::DiscoveredServer& server : servers) {
      // Only verified servers with a lobby (a game server alone cannot be joined from here).
      if (!server.verified || server.announcement.lobby_port == 0) continue;
      if (chosen == nullptr || (server.pinned && !chosen->pinned)) chosen = &server;
    }
    if (chosen == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const bool was_pinned = chosen->pinned;
    if (const net::Status pinned = browser.value()->pin(*chosen); !pinned.ok()) {
      std::fprintf(stderr, "tickwire-bot: cannot pin the server's key: %s\n",
                   pinned.message().c_str());
      return false;
    }
    host = chosen->address;
    port = chosen->announcement.lobby_port;
    std::printf("LAN: found \"%s\" at %s (lobby port %u, %u/%u players), verified key %s, %s\n",
                chosen->announcement.name.c_str(), chosen->address.c_str(),
                static_cast<unsigned>(chosen->announcement.lobby_port),
                static_cast<unsigned>(chosen->announcement.players),
                static_cast<unsigned>(chosen->announcement.max_players),
                net::fingerprint(chosen->public_key).c_str(),
                was_pinned ? "pinned before" : "new: pinned now");
    report_dropped_beacons(browser.value()->counters());
    std::fflush(stdout);
    return true;
  }
  report_dropped_beacons(browser.value()->counters());
  std::fprintf(stderr,
               "tickwire-bot: no verified server heard on the LAN (UDP port %u) within %.0f s\n",
               static_cast<unsigned>(search.discovery_port), search.wait_s);
  return false;
}

}  // namespace arena::bot
