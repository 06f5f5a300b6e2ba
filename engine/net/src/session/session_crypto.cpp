#include "session/session_crypto.hpp"

#include <sodium.h>

#include <cstring>

namespace tickwire::net::session {
namespace {

constexpr std::uint32_t kFlagBit = 0x8000'0000u;
constexpr std::uint64_t kCounterSpan = std::uint64_t{1} << 31;
constexpr char kAeadContext[crypto_kdf_CONTEXTBYTES] = {'T', 'W', 'a', 'e', 'a', 'd', '0', '1'};
constexpr char kTagContext[crypto_kdf_CONTEXTBYTES] = {'T', 'W', 't', 'a', 'g', '0', '0', '1'};

using Nonce = std::array<std::uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES>;
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

std::uint32_t load_le32(const std::uint8_t* bytes) {
  return std::uint32_t{bytes[0]} | (std::uint32_t{bytes[1]} << 8) |
         (std::uint32_t{bytes[2]} << 16) | (std::uint32_t{bytes[3]} << 24);
}

void store_le32(std::uint8_t* bytes, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

DirectionKeys DirectionKeys::derive(const std::array<std::uint8_t, 32>& ticket_key) {
  DirectionKeys keys;
  crypto_kdf_derive_from_key(keys.aead.data(), keys.aead.size(), 1, kAeadContext,
                             ticket_key.data());
  crypto_kdf_derive_from_key(keys.tag.data(), keys.tag.size(), 2, kTagContext, ticket_key.data());
  return keys;
}

DirectionKeys::~DirectionKeys() {
  sodium_memzero(aead.data(), aead.size());
  sodium_memzero(tag.data(), tag.size());
}

void MessageSealer::seal(std::span<const std::uint8_t> body, bool flag, std::uint8_t channel,
                         bool reliable, std::span<std::uint8_t> out) {
  const std::uint64_t counter = next_counter_++;
  std::uint8_t* header = out.data();
  store_le32(header, static_cast<std::uint32_t>(counter % kCounterSpan) | (flag ? kFlagBit : 0));
  const AssociatedData ad = associated_data(header, channel, reliable);
  const Nonce nonce = nonce_for(counter);
  // libsodium allows the ciphertext to start where the plaintext does (in place).
  unsigned long long sealed_length = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + kSealHeaderBytes, &sealed_length,
                                            body.data(), body.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), keys_.aead.data());
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

Opened MessageOpener::open(std::span<std::uint8_t> sealed, std::uint8_t channel, bool reliable) {
  Opened opened;
  if (sealed.size() < kSealOverhead) return opened;
  const std::uint32_t header = load_le32(sealed.data());
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
  const Nonce nonce = nonce_for(counter);
  unsigned long long body_length = 0;
  std::uint8_t* body = sealed.data() + kSealHeaderBytes;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(body, &body_length, nullptr, body,
                                                sealed.size() - kSealHeaderBytes, ad.data(),
                                                ad.size(), nonce.data(), keys_.aead.data()) != 0) {
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
  opened.body = {body, static_cast<std::size_t>(body_length)};
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

bool RecentTags::seen_or_insert(std::uint32_t tag) {
  for (std::size_t i = 0; i < filled_; ++i) {
    if (tags_[i] == tag) return true;
  }
  tags_[next_] = tag;
  next_ = (next_ + 1) % kSize;
  if (filled_ < kSize) ++filled_;
  return false;
}

}  // namespace tickwire::net::session
