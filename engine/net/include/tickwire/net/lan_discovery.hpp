#pragma once
// LAN discovery: servers announce themselves with a small signed UDP broadcast beacon; clients
// listen, check the signature, and keep a list of the servers they heard recently. Both are
// polled from the game loop (no threads) and never block.
//
// Trust: a beacon carries the server's Ed25519 public key and is signed with its secret key, so a
// listed server is one that holds that key (verified). A client that pins a server's key (pin(),
// when the user joins it: trust on first use) refuses any later beacon that uses the same name
// with another key. A beacon names the host to reach the server at and is signed with it, so a
// recorded beacon replayed from elsewhere still points at the real server; its send time bounds
// how long a recording can be replayed at all.
//
// What it does not do: reach beyond the broadcast domain (routers do not forward broadcasts);
// tell a new server from an impostor the first time a name is seen (compare the fingerprint out
// of band if that matters); stop a LAN neighbour from flooding the discovery port, which can hide
// servers while it lasts. Joining still goes through the normal (ticketed) connection.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickwire/net/server_identity.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net {

struct ServerAnnouncement {
  std::string name;  // at most 64 bytes, no control characters
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
  // The key beacons are signed with. Default none: beacons go out unsigned, and browsers drop
  // them unless they accept_unsigned.
  std::optional<ServerIdentity> identity;
  // IPv4 address players reach this server at, signed into every beacon; browsers list the
  // server there. Default empty: browsers use the beacon's sender address, which anyone who
  // replays a recorded beacon from another machine chooses.
  std::string host;

  Status validate() const;
};

class LanBeacon {
 public:
  static Result<std::unique_ptr<LanBeacon>> start(const LanBeaconConfig& config);
  virtual ~LanBeacon() = default;
  // What the next beacons say. A name over 64 bytes is cut; control characters become spaces.
  virtual void announce(const ServerAnnouncement& announcement) = 0;
  // Sends a beacon if one is due. Call once per frame or tick.
  virtual void poll() = 0;
  virtual std::uint64_t beacons_sent() const = 0;
};

struct DiscoveredServer {
  // IPv4 address to reach the server at: the host its beacon names, else the sender's address.
  std::string address;
  ServerAnnouncement announcement;
  // Its beacon was signed by `public_key`. False only for unsigned beacons, listed when the
  // browser accepts them; beacons with a bad signature are never listed.
  bool verified = false;
  ServerPublicKey public_key{};  // all zero when not verified
  // `public_key` is the key pinned for this name (a server joined before).
  bool pinned = false;
};

struct LanBrowserConfig {
  std::uint16_t discovery_port = 7779;
  std::uint32_t protocol_id = 0x54570001;
  // A server not heard from for this long, in milliseconds, leaves the list. Default 3500.
  std::uint32_t expiry_ms = 3500;
  // Servers listed at most; a new one takes the place of the one heard least recently (pinned
  // ones last), so fake beacons cannot lock the real server out. Default 64.
  std::size_t max_servers = 64;
  // A beacon sent further than this from our clock, either way, is dropped as stale: a recording
  // replayed later. Generous, because LAN machines' clocks are often off. Milliseconds, default
  // 600000 (10 minutes).
  std::uint32_t max_clock_skew_ms = 600'000;
  // Beacons read per poll() at most, so that a flood costs a frame a bounded time: each may cost
  // a signature check (about 0.1 ms on a busy 2-core machine). The rest wait for the next poll.
  // Default 32.
  std::size_t max_beacons_per_poll = 32;
  // File of pinned server keys, one "<64 hex digits> <name>" per line, read at start and
  // written by pin(). Empty: nothing is pinned. Default empty.
  std::string pin_file;
  // List servers whose beacons are unsigned (verified = false). Default false: they are dropped
  // and counted.
  bool accept_unsigned = false;

  Status validate() const;
};

struct LanBrowserCounters {
  std::uint64_t beacons = 0;           // datagrams read
  std::uint64_t malformed = 0;         // not a beacon
  std::uint64_t other_protocol = 0;    // another game's or version's beacon
  std::uint64_t unsigned_beacons = 0;  // no signature, and accept_unsigned is off
  std::uint64_t bad_signature = 0;     // not signed by the key it carries
  std::uint64_t stale = 0;             // sent further than max_clock_skew_ms from our clock
  std::uint64_t replayed = 0;          // not newer than the last beacon listed for that server
  std::uint64_t impostors = 0;         // a pinned name with another key
  std::uint64_t evicted = 0;           // listed servers dropped to make room for a new one
};

class LanBrowser {
 public:
  // Fails if the pin file exists but cannot be read or parsed (the message names the line).
  static Result<std::unique_ptr<LanBrowser>> start(const LanBrowserConfig& config);
  virtual ~LanBrowser() = default;
  // Reads the beacons that arrived and drops expired servers. Never blocks.
  virtual void poll() = 0;
  // Servers heard recently, the most recently heard first.
  virtual std::vector<DiscoveredServer> servers() const = 0;
  virtual LanBrowserCounters counters() const = 0;
  // Pins the server's key for its name and writes the pin file: trust on first use. Call it when
  // the user joins a server. From then on a beacon with that name and another key is dropped as
  // an impostor. Fails if no pin_file is configured, the server is not verified, its name is
  // pinned to another key, or the file cannot be written.
  virtual Status pin(const DiscoveredServer& server) = 0;
};

}  // namespace tickwire::net
