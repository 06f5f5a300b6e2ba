#include "session/session_crypto.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "sodium_ready.hpp"

namespace tickwire::net::session {
namespace {

constexpr std::uint32_t kFlagBit = std::uint32_t{1} << kWireCounterBits;
constexpr std::uint64_t kCounterSpan = std::uint64_t{1} << kWireCounterBits;
// One context per cipher: the AEAD key is bound to the cipher the handshake picked.
constexpr char kChachaContext[crypto_kdf_CONTEXTBYTES] = {'T', 'W', 'a', 'e', 'a', 'd', '0', '1'};
constexpr char kAesContext[crypto_kdf_CONTEXTBYTES] = {'T', 'W', 'a', 'e', 's', 'g', '0', '1'};
constexpr char kTagContext[crypto_kdf_CONTEXTBYTES] = {'T', 'W', 't', 'a', 'g', '0', '0', '1'};

// Both ciphers take a 96-bit nonce (ChaCha20-Poly1305 as in RFC 8439) and give a 16-byte tag.
using Nonce = std::array<std::uint8_t, 12>;
using AssociatedData = std::array<std::uint8_t, kSealHeaderBytes + 2>;

Nonce nonce_for(std::uint64_t counter) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i)
    nonce[i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

AssociatedData associated_data(const std::uint8_t* header, std::uint8_t channel, bool reliable) {
  AssociatedData data{};
  std::memcpy(data.data(), header, kSealHeaderBytes);
  data[kSealHeaderBytes] = channel;
  data[kSealHeaderBytes + 1] = reliable ? 1 : 0;
  return data;
}

std::uint32_t load_header(const std::uint8_t* bytes) {
  return std::uint32_t{bytes[0]} | (std::uint32_t{bytes[1]} << 8) | (std::uint32_t{bytes[2]} << 16);
}

void store_header(std::uint8_t* bytes, std::uint32_t value) {
  for (std::size_t i = 0; i < kSealHeaderBytes; ++i)
    bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

bool aes256_gcm_available() {
  // sodium_init is what probes the CPU: before it, libsodium says no.
  ensure_sodium();
  return crypto_aead_aes256gcm_is_available() == 1;
}

Cipher choose_cipher(bool client_has_aes, bool server_has_aes) {
  return client_has_aes && server_has_aes ? Cipher::aes256_gcm : Cipher::chacha20_poly1305;
}

DirectionKeys DirectionKeys::derive(const std::array<std::uint8_t, 32>& ticket_key, Cipher cipher) {
  DirectionKeys keys;
  keys.cipher = cipher;
  crypto_kdf_derive_from_key(keys.aead.data(), keys.aead.size(), 1,
                             cipher == Cipher::aes256_gcm ? kAesContext : kChachaContext,
                             ticket_key.data());
  crypto_kdf_derive_from_key(keys.tag.data(), keys.tag.size(), 2, kTagContext, ticket_key.data());
  return keys;
}

DirectionKeys::~DirectionKeys() {
  sodium_memzero(aead.data(), aead.size());
  sodium_memzero(tag.data(), tag.size());
}

void Aead::ContextDeleter::operator()(evp_cipher_ctx_st* context) const {
  EVP_CIPHER_CTX_free(context);  // cleanses the key schedule
}

Aead::Context Aead::keyed_context(Cipher cipher, const std::array<std::uint8_t, 32>& key) {
  Context context(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* algorithm =
      cipher == Cipher::aes256_gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
  // Both fail only when OpenSSL cannot allocate: nothing a session could go on without.
  if (!context ||
      EVP_CipherInit_ex(context.get(), algorithm, nullptr, key.data(), nullptr, 1) != 1) {
    std::abort();
  }
  return context;
}

struct Aead::ShortKey {
  crypto_aead_aes256gcm_state state;  // the key schedule (beforenm)
  ~ShortKey() { sodium_memzero(&state, sizeof(state)); }
};

Aead::Aead(const DirectionKeys& keys)
    : cipher_(keys.cipher), context_(keyed_context(keys.cipher, keys.aead)) {
  if (cipher_ != Cipher::aes256_gcm || !aes256_gcm_available()) return;
  short_ = std::make_unique<ShortKey>();
  crypto_aead_aes256gcm_beforenm(&short_->state, keys.aead.data());
}

Aead::~Aead() = default;
Aead::Aead(Aead&& other) noexcept = default;
Aead& Aead::operator=(Aead&& other) noexcept = default;

Aead::Aead(const Aead& other)
    : cipher_(other.cipher_),
      context_(EVP_CIPHER_CTX_new()),
      short_(other.short_ ? std::make_unique<ShortKey>(*other.short_) : nullptr) {
  if (!context_ || EVP_CIPHER_CTX_copy(context_.get(), other.context_.get()) != 1) std::abort();
}

Aead& Aead::operator=(const Aead& other) {
  if (this != &other) {
    Aead copy(other);
    cipher_ = copy.cipher_;
    context_ = std::move(copy.context_);
    short_ = std::move(copy.short_);
  }
  return *this;
}

bool Aead::run_short(bool encrypting, std::uint64_t counter,
                     std::span<const std::uint8_t> associated, std::span<const std::uint8_t> text,
                     std::uint8_t* out, std::uint8_t* tag) const {
  const Nonce nonce = nonce_for(counter);
  if (encrypting) {
    return crypto_aead_aes256gcm_encrypt_detached_afternm(
               out, tag, nullptr, text.data(), text.size(), associated.data(), associated.size(),
               nullptr, nonce.data(), &short_->state) == 0;
  }
  return crypto_aead_aes256gcm_decrypt_detached_afternm(out, nullptr, text.data(), text.size(), tag,
                                                        associated.data(), associated.size(),
                                                        nonce.data(), &short_->state) == 0;
}

bool Aead::run(bool encrypting, std::uint64_t counter, std::span<const std::uint8_t> associated,
               std::span<const std::uint8_t> text, std::uint8_t* out, std::uint8_t* tag) const {
  if (short_ && text.size() <= kShortMessageBytes)
    return run_short(encrypting, counter, associated, text, out, tag);
  EVP_CIPHER_CTX* context = context_.get();
  const Nonce nonce = nonce_for(counter);
  int length = 0;
  // No key: the context keeps the one it was made with, and its schedule.
  if (EVP_CipherInit_ex(context, nullptr, nullptr, nullptr, nonce.data(), encrypting ? 1 : 0) !=
      1) {
    return false;
  }
  if (!encrypting && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG,
                                         static_cast<int>(kSealTagBytes), tag) != 1) {
    return false;
  }
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  if (EVP_CipherUpdate(context, nullptr, &length, associated.data(),
                       static_cast<int>(associated.size())) != 1 ||
      EVP_CipherUpdate(context, out, &length, text.data(), static_cast<int>(text.size())) != 1) {
    return false;
  }
  // Both ciphers are stream ciphers: Update wrote all of the text, Final writes nothing and, when
  // decrypting, checks the tag.
  std::array<std::uint8_t, 16> rest{};
  if (EVP_CipherFinal_ex(context, rest.data(), &length) != 1) return false;
  return !encrypting || EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG,
                                            static_cast<int>(kSealTagBytes), tag) == 1;
}

void Aead::encrypt(std::uint64_t counter, std::span<const std::uint8_t> associated,
                   std::span<const std::uint8_t> text, std::uint8_t* out, std::uint8_t* tag) const {
  // Fails only for a message of 2 GiB or more, which no transport lets through.
  if (!run(true, counter, associated, text, out, tag)) std::abort();
}

bool Aead::decrypt(std::uint64_t counter, std::span<const std::uint8_t> associated,
                   std::span<std::uint8_t> text, const std::uint8_t* tag) const {
  // OpenSSL takes the expected tag through a non-const pointer but only reads it.
  return run(false, counter, associated, text, text.data(), const_cast<std::uint8_t*>(tag));
}

void MessageSealer::seal(std::span<const std::uint8_t> body, bool flag, std::uint8_t channel,
                         bool reliable, std::span<std::uint8_t> out) {
  const std::uint64_t counter = next_counter_++;
  std::uint8_t* header = out.data();
  store_header(header, static_cast<std::uint32_t>(counter % kCounterSpan) | (flag ? kFlagBit : 0));
  const AssociatedData ad = associated_data(header, channel, reliable);
  // In place when `out` starts kSealHeaderBytes before `body`.
  std::uint8_t* text = out.data() + kSealHeaderBytes;
  aead_.encrypt(counter, ad, body, text, text + body.size());
}

std::uint64_t MessageOpener::expand_counter(std::uint32_t low) const {
  const std::uint64_t reference = newest_ == 0 ? 0 : newest_ - 1;
  std::uint64_t candidate = (reference & ~(kCounterSpan - 1)) | low;
  if (candidate + kCounterSpan / 2 < reference) {
    candidate += kCounterSpan;
  } else if (candidate > reference + kCounterSpan / 2 && candidate >= kCounterSpan) {
    candidate -= kCounterSpan;
  }
  return candidate;
}

MessageOpener::MessageOpener(const DirectionKeys& keys) : aead_(keys) {
  randombytes_buf(opened_mark_.data(), opened_mark_.size());
}

bool MessageOpener::decrypt_in_place(std::span<std::uint8_t> sealed, std::uint8_t channel,
                                     bool reliable) const {
  if (sealed.size() < kSealOverhead) return false;
  const std::uint64_t counter = expand_counter(load_header(sealed.data()) & ~kFlagBit);
  const AssociatedData ad = associated_data(sealed.data(), channel, reliable);
  std::uint8_t* body = sealed.data() + kSealHeaderBytes;
  const std::size_t body_length = sealed.size() - kSealOverhead;
  if (!aead_.decrypt(counter, ad, {body, body_length}, body + body_length)) return false;
  std::memcpy(body + body_length, opened_mark_.data(), opened_mark_.size());
  return true;
}

Opened MessageOpener::open(std::span<std::uint8_t> sealed, std::uint8_t channel, bool reliable) {
  Opened opened;
  if (sealed.size() < kSealOverhead) return opened;
  const std::uint32_t header = load_header(sealed.data());
  const std::uint64_t counter = expand_counter(header & ~kFlagBit);

  // Replays are refused before any cryptography; the state moves only for authentic messages.
  const std::size_t bit = counter % kReplayWindow;
  if (reliable) {
    if (counter < next_reliable_[channel]) {
      opened.result = OpenResult::replayed;
      return opened;
    }
  } else if (newest_unreliable_ != 0) {
    const std::uint64_t newest = newest_unreliable_ - 1;
    if (counter + kReplayWindow <= newest ||
        (counter <= newest && (unreliable_seen_[bit / 64] >> (bit % 64) & 1) != 0)) {
      opened.result = OpenResult::replayed;
      return opened;
    }
  }

  const AssociatedData ad = associated_data(sealed.data(), channel, reliable);
  std::uint8_t* body = sealed.data() + kSealHeaderBytes;
  const std::size_t body_length = sealed.size() - kSealOverhead;
  const bool opened_before =
      sodium_memcmp(body + body_length, opened_mark_.data(), opened_mark_.size()) == 0;
  if (!opened_before && !aead_.decrypt(counter, ad, {body, body_length}, body + body_length)) {
    opened.result = OpenResult::forged;
    return opened;
  }

  if (reliable) {
    next_reliable_[channel] = counter + 1;
  } else {
    if (newest_unreliable_ == 0 || counter >= newest_unreliable_) {
      // Forget the counters the window slides past.
      const std::uint64_t from = newest_unreliable_;
      if (counter + 1 - from >= kReplayWindow || newest_unreliable_ == 0) {
        unreliable_seen_.fill(0);
      } else {
        for (std::uint64_t c = from; c <= counter; ++c) {
          const std::size_t b = c % kReplayWindow;
          unreliable_seen_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
        }
      }
      newest_unreliable_ = counter + 1;
    }
    unreliable_seen_[bit / 64] |= std::uint64_t{1} << (bit % 64);
  }
  if (counter + 1 > newest_) newest_ = counter + 1;
  opened.result = OpenResult::ok;
  opened.body = {body, body_length};
  opened.flag = (header & kFlagBit) != 0;
  return opened;
}

std::uint32_t datagram_tag(const std::array<std::uint8_t, 16>& key,
                           std::span<const std::uint8_t> datagram) {
  std::array<std::uint8_t, crypto_shorthash_siphash24_BYTES> hash{};
  crypto_shorthash_siphash24(hash.data(), datagram.data(), datagram.size(), key.data());
  std::uint32_t tag = 0;
  std::memcpy(&tag, hash.data(), sizeof tag);
  return tag;
}

std::uint32_t disconnect_data(const std::array<std::uint8_t, 16>& key, std::uint32_t connect_id,
                              std::uint8_t reason) {
  // Domain-separated from the datagram tags by its length and its first bytes.
  std::array<std::uint8_t, 13> input = {'T', 'W', 'b', 'y', 'e', 0, 0, 0};
  std::memcpy(input.data() + 8, &connect_id, sizeof connect_id);
  input[12] = reason;
  std::array<std::uint8_t, crypto_shorthash_siphash24_BYTES> hash{};
  crypto_shorthash_siphash24(hash.data(), input.data(), input.size(), key.data());
  const std::uint32_t tag =
      std::uint32_t{hash[0]} | (std::uint32_t{hash[1]} << 8) | (std::uint32_t{hash[2]} << 16);
  return (tag << 8) | reason;
}

bool RecentTags::seen(std::uint32_t tag) const {
  // Every slot in a loop of fixed length, which the compiler vectorizes (a third of the time of
  // the loop over the filled ones, on every datagram received). Slots not yet filled hold 0, so
  // a tag of 0 is looked for among the filled ones alone.
  if (tag == 0 && filled_ < kSize)
    return std::find(tags_.begin(), tags_.begin() + static_cast<std::ptrdiff_t>(filled_), tag) !=
           tags_.begin() + static_cast<std::ptrdiff_t>(filled_);
  std::uint32_t found = 0;
  for (const std::uint32_t recent : tags_)
    found |= static_cast<std::uint32_t>(recent == tag);
  return found != 0;
}

void RecentTags::insert(std::uint32_t tag) {
  tags_[next_] = tag;
  next_ = (next_ + 1) % kSize;
  if (filled_ < kSize) ++filled_;
}

bool RecentTags::seen_or_insert(std::uint32_t tag) {
  if (seen(tag)) return true;
  insert(tag);
  return false;
}

}  // namespace tickwire::net::session
