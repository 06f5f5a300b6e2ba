#pragma once
// A server's identity: an Ed25519 key pair (libsodium). A game server signs its LAN beacons with
// it (lan_discovery.hpp) and proves with it that it may register with a lobby (lobby.hpp: the
// lobby's allow-list holds the public halves). Keep the secret key in a file (mode 0600) so that
// it stays the same across restarts: clients pin the public key, lobbies list it.

#include <array>
#include <cstdint>
#include <string>

namespace tickwire::net {

using ServerPublicKey = std::array<std::uint8_t, 32>;
using ServerSecretKey = std::array<std::uint8_t, 64>;

struct ServerIdentity {
  ServerPublicKey public_key{};
  ServerSecretKey secret_key{};

  // A fresh key pair.
  static ServerIdentity generate();
  // From a secret key saved earlier (its public half is derived).
  static ServerIdentity from_secret_key(const ServerSecretKey& secret);
};

// A public key in a short form for people to compare: its first 8 bytes in hex, in two groups
// ("3f2a91c0 7be1d044").
std::string fingerprint(const ServerPublicKey& key);

}  // namespace tickwire::net
