// The session's cryptography on its own: sealed batches open only with their key, channel and
// delivery, each at most once; reordered unreliable batches within the window still open; the
// datagram tag and its replay cache; handshake datagrams and cookies; batch framing.

#include "session/session_crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "../support/enet_datagrams.hpp"
#include "../support/pump.hpp"
#include "enet/message_batch.hpp"
#include "enet/tag_coverage.hpp"
#include "session/handshake.hpp"
#include "session/stream_handshake.hpp"

namespace tickwire::net::session {
namespace {

using Bytes = std::vector<std::uint8_t>;

DirectionKeys keys_from(std::uint8_t seed, Cipher cipher = Cipher::chacha20_poly1305) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return DirectionKeys::derive(key, cipher);
}

Bytes seal(MessageSealer& sealer, const std::string& text, bool flag = false,
           std::uint8_t channel = 1, bool reliable = true) {
  Bytes out(text.size() + kSealOverhead);
  sealer.seal({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, flag, channel,
              reliable, out);
  return out;
}

// (Not "s" + std::to_string(i): GCC 12 warns wrongly about that expression, -Wrestrict.)
std::string numbered(const char* prefix, std::size_t i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

std::string text_of(const Opened& opened) {
  return {reinterpret_cast<const char*>(opened.body.data()), opened.body.size()};
}

TEST(SessionCrypto, a_sealed_batch_opens_with_its_key_and_hides_its_text) {
  MessageSealer sealer(keys_from(1));
  MessageOpener opener(keys_from(1));
  Bytes sealed = seal(sealer, "the secret input", true);
  const std::string wire(sealed.begin(), sealed.end());
  EXPECT_EQ(wire.find("secret"), std::string::npos);
  const Opened opened = opener.open(sealed, 1, true);
  ASSERT_EQ(opened.result, OpenResult::ok);
  EXPECT_EQ(text_of(opened), "the secret input");
  EXPECT_TRUE(opened.flag);
}

TEST(SessionCrypto, another_key_channel_or_delivery_or_any_changed_bit_is_refused) {
  MessageSealer sealer(keys_from(1));
  const Bytes sealed = seal(sealer, "move left", false, 1, true);
  {
    MessageOpener wrong_key(keys_from(2));
    Bytes copy = sealed;
    EXPECT_EQ(wrong_key.open(copy, 1, true).result, OpenResult::forged);
  }
  {
    MessageOpener opener(keys_from(1));
    Bytes copy = sealed;
    EXPECT_EQ(opener.open(copy, 2, true).result, OpenResult::forged) << "moved to channel 2";
  }
  {
    MessageOpener opener(keys_from(1));
    Bytes copy = sealed;
    EXPECT_EQ(opener.open(copy, 1, false).result, OpenResult::forged) << "made unreliable";
  }
  for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    MessageOpener opener(keys_from(1));
    Bytes copy = sealed;
    copy[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_NE(opener.open(copy, 1, true).result, OpenResult::ok) << "bit " << bit;
  }
  Bytes short_one(kSealOverhead - 1);
  MessageOpener opener(keys_from(1));
  EXPECT_EQ(opener.open(short_one, 1, true).result, OpenResult::malformed);
}

TEST(SessionCrypto, a_replayed_batch_is_refused_reliable_or_not) {
  MessageSealer sealer(keys_from(3));
  MessageOpener opener(keys_from(3));
  const Bytes reliable = seal(sealer, "fire", false, 1, true);
  const Bytes unreliable = seal(sealer, "snapshot", false, 2, false);
  Bytes copy = reliable;
  ASSERT_EQ(opener.open(copy, 1, true).result, OpenResult::ok);
  copy = reliable;
  EXPECT_EQ(opener.open(copy, 1, true).result, OpenResult::replayed);
  copy = unreliable;
  ASSERT_EQ(opener.open(copy, 2, false).result, OpenResult::ok);
  copy = unreliable;
  EXPECT_EQ(opener.open(copy, 2, false).result, OpenResult::replayed);
}

TEST(SessionCrypto, unreliable_batches_open_in_any_order_within_the_window_and_once_each) {
  MessageSealer sealer(keys_from(4));
  MessageOpener opener(keys_from(4));
  std::vector<Bytes> sealed;
  for (int i = 0; i < 300; ++i)
    sealed.push_back(seal(sealer, numbered("s", i), false, 2, false));
  std::vector<std::size_t> order(sealed.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::mt19937_64 random(test::test_seed(71));
  std::shuffle(order.begin(), order.end(), random);
  for (std::size_t i : order) {
    Bytes copy = sealed[i];
    const Opened opened = opener.open(copy, 2, false);
    ASSERT_EQ(opened.result, OpenResult::ok) << i;
    EXPECT_EQ(text_of(opened), numbered("s", i));
  }
  for (std::size_t i : order) {
    Bytes copy = sealed[i];
    EXPECT_EQ(opener.open(copy, 2, false).result, OpenResult::replayed) << i;
  }
}

TEST(SessionCrypto, an_unreliable_batch_older_than_the_window_is_refused) {
  MessageSealer sealer(keys_from(5));
  MessageOpener opener(keys_from(5));
  const Bytes old = seal(sealer, "old", false, 2, false);
  for (std::uint64_t i = 0; i < MessageOpener::kReplayWindow; ++i) {
    Bytes copy = seal(sealer, "new", false, 2, false);
    ASSERT_EQ(opener.open(copy, 2, false).result, OpenResult::ok);
  }
  Bytes copy = old;
  EXPECT_EQ(opener.open(copy, 2, false).result, OpenResult::replayed);
}

TEST(SessionCrypto, counters_past_the_23_bits_on_the_wire_still_open_with_either_cipher) {
  // The header carries the low 23 bits of the counter; the opener expands them around the newest
  // counter it has seen. A sealer that starts just below 2^23 crosses the wrap.
  constexpr std::uint64_t kStart = (std::uint64_t{1} << kWireCounterBits) - 3;
  for (const Cipher cipher : {Cipher::chacha20_poly1305, Cipher::aes256_gcm}) {
    if (cipher == Cipher::aes256_gcm && !aes256_gcm_available()) continue;
    MessageSealer sealer(keys_from(6, cipher), kStart);
    MessageOpener opener(keys_from(6, cipher));
    for (std::size_t i = 0; i < 8; ++i) {
      Bytes copy = seal(sealer, numbered("x", i), false, 1, true);
      const Opened opened = opener.open(copy, 1, true);
      ASSERT_EQ(opened.result, OpenResult::ok) << "counter " << kStart + i;
      EXPECT_EQ(text_of(opened), numbered("x", i));
    }
    EXPECT_EQ(sealer.messages_sealed(), kStart + 8);
  }
}

TEST(SessionCrypto, a_counter_is_rebuilt_up_to_half_the_wire_span_from_the_newest_either_way) {
  // The opener has opened counter kNewest (past three wraps of the 23 bits). Counters up to half
  // the span (2^22) ahead of it, and less than that behind, are rebuilt; one further is taken for
  // the other side of the wrap, so its nonce is wrong and it does not open. A refused one moves
  // nothing.
  constexpr std::uint64_t kHalf = std::uint64_t{1} << (kWireCounterBits - 1);
  constexpr std::uint64_t kNewest = (std::uint64_t{3} << kWireCounterBits) + 1000;
  const auto opener_at_newest = [] {
    // An opener follows the counters in steps of less than half the span, as a session's do.
    MessageOpener opener(keys_from(12));
    for (std::uint64_t counter = kHalf - 1;;
         counter = counter + kHalf - 1 < kNewest ? counter + kHalf - 1 : kNewest) {
      MessageSealer sealer(keys_from(12), counter);
      Bytes sealed = seal(sealer, "step", false, 1, true);
      EXPECT_EQ(opener.open(sealed, 1, true).result, OpenResult::ok) << counter;
      if (counter == kNewest) break;
    }
    return opener;
  };
  const auto opens_at = [](MessageOpener& opener, std::uint64_t counter) {
    MessageSealer sealer(keys_from(12), counter);
    Bytes sealed = seal(sealer, "edge", false, 2, true);  // a channel with nothing yet
    return opener.open(sealed, 2, true).result;
  };
  MessageOpener opener = opener_at_newest();
  EXPECT_EQ(opens_at(opener, kNewest + kHalf), OpenResult::ok);
  opener = opener_at_newest();
  EXPECT_NE(opens_at(opener, kNewest + kHalf + 1), OpenResult::ok);
  EXPECT_EQ(opens_at(opener, kNewest + 1), OpenResult::ok) << "the refusal moved nothing";
  // Exactly half a span behind has the same 23 bits as half a span ahead, and is read as ahead.
  opener = opener_at_newest();
  EXPECT_EQ(opens_at(opener, kNewest - kHalf + 1), OpenResult::ok);
  opener = opener_at_newest();
  EXPECT_NE(opens_at(opener, kNewest - kHalf), OpenResult::ok);
}

TEST(SessionCrypto, each_cipher_opens_only_its_own_seal) {
  if (!aes256_gcm_available())
    GTEST_SKIP() << "this CPU has no AES-NI: AES-256-GCM is never picked";
  MessageSealer aes(keys_from(13, Cipher::aes256_gcm));
  MessageSealer chacha(keys_from(13, Cipher::chacha20_poly1305));
  Bytes by_aes = seal(aes, "aes");
  Bytes by_chacha = seal(chacha, "chacha");
  // The same ticket key gives each cipher its own AEAD key: a pick changed on the way opens
  // nothing.
  EXPECT_EQ(MessageOpener(keys_from(13, Cipher::chacha20_poly1305)).open(by_aes, 1, true).result,
            OpenResult::forged);
  EXPECT_EQ(MessageOpener(keys_from(13, Cipher::aes256_gcm)).open(by_chacha, 1, true).result,
            OpenResult::forged);
  by_aes = seal(aes, "aes again");
  MessageOpener opener(keys_from(13, Cipher::aes256_gcm));
  const Opened opened = opener.open(by_aes, 1, true);
  ASSERT_EQ(opened.result, OpenResult::ok);
  EXPECT_EQ(text_of(opened), "aes again");
}

// OpenSSL's one-shot AEAD over a fresh context: ciphertext then tag.
Bytes openssl_seal(Cipher cipher, const DirectionKeys& keys,
                   const std::array<std::uint8_t, 12>& nonce,
                   std::span<const std::uint8_t> associated, const Bytes& text) {
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* algorithm =
      cipher == Cipher::aes256_gcm ? EVP_aes_256_gcm() : EVP_chacha20_poly1305();
  Bytes out(text.size() + kSealTagBytes);
  int length = 0;
  const bool ok =
      EVP_EncryptInit_ex(context, algorithm, nullptr, keys.aead.data(), nonce.data()) == 1 &&
      EVP_EncryptUpdate(context, nullptr, &length, associated.data(),
                        static_cast<int>(associated.size())) == 1 &&
      EVP_EncryptUpdate(context, out.data(), &length, text.data(), static_cast<int>(text.size())) ==
          1 &&
      EVP_EncryptFinal_ex(context, out.data() + text.size(), &length) == 1 &&
      EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, kSealTagBytes,
                          out.data() + text.size()) == 1;
  EVP_CIPHER_CTX_free(context);
  EXPECT_TRUE(ok);
  return out;
}

// The seal is the standard AEAD: what libsodium and OpenSSL, each called on its own, make of the
// same key, nonce (the counter, little-endian, zero-padded to 96 bits), associated data (header,
// channel, delivery) and text, byte for byte, at sizes from empty to larger than any one datagram,
// on both sides of the length at which the session goes from one implementation to the other.
TEST(SessionCrypto, seals_are_the_standard_aead_of_either_cipher_byte_for_byte) {
  std::vector<Cipher> ciphers{Cipher::chacha20_poly1305};
  if (aes256_gcm_available()) ciphers.push_back(Cipher::aes256_gcm);
  for (const Cipher cipher : ciphers) {
    const DirectionKeys keys = keys_from(15, cipher);
    MessageSealer sealer(keys, 70000);
    for (const std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{64}, Aead::kShortMessageBytes,
          Aead::kShortMessageBytes + 1, std::size_t{16384}, std::size_t{70001}}) {
      SCOPED_TRACE(testing::Message() << "cipher " << int(cipher) << ", " << size << " bytes");
      const std::uint64_t counter = sealer.messages_sealed();
      Bytes text(size);
      for (std::size_t i = 0; i < size; ++i)
        text[i] = static_cast<std::uint8_t>(i * 31 + size);
      Bytes sealed(size + kSealOverhead);
      sealer.seal(text, true, 7, false, sealed);

      std::array<std::uint8_t, 12> nonce{};
      for (int i = 0; i < 8; ++i)
        nonce[i] = static_cast<std::uint8_t>(counter >> (8 * i));
      const std::array<std::uint8_t, kSealHeaderBytes + 2> associated{sealed[0], sealed[1],
                                                                      sealed[2], 7, 0};
      Bytes reference(size + kSealTagBytes);
      if (cipher == Cipher::aes256_gcm) {
        crypto_aead_aes256gcm_encrypt(reference.data(), nullptr, text.data(), size,
                                      associated.data(), associated.size(), nullptr, nonce.data(),
                                      keys.aead.data());
      } else {
        crypto_aead_chacha20poly1305_ietf_encrypt(reference.data(), nullptr, text.data(), size,
                                                  associated.data(), associated.size(), nullptr,
                                                  nonce.data(), keys.aead.data());
      }
      EXPECT_TRUE(
          std::equal(reference.begin(), reference.end(), sealed.begin() + kSealHeaderBytes));
      EXPECT_EQ(openssl_seal(cipher, keys, nonce, associated, text), reference);

      MessageOpener opener(keys);
      const Opened opened = opener.open(sealed, 7, false);
      ASSERT_EQ(opened.result, OpenResult::ok);
      EXPECT_TRUE(std::equal(text.begin(), text.end(), opened.body.begin(), opened.body.end()));
    }
  }
}

TEST(SessionCrypto, a_batch_checked_in_place_opens_once_and_an_altered_one_fails_the_check) {
  MessageSealer sealer(keys_from(14));
  MessageOpener opener(keys_from(14));
  const Bytes sealed = seal(sealer, "checked before ENet", true, 1, true);
  Bytes altered = sealed;
  altered[kSealHeaderBytes + 2] ^= 0x10;
  EXPECT_FALSE(opener.decrypt_in_place(altered, 1, true));
  Bytes copy = sealed;
  EXPECT_FALSE(opener.decrypt_in_place(copy, 2, true)) << "another channel";
  copy = sealed;
  ASSERT_TRUE(opener.decrypt_in_place(copy, 1, true));
  const std::string wire(copy.begin(), copy.end());
  EXPECT_NE(wire.find("checked before ENet"), std::string::npos) << "decrypted in place";
  Bytes again = copy;
  const Opened opened = opener.open(copy, 1, true);
  ASSERT_EQ(opened.result, OpenResult::ok);
  EXPECT_EQ(text_of(opened), "checked before ENet");
  EXPECT_TRUE(opened.flag);
  EXPECT_EQ(opener.open(again, 1, true).result, OpenResult::replayed);
  // Another opener's mark is just a wrong tag.
  MessageOpener other(keys_from(14));
  Bytes marked = seal(sealer, "next", false, 1, true);
  ASSERT_TRUE(other.decrypt_in_place(marked, 1, true));
  EXPECT_EQ(opener.open(marked, 1, true).result, OpenResult::forged);
}

TEST(SessionCrypto, aes_is_picked_only_when_both_ends_have_it) {
  EXPECT_EQ(choose_cipher(true, true), Cipher::aes256_gcm);
  EXPECT_EQ(choose_cipher(true, false), Cipher::chacha20_poly1305);
  EXPECT_EQ(choose_cipher(false, true), Cipher::chacha20_poly1305);
  EXPECT_EQ(choose_cipher(false, false), Cipher::chacha20_poly1305);
}

TEST(SessionCrypto, the_datagram_tag_depends_on_key_and_every_byte_and_replays_are_seen) {
  const Bytes datagram(1400, 0x42);
  const auto key = keys_from(7).tag;
  const std::uint32_t tag = datagram_tag(key, datagram);
  EXPECT_EQ(tag, datagram_tag(key, datagram));
  EXPECT_NE(tag, datagram_tag(keys_from(8).tag, datagram));
  Bytes changed = datagram;
  changed[700] ^= 1;
  EXPECT_NE(tag, datagram_tag(key, changed));

  RecentTags recent;
  EXPECT_FALSE(recent.seen_or_insert(tag));
  EXPECT_TRUE(recent.seen_or_insert(tag));
  for (std::uint32_t i = 1; i <= RecentTags::kSize; ++i)
    EXPECT_FALSE(recent.seen_or_insert(tag + i));
  EXPECT_FALSE(recent.seen_or_insert(tag)) << "forgotten after kSize newer tags";
}

TEST(SessionCrypto, a_tag_of_zero_is_new_until_it_was_seen_even_before_the_recent_tags_fill) {
  // The slots not yet filled hold 0: a datagram whose tag happens to be 0 is not a replay.
  RecentTags recent;
  EXPECT_FALSE(recent.seen(0));
  EXPECT_FALSE(recent.seen_or_insert(5));
  EXPECT_FALSE(recent.seen_or_insert(0));
  EXPECT_TRUE(recent.seen(0));
  EXPECT_TRUE(recent.seen(5));
  EXPECT_FALSE(recent.seen(6));
  for (std::uint32_t i = 1; i <= RecentTags::kSize; ++i)
    recent.insert(1000 + i);
  EXPECT_FALSE(recent.seen(0)) << "forgotten after kSize newer tags";
  EXPECT_FALSE(recent.seen(5));
}

TEST(TagCoverage, the_tag_covers_every_byte_but_the_ciphertext_of_whole_sealed_packets) {
  using enet_detail::EnetCommand;
  // A header with its tag field, an acknowledgement, a whole reliable packet of 100 bytes, a
  // fragment and a whole unreliable packet of 50 bytes.
  const Bytes datagram = test::DatagramBuilder(1, true, true, 0x01020304)
                             .acknowledge(7, 99)
                             .reliable(1, 100, 100)
                             .fragment_of(1, 2, 3000, 0, 1300)
                             .unreliable(2, 1, 1, 50)
                             .bytes();
  const std::size_t header = 8;
  const std::size_t reliable_data = header + 8 + 6;
  const std::size_t unreliable_data = datagram.size() - 50;
  const auto in_ciphertext = [&](std::size_t at) {
    return (at >= reliable_data + kSealHeaderBytes && at < reliable_data + 100 - kSealTagBytes) ||
           (at >= unreliable_data + kSealHeaderBytes && at < unreliable_data + 50 - kSealTagBytes);
  };
  std::array<std::uint8_t, 4096> buffer{};
  const auto covered = enet_detail::covered_by_tag(datagram, buffer);
  ASSERT_FALSE(covered.empty());
  const Bytes reference(covered.begin(), covered.end());
  EXPECT_EQ(reference.size(), datagram.size() - (100 - kSealOverhead) - (50 - kSealOverhead));
  for (std::size_t at = 0; at < datagram.size(); ++at) {
    Bytes changed = datagram;
    changed[at] ^= 0x01;
    std::array<std::uint8_t, 4096> other{};
    const auto changed_covered = enet_detail::covered_by_tag(changed, other);
    const bool same = Bytes(changed_covered.begin(), changed_covered.end()) == reference;
    EXPECT_EQ(same, in_ciphertext(at)) << "byte " << at;
  }
  // The sender gathers the same bytes from ENet's buffers: the header, then each command and
  // its data.
  std::array<std::uint8_t, 4096> gathered{};
  enet_detail::TagCoverage sender(gathered);
  const std::span<const std::uint8_t> all(datagram);
  ASSERT_TRUE(sender.add(all.first(header)));
  ASSERT_TRUE(sender.add(all.subspan(header, 8)));
  ASSERT_TRUE(sender.add(all.subspan(header + 8, 6)));
  ASSERT_TRUE(sender.add_data(EnetCommand::send_reliable, all.subspan(reliable_data, 100)));
  const std::size_t fragment = reliable_data + 100;
  ASSERT_TRUE(sender.add(all.subspan(fragment, 24)));
  ASSERT_TRUE(sender.add_data(EnetCommand::send_fragment, all.subspan(fragment + 24, 1300)));
  ASSERT_TRUE(sender.add(all.subspan(fragment + 24 + 1300, 8)));
  ASSERT_TRUE(sender.add_data(EnetCommand::send_unreliable, all.subspan(unreliable_data, 50)));
  EXPECT_EQ(Bytes(sender.covered().begin(), sender.covered().end()), reference);
  // What does not walk as ENet commands covers nothing (and so never matches a tag).
  EXPECT_TRUE(enet_detail::covered_by_tag(all.first(datagram.size() - 1), buffer).empty());
}

TEST(Handshake, datagrams_round_trip_and_answers_are_never_larger_than_a_hello) {
  const Bytes hello = encode_hello(0x54570001);
  ASSERT_EQ(hello.size(), kHelloBytes);
  auto decoded = decode_handshake(hello);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->type, HandshakeType::hello);
  EXPECT_EQ(decoded->protocol_id, 0x54570001u);

  Cookie cookie{};
  cookie.fill(9);
  const Bytes challenge = encode_challenge(cookie);
  EXPECT_LT(challenge.size(), hello.size());
  decoded = decode_handshake(challenge);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->cookie, cookie);

