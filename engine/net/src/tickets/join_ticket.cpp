// Join tickets: Ed25519 signatures (libsodium) over a small FlatBuffer, and a verifier that
// refuses tampered, foreign, expired, misdirected and replayed tickets.

#include "tickwire/net/join_ticket.hpp"

#include <flatbuffers/flatbuffers.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <tickwire/schemas/ticket_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

#include "sodium_ready.hpp"

namespace tickwire::net {
namespace {

// A ticket is a few hundred bytes; anything much larger is not one.
constexpr std::size_t kMaxTicketBytes = 1024;
constexpr std::size_t kMaxServerAddress = 255;
constexpr std::size_t kSessionKeysBytes = 64;
constexpr std::size_t kSealedKeysBytes = kSessionKeysBytes + crypto_box_SEALBYTES;

std::string nonce_key(const std::array<std::uint8_t, 16>& nonce) {
  return std::string(reinterpret_cast<const char*>(nonce.data()), nonce.size());
}

}  // namespace

std::uint64_t unix_time_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string_view to_string(TicketError error) {
  switch (error) {
    case TicketError::malformed:
      return "malformed";
    case TicketError::bad_signature:
      return "bad_signature";
    case TicketError::expired:
      return "expired";
    case TicketError::wrong_server:
      return "wrong_server";
    case TicketError::reused:
      return "reused";
    case TicketError::no_keys:
      return "no_keys";
  }
  return "unknown";
}

TicketRefusal refusal_for(TicketError error) {
  switch (error) {
    case TicketError::malformed:
      return TicketRefusal::malformed;
    case TicketError::bad_signature:
      return TicketRefusal::bad_signature;
    case TicketError::expired:
      return TicketRefusal::expired;
    case TicketError::wrong_server:
      return TicketRefusal::wrong_server;
    case TicketError::reused:
      return TicketRefusal::reused;
    case TicketError::no_keys:
      return TicketRefusal::no_keys;
  }
  return TicketRefusal::none;
}

JoinTicketIssuer JoinTicketIssuer::generate() {
  ensure_sodium();
  JoinTicketIssuer issuer;
  crypto_sign_keypair(issuer.public_key_.data(), issuer.secret_key_.data());
  return issuer;
}

JoinTicketIssuer JoinTicketIssuer::from_secret_key(const TicketSecretKey& secret) {
  ensure_sodium();
  JoinTicketIssuer issuer;
  issuer.secret_key_ = secret;
  crypto_sign_ed25519_sk_to_pk(issuer.public_key_.data(), issuer.secret_key_.data());
  return issuer;
}

std::vector<std::byte> JoinTicketIssuer::issue(std::uint64_t player_id, std::uint64_t match_id,
                                               const std::string& server_address,
                                               std::uint64_t lifetime_ms, TicketRole role) const {
  JoinTicket ticket{player_id, match_id, server_address, unix_time_ms() + lifetime_ms, {}, role};
  randombytes_buf(ticket.nonce.data(), ticket.nonce.size());
  return sign(ticket);
}

IssuedTicket JoinTicketIssuer::issue_with_keys(std::uint64_t player_id, std::uint64_t match_id,
                                               const std::string& server_address,
                                               const ServerSealPublicKey& server_key,
                                               std::uint64_t lifetime_ms, TicketRole role) const {
  JoinTicket ticket{player_id, match_id, server_address, unix_time_ms() + lifetime_ms, {}, role};
  randombytes_buf(ticket.nonce.data(), ticket.nonce.size());
  IssuedTicket issued;
  crypto_kdf_keygen(issued.keys.client_to_server.data());
  crypto_kdf_keygen(issued.keys.server_to_client.data());
  issued.ticket = sign(ticket, &issued.keys, &server_key);
  return issued;
}

std::vector<std::byte> JoinTicketIssuer::sign(const JoinTicket& ticket, const SessionKeys* keys,
                                              const ServerSealPublicKey* server_key) const {
  flatbuffers::FlatBufferBuilder body_builder(256);
  const auto address = body_builder.CreateString(ticket.server_address);
  const auto nonce = body_builder.CreateVector(ticket.nonce.data(), ticket.nonce.size());
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> sealed;
  if (keys != nullptr && server_key != nullptr) {
    std::array<std::uint8_t, kSessionKeysBytes> plain{};
    std::memcpy(plain.data(), keys->client_to_server.data(), 32);
    std::memcpy(plain.data() + 32, keys->server_to_client.data(), 32);
    std::array<std::uint8_t, kSealedKeysBytes> box{};
    crypto_box_seal(box.data(), plain.data(), plain.size(), server_key->data());
    sodium_memzero(plain.data(), plain.size());
    sealed = body_builder.CreateVector(box.data(), box.size());
  }
  body_builder.Finish(schemas::CreateTicketBody(body_builder, ticket.player_id, ticket.match_id,
                                                address, ticket.expires_unix_ms, nonce, sealed,
                                                static_cast<schemas::TicketRole>(ticket.role)));
  std::array<std::uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, body_builder.GetBufferPointer(),
                       body_builder.GetSize(), secret_key_.data());

