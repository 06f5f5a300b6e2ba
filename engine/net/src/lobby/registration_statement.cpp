#include "lobby/registration_statement.hpp"

#include <sodium.h>

#include <limits>

#include "sodium_ready.hpp"

namespace tickwire::net::lobby_detail {
namespace {

constexpr std::string_view kContext = "tickwire/lobby/register-game-server/v2";

void append_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

std::vector<std::uint8_t> registration_statement(const TicketPublicKey& lobby_key,
                                                 const RegistrationChallenge& challenge,
                                                 const RegistrationClaim& claim) {
  constexpr std::size_t kMaxLength = std::numeric_limits<std::uint16_t>::max();
  if (claim.address.size() > kMaxLength || claim.websocket_address.size() > kMaxLength) return {};
  std::vector<std::uint8_t> out;
  out.reserve(kContext.size() + 1 + 32 + 32 + 4 + 1 + 32 + 2 + claim.address.size() + 2 +
              claim.websocket_address.size());
  out.insert(out.end(), kContext.begin(), kContext.end());
  out.push_back(0);
  out.insert(out.end(), lobby_key.begin(), lobby_key.end());
  out.insert(out.end(), challenge.begin(), challenge.end());
  append_le(out, claim.capacity, 4);
  out.push_back(claim.seal_key ? 1 : 0);
  if (claim.seal_key) out.insert(out.end(), claim.seal_key->begin(), claim.seal_key->end());
  append_le(out, claim.address.size(), 2);
  out.insert(out.end(), claim.address.begin(), claim.address.end());
  append_le(out, claim.websocket_address.size(), 2);
  out.insert(out.end(), claim.websocket_address.begin(), claim.websocket_address.end());
  return out;
}

RegistrationSignature sign_registration(const ServerIdentity& identity,
                                        const TicketPublicKey& lobby_key,
                                        const RegistrationChallenge& challenge,
                                        const RegistrationClaim& claim) {
  ensure_sodium();
  const std::vector<std::uint8_t> statement = registration_statement(lobby_key, challenge, claim);
  RegistrationSignature signature{};
  crypto_sign_detached(signature.data(), nullptr, statement.data(), statement.size(),
                       identity.secret_key.data());
  return signature;
}

bool verify_registration(const ServerPublicKey& key, std::span<const std::uint8_t> signature,
                         const TicketPublicKey& lobby_key, const RegistrationChallenge& challenge,
                         const RegistrationClaim& claim) {
  if (signature.size() != crypto_sign_BYTES) return false;
  ensure_sodium();
  const std::vector<std::uint8_t> statement = registration_statement(lobby_key, challenge, claim);
  if (statement.empty()) return false;
  return crypto_sign_verify_detached(signature.data(), statement.data(), statement.size(),
                                     key.data()) == 0;
}

RegistrationChallenge new_registration_challenge() {
  ensure_sodium();
  RegistrationChallenge challenge{};
  randombytes_buf(challenge.data(), challenge.size());
  return challenge;
}

}  // namespace tickwire::net::lobby_detail
