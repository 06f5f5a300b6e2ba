#pragma once
// tickwire-bot's LAN mode: find the lobby by a signed LAN beacon.

#include <atomic>
#include <cstdint>
#include <string>

namespace arena::bot {

struct LanSearch {
  std::uint16_t discovery_port = 7779;
  double wait_s = 10;
  std::string known_servers;  // pin file; empty: known-servers in the user's config directory
};

// Listens for LAN beacons and sets `host` and `port` to the lobby of a verified server: one whose
// key is pinned if any is heard, else the first heard, whose key is then pinned (trust on first
// use: from then on an impostor with its name is refused). False, having said why, if none is
// heard in time or `stop` is set.
bool find_lan_server(const LanSearch& search, const std::atomic<bool>& stop, std::string& host,
                     std::uint16_t& port);

}  // namespace arena::bot
