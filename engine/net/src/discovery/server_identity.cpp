// Server identity keys (Ed25519, libsodium) and their fingerprints.

#include <sodium.h>

#include "sodium_ready.hpp"
#include "tickwire/net/server_identity.hpp"

namespace tickwire::net {

ServerIdentity ServerIdentity::generate() {
  ensure_sodium();
  ServerIdentity identity;
  crypto_sign_keypair(identity.public_key.data(), identity.secret_key.data());
  return identity;
}

ServerIdentity ServerIdentity::from_secret_key(const ServerSecretKey& secret) {
  ensure_sodium();
  ServerIdentity identity;
  identity.secret_key = secret;
  crypto_sign_ed25519_sk_to_pk(identity.public_key.data(), identity.secret_key.data());
  return identity;
}

std::string fingerprint(const ServerPublicKey& key) {
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, key.data(), 8);
  return std::string(hex, 8) + " " + std::string(hex + 8, 8);
}

}  // namespace tickwire::net
