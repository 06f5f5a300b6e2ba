#pragma once
// LAN discovery: servers announce themselves with a small UDP broadcast beacon; clients listen
// and keep a list of the servers they heard recently. Both are polled from the game loop (no
// threads) and never block.
//
// What it does not do: reach beyond the broadcast domain (routers do not forward broadcasts),
// or vouch for a server: anyone on the LAN can send a beacon, so a beacon is a hint to show in a
// list, and joining still goes through the normal (ticketed) connection.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tickwire/net/status.hpp"

namespace tickwire::net {

struct ServerAnnouncement {
  std::string name;  // at most 64 bytes
  std::uint16_t players = 0;
  std::uint16_t max_players = 0;
  std::uint16_t game_port = 0;
  std::uint16_t lobby_port = 0;
};

struct LanBeaconConfig {
  // Where beacons go: the limited broadcast address by default. Tests on one machine use
  // "127.255.255.255", which reaches listeners on the loopback interface.
  std::string broadcast_address = "255.255.255.255";
  // UDP port clients listen on. Default 7779.
  std::uint16_t discovery_port = 7779;
  // Milliseconds between beacons. Default 1000.
  std::uint32_t interval_ms = 1000;
  // Beacons carry it; browsers ignore other ids. Default: Tickwire's protocol id.
  std::uint32_t protocol_id = 0x54570001;

  Status validate() const;
};

class LanBeacon {
 public:
  static Result<std::unique_ptr<LanBeacon>> start(const LanBeaconConfig& config);
  virtual ~LanBeacon() = default;
  // What the next beacons say.
  virtual void announce(const ServerAnnouncement& announcement) = 0;
  // Sends a beacon if one is due. Call once per frame or tick.
  virtual void poll() = 0;
  virtual std::uint64_t beacons_sent() const = 0;
};

struct DiscoveredServer {
  std::string address;  // the sender's IPv4 address
  ServerAnnouncement announcement;
};

struct LanBrowserConfig {
  std::uint16_t discovery_port = 7779;
  std::uint32_t protocol_id = 0x54570001;
  // A server not heard from for this long, in milliseconds, leaves the list. Default 3500.
  std::uint32_t expiry_ms = 3500;
  // Servers listed at most (a LAN flooded with fake beacons cannot grow memory). Default 64.
  std::size_t max_servers = 64;

  Status validate() const;
};

struct LanBrowserCounters {
  std::uint64_t beacons = 0;
  std::uint64_t malformed = 0;       // not a beacon
  std::uint64_t other_protocol = 0;  // another game's or version's beacon
  std::uint64_t over_capacity = 0;   // a new server while max_servers are listed
};

class LanBrowser {
 public:
  static Result<std::unique_ptr<LanBrowser>> start(const LanBrowserConfig& config);
  virtual ~LanBrowser() = default;
  // Reads the beacons that arrived and drops expired servers. Never blocks.
  virtual void poll() = 0;
  // Servers heard recently, the most recently heard first.
  virtual std::vector<DiscoveredServer> servers() const = 0;
  virtual LanBrowserCounters counters() const = 0;
};

}  // namespace tickwire::net