  flatbuffers::FlatBufferBuilder builder(256);
  const auto body = builder.CreateVector(body_builder.GetBufferPointer(), body_builder.GetSize());
  const auto sig = builder.CreateVector(signature.data(), signature.size());
  builder.Finish(schemas::CreateSignedTicket(builder, body, sig));
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

// Nonces of tickets that were accepted, forgotten once their ticket has expired (a replay of
// an expired ticket fails on the expiry anyway), and the provisional holds on tickets not used
// yet. Shared by the verifiers of one game server's transports (share_used_nonces), which may be
// polled on different threads: hence the mutex.
struct TicketHold::Nonces {
  std::size_t capacity;
  std::unordered_set<std::string> seen;
  std::multimap<std::uint64_t, std::string> by_expiry;
  // Attempts holding each ticket (by nonce) that is neither used nor free: as many entries as
  // there are live TicketHolds, which the transports bound (pending handshakes).
  std::unordered_map<std::string, std::size_t> holds;
  std::mutex mutex;

  void forget_expired(std::uint64_t now) {
    while (!by_expiry.empty() && by_expiry.begin()->first < now) {
      seen.erase(by_expiry.begin()->second);
      by_expiry.erase(by_expiry.begin());
    }
  }
};

GameServerSealKeys GameServerSealKeys::generate() {
  ensure_sodium();
  GameServerSealKeys keys;
  crypto_box_keypair(keys.public_key.data(), keys.secret_key.data());
  return keys;
}

GameServerSealKeys GameServerSealKeys::from_secret_key(const ServerSealSecretKey& secret) {
  ensure_sodium();
  GameServerSealKeys keys;
  keys.secret_key = secret;
  crypto_scalarmult_base(keys.public_key.data(), keys.secret_key.data());
  return keys;
}

JoinTicketVerifier::JoinTicketVerifier(const TicketPublicKey& lobby_key, std::string server_address,
                                       std::optional<GameServerSealKeys> seal_keys,
                                       std::size_t max_remembered_nonces)
    : lobby_key_(lobby_key),
      server_address_(std::move(server_address)),
      seal_keys_(seal_keys),
      nonces_(std::make_shared<Nonces>()) {
  nonces_->capacity = max_remembered_nonces;
  ensure_sodium();
}

JoinTicketVerifier::~JoinTicketVerifier() = default;
JoinTicketVerifier::JoinTicketVerifier(JoinTicketVerifier&&) noexcept = default;
JoinTicketVerifier& JoinTicketVerifier::operator=(JoinTicketVerifier&&) noexcept = default;

TicketCheck JoinTicketVerifier::check(std::span<const std::byte> bytes,
                                      std::uint64_t now_unix_ms) const {
  TicketCheck check;
  if (bytes.size() > kMaxTicketBytes) return check;
  const schemas::AlignedView view(bytes);
  const std::uint8_t* data = view.data();
  flatbuffers::Verifier outer(data, bytes.size(), 4, 8);
  if (!schemas::VerifySignedTicketBuffer(outer)) return check;
  const schemas::SignedTicket* signed_ticket = schemas::GetSignedTicket(data);
  const auto* body = signed_ticket->body();
  const auto* signature = signed_ticket->signature();
  if (body == nullptr || signature == nullptr || signature->size() != crypto_sign_BYTES)
    return check;

  // The signature first: nothing inside an unsigned body is worth parsing.
  if (crypto_sign_verify_detached(signature->data(), body->data(), body->size(),
                                  lobby_key_.data()) != 0) {
    check.error = TicketError::bad_signature;
    return check;
  }
  // The body is a buffer of its own inside the vector, which need not be 8-byte aligned.
  const schemas::AlignedView body_view(std::as_bytes(std::span(body->data(), body->size())));
  flatbuffers::Verifier inner(body_view.data(), body_view.size(), 4, 8);
  if (!inner.VerifyBuffer<schemas::TicketBody>(nullptr)) return check;
  const auto* fields = flatbuffers::GetRoot<schemas::TicketBody>(body_view.data());
  if (fields->server_address() == nullptr || fields->server_address()->size() > kMaxServerAddress ||
      fields->nonce() == nullptr || fields->nonce()->size() != check.ticket.nonce.size()) {
    return check;
  }
  check.ticket.player_id = fields->player_id();
  check.ticket.match_id = fields->match_id();
  check.ticket.server_address = fields->server_address()->str();
  check.ticket.expires_unix_ms = fields->expires_unix_ms();
  // A role this build does not know is no permission at all.
  if (fields->role() > schemas::TicketRole::MAX) return check;
  check.ticket.role = static_cast<TicketRole>(fields->role());
  std::memcpy(check.ticket.nonce.data(), fields->nonce()->data(), check.ticket.nonce.size());

  if (check.ticket.expires_unix_ms < now_unix_ms) {
    check.error = TicketError::expired;
    return check;
  }
  if (check.ticket.server_address != server_address_) {
    check.error = TicketError::wrong_server;
    return check;
  }
  if (was_used(check.ticket.nonce, now_unix_ms)) {
    check.error = TicketError::reused;
    return check;
  }
  if (seal_keys_) {
    // Opened last: a ticket for another server or a replay costs no Curve25519 operation.
    const auto* sealed = fields->sealed_keys();
    std::array<std::uint8_t, kSessionKeysBytes> plain{};
    if (sealed == nullptr || sealed->size() != kSealedKeysBytes ||
        crypto_box_seal_open(plain.data(), sealed->data(), sealed->size(),
                             seal_keys_->public_key.data(), seal_keys_->secret_key.data()) != 0) {
      check.error = TicketError::no_keys;
      return check;
    }
    SessionKeys keys;
    std::memcpy(keys.client_to_server.data(), plain.data(), 32);
    std::memcpy(keys.server_to_client.data(), plain.data() + 32, 32);
    sodium_memzero(plain.data(), plain.size());
    check.keys = keys;
  }
  check.ok = true;
  return check;
}

bool JoinTicketVerifier::was_used(const std::array<std::uint8_t, 16>& nonce,
                                  std::uint64_t now_unix_ms) const {
  const std::lock_guard lock(nonces_->mutex);
  nonces_->forget_expired(now_unix_ms);
  return nonces_->seen.contains(nonce_key(nonce));
}

bool JoinTicketVerifier::use(const JoinTicket& ticket, std::uint64_t now_unix_ms) {
  const std::lock_guard lock(nonces_->mutex);
  nonces_->forget_expired(now_unix_ms);
  const std::string key = nonce_key(ticket.nonce);
  if (nonces_->seen.contains(key)) return false;
  if (nonces_->seen.size() >= nonces_->capacity && !nonces_->by_expiry.empty()) {
    // Full of unexpired tickets: forget the one closest to expiring rather than refuse everyone.
    nonces_->seen.erase(nonces_->by_expiry.begin()->second);
    nonces_->by_expiry.erase(nonces_->by_expiry.begin());
  }
  nonces_->seen.insert(key);
  nonces_->by_expiry.emplace(ticket.expires_unix_ms, key);
  return true;
}

TicketHold JoinTicketVerifier::hold(const JoinTicket& ticket, std::uint64_t now_unix_ms,
                                    std::size_t max_holds) {
  TicketHold hold;
  const std::lock_guard lock(nonces_->mutex);
  nonces_->forget_expired(now_unix_ms);
  std::string key = nonce_key(ticket.nonce);
  if (nonces_->seen.contains(key)) {
    hold.outcome_ = TicketHold::Outcome::used;
    return hold;
  }
  std::size_t& holders = nonces_->holds[key];
  if (holders >= max_holds) {
    if (holders == 0) nonces_->holds.erase(key);  // max_holds 0: nothing was held
    hold.outcome_ = TicketHold::Outcome::busy;
    return hold;
  }
  ++holders;
  hold.outcome_ = TicketHold::Outcome::held;
  hold.nonces_ = nonces_;
  hold.nonce_ = std::move(key);
  return hold;
}

TicketHold::~TicketHold() {
  release();
}

TicketHold::TicketHold(TicketHold&& other) noexcept
    : nonces_(std::move(other.nonces_)), nonce_(std::move(other.nonce_)), outcome_(other.outcome_) {
  other.nonces_.reset();
}

TicketHold& TicketHold::operator=(TicketHold&& other) noexcept {
  if (this != &other) {
    release();
    nonces_ = std::move(other.nonces_);
    nonce_ = std::move(other.nonce_);
    outcome_ = other.outcome_;
    other.nonces_.reset();
  }
  return *this;
}

void TicketHold::release() {
  if (nonces_ == nullptr) return;
  {
    const std::lock_guard lock(nonces_->mutex);
    const auto found = nonces_->holds.find(nonce_);
    if (found != nonces_->holds.end() && --found->second == 0) nonces_->holds.erase(found);
  }
  nonces_.reset();
}

TicketCheck JoinTicketVerifier::verify(std::span<const std::byte> bytes,
                                       std::uint64_t now_unix_ms) {
  TicketCheck result = check(bytes, now_unix_ms);
  if (result.ok && !use(result.ticket, now_unix_ms)) {
    result = TicketCheck{};
    result.error = TicketError::reused;
  }
  return result;
}

void JoinTicketVerifier::share_used_nonces(JoinTicketVerifier& other) {
  if (other.nonces_ == nonces_) return;
  {
    // Two different mutexes, taken together without a lock-order deadlock.
    const std::scoped_lock lock(nonces_->mutex, other.nonces_->mutex);
    for (const auto& [expiry, key] : other.nonces_->by_expiry) {
      if (nonces_->seen.insert(key).second) nonces_->by_expiry.emplace(expiry, key);
    }
    nonces_->capacity = std::max(nonces_->capacity, other.nonces_->capacity);
  }
  other.nonces_ = nonces_;
}

}  // namespace tickwire::net