  const std::vector<std::byte> ticket(300, std::byte{7});
  const Bytes response = encode_response(1, cookie, true, ticket);
  decoded = decode_handshake(response);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->ticket.size(), 300u);
  EXPECT_TRUE(decoded->offers_aes);
  EXPECT_FALSE(decode_handshake(encode_response(1, cookie, false, ticket))->offers_aes);
  const Bytes accept = encode_accept(
      Cipher::aes256_gcm, accept_tag(keys_from(1).tag, cookie, true, Cipher::aes256_gcm));
  decoded = decode_handshake(accept);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->encrypted);
  EXPECT_EQ(decoded->cipher, Cipher::aes256_gcm);
  EXPECT_FALSE(decode_handshake(encode_accept(std::nullopt, {}))->encrypted);
  // The ACCEPT's tag answers one offer with one pick: a changed offer or pick does not match.
  const auto tag = accept_tag(keys_from(1).tag, cookie, true, Cipher::aes256_gcm);
  EXPECT_NE(tag, accept_tag(keys_from(1).tag, cookie, false, Cipher::aes256_gcm));
  EXPECT_NE(tag, accept_tag(keys_from(1).tag, cookie, true, Cipher::chacha20_poly1305));
  EXPECT_NE(tag, accept_tag(keys_from(2).tag, cookie, true, Cipher::aes256_gcm));
  const Bytes deny = encode_deny(DenyReason::server_full);
  EXPECT_LT(accept.size(), hello.size());
  EXPECT_LT(deny.size(), hello.size());
  EXPECT_EQ(decode_handshake(deny)->deny, DenyReason::server_full);

  // A short HELLO would let the challenge outgrow it: refused.
  Bytes short_hello = hello;
  short_hello.resize(40);
  EXPECT_FALSE(decode_handshake(short_hello));
  Bytes truncated = response;
  truncated.pop_back();
  EXPECT_FALSE(decode_handshake(truncated));
}

