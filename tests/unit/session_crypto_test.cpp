// The session's cryptography on its own: sealed batches open only with their key, channel and
// delivery, each at most once; reordered unreliable batches within the window still open; the
// datagram tag and its replay cache; handshake datagrams and cookies; batch framing.

#include "session/session_crypto.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../support/pump.hpp"
#include "enet/message_batch.hpp"
#include "session/handshake.hpp"
#include "session/stream_handshake.hpp"

namespace tickwire::net::session {
namespace {

using Bytes = std::vector<std::uint8_t>;

DirectionKeys keys_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return DirectionKeys::derive(key);
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

TEST(SessionCrypto, counters_past_the_31_bits_on_the_wire_still_open) {
  // The header carries the low 31 bits of the counter; the opener expands them around the newest
  // counter it has seen. A sealer that starts just below 2^31 crosses the wrap.
  constexpr std::uint64_t kStart = (std::uint64_t{1} << 31) - 3;
  MessageSealer sealer(keys_from(6), kStart);
  MessageOpener opener(keys_from(6));
  for (std::size_t i = 0; i < 8; ++i) {
    Bytes copy = seal(sealer, numbered("x", i), false, 1, true);
    const Opened opened = opener.open(copy, 1, true);
    ASSERT_EQ(opened.result, OpenResult::ok) << "counter " << kStart + i;
    EXPECT_EQ(text_of(opened), numbered("x", i));
  }
  EXPECT_EQ(sealer.messages_sealed(), kStart + 8);
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
  const Bytes response = encode_response(1, cookie, ticket);
  decoded = decode_handshake(response);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->ticket.size(), 300u);
  const Bytes accept = encode_accept(true, accept_tag(keys_from(1).tag, cookie));
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
