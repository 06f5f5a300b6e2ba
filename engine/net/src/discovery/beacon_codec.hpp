#pragma once
// The LAN beacon on the wire (schemas/discovery.fbs): written and signed by the sender, read and
// checked by the browser. Reading is split from the signature check so that the browser can drop
// stale beacons and impostors before it spends a signature check on them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "tickwire/net/lan_discovery.hpp"

namespace tickwire::net::discovery_detail {

// A name shown in a server list, in bytes.
constexpr std::size_t kMaxNameBytes = 64;
// A beacon is a few hundred bytes; anything larger is not one.
constexpr std::size_t kMaxBeaconBytes = 512;

struct BeaconFields {
  std::uint32_t protocol_id = 0;
  ServerAnnouncement announcement;
  std::string host;  // empty: the sender's address
  std::uint64_t sent_unix_ms = 0;
  std::uint64_t sequence = 0;
};

// The beacon's bytes, signed when `identity` is given.
std::vector<std::byte> encode_beacon(const BeaconFields& fields, const ServerIdentity* identity);

enum class BeaconError : std::uint8_t { malformed, other_protocol };

struct ReadBeacon {
  BeaconFields fields;
  bool is_signed = false;
  ServerPublicKey public_key{};  // when signed
  // What the signature covers, and the signature, for signature_valid().
  std::vector<std::uint8_t> body;
  std::array<std::uint8_t, 64> signature{};
};

// Parses and checks everything but the signature: size, FlatBuffers structure, protocol id, and
// field values (name length and characters, game port, host, key and signature sizes).
std::variant<ReadBeacon, BeaconError> read_beacon(std::span<const std::byte> bytes,
                                                  std::uint32_t protocol_id);

// The signature of a signed beacon is the one its key made over its body.
bool signature_valid(const ReadBeacon& beacon);

// A name a list can show: at most kMaxNameBytes, no control characters.
bool printable_name(const std::string& name);

}  // namespace tickwire::net::discovery_detail