TEST(Handshake, a_cookie_holds_only_for_its_address_port_and_time) {
  const CookieJar jar(10'000);
  const Cookie cookie = jar.make(0x0100007F, 5000, 1, 50'000);
  EXPECT_TRUE(jar.check(cookie, 0x0100007F, 5000, 1, 50'000));
  EXPECT_TRUE(jar.check(cookie, 0x0100007F, 5000, 1, 69'999)) << "within two lifetimes";
  EXPECT_FALSE(jar.check(cookie, 0x0200007F, 5000, 1, 50'000)) << "another address";
  EXPECT_FALSE(jar.check(cookie, 0x0100007F, 5001, 1, 50'000)) << "another port";
  EXPECT_FALSE(jar.check(cookie, 0x0100007F, 5000, 2, 50'000)) << "another protocol";
  EXPECT_FALSE(jar.check(cookie, 0x0100007F, 5000, 1, 80'000)) << "too old";
  EXPECT_FALSE(CookieJar(10'000).check(cookie, 0x0100007F, 5000, 1, 50'000))
      << "another server's secret";
}

TEST(StreamHandshake, messages_round_trip_and_anything_else_is_refused) {
  const stream::Challenge challenge = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  EXPECT_EQ(stream::decode_challenge(stream::encode_challenge(challenge)), challenge);

  const auto keys = DirectionKeys::derive({7});
  MessageSealer sealer(keys);
  const stream::Proof proof = stream::seal_challenge(sealer, challenge);
  const std::vector<std::byte> ticket(300, std::byte{0x5a});
  const Bytes hello = stream::encode_hello(ticket, proof);
  const auto decoded = stream::decode_hello(hello);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(std::equal(decoded->ticket.begin(), decoded->ticket.end(),
                         reinterpret_cast<const std::uint8_t*>(ticket.data())));
  EXPECT_EQ(decoded->ticket.size(), ticket.size());
  ASSERT_TRUE(decoded->proof);
  MessageOpener opener(keys);
  EXPECT_TRUE(stream::opens_to_challenge(opener, *decoded->proof, challenge));
  MessageOpener other(keys);
  stream::Challenge another = challenge;
  another[0] ^= 1;
  EXPECT_FALSE(stream::opens_to_challenge(other, *decoded->proof, another));
  EXPECT_FALSE(stream::decode_hello(stream::encode_hello(ticket, std::nullopt))->proof);

  // Truncated, one byte too many, another type, or a ticket over 1024 bytes: refused.
  for (std::size_t cut = 0; cut < hello.size(); ++cut)
    EXPECT_FALSE(stream::decode_hello(std::span(hello).first(cut))) << cut;
  Bytes longer = hello;
  longer.push_back(0);
  EXPECT_FALSE(stream::decode_hello(longer));
  EXPECT_FALSE(stream::decode_accept(hello));
  EXPECT_FALSE(stream::decode_challenge(hello));
  EXPECT_FALSE(stream::decode_hello(stream::encode_hello(std::vector<std::byte>(1025), proof)));

  const auto accept = stream::decode_accept(stream::encode_accept(proof));
  ASSERT_TRUE(accept && accept->sealed_challenge);
  EXPECT_EQ(*accept->sealed_challenge, proof);
  EXPECT_FALSE(stream::decode_accept(stream::encode_accept(std::nullopt))->sealed_challenge);
}

TEST(MessageBatch, several_messages_frame_and_split_back_and_bad_framing_is_refused) {
  enet_detail::OpenBatch batch;
  const std::string a = "a", b(200, 'b'), c(20000, 'c');
  for (const std::string* text : {&a, &b, &c})
    batch.append(std::as_bytes(std::span(text->data(), text->size())));
  ASSERT_TRUE(batch.several());
  std::vector<std::span<const std::byte>> messages;
  ASSERT_TRUE(enet_detail::split_batch(batch.body(), true, messages));
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].size(), 200u);
  EXPECT_EQ(messages[2].size(), 20000u);

  enet_detail::OpenBatch single;
  single.append(std::as_bytes(std::span(b.data(), b.size())));
  EXPECT_EQ(single.body().size(), 200u) << "a single message goes without its length";

  Bytes truncated(batch.body().begin(), batch.body().end() - 1);
  EXPECT_FALSE(enet_detail::split_batch(truncated, true, messages));
  EXPECT_TRUE(messages.empty());
  const Bytes one_only = {3, 'x', 'y', 'z'};
  EXPECT_FALSE(enet_detail::split_batch(one_only, true, messages)) << "several means two or more";
  const Bytes endless = {0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(enet_detail::split_batch(endless, true, messages));
}

}  // namespace
}  // namespace tickwire::net::session
