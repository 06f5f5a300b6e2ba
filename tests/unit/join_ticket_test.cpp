#include "tickwire/net/join_ticket.hpp"

#include <gtest/gtest.h>

#include <random>

#include "../support/pump.hpp"

namespace tickwire::net {
namespace {

constexpr const char* kServer = "127.0.0.1:7777";

TEST(JoinTicket, a_valid_ticket_is_accepted_once_with_its_contents) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  const auto ticket = issuer.issue(42, 7, kServer);
  const TicketCheck first = verifier.verify(ticket, unix_time_ms());
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(first.ticket.player_id, 42u);
  EXPECT_EQ(first.ticket.match_id, 7u);
  EXPECT_EQ(first.ticket.server_address, kServer);
  const TicketCheck again = verifier.verify(ticket, unix_time_ms());
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.error, TicketError::reused);
}

TEST(JoinTicket, the_role_travels_signed_and_an_unknown_role_is_malformed) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  const TicketCheck player = verifier.verify(issuer.issue(1, 7, kServer), unix_time_ms());
  ASSERT_TRUE(player.ok);
  EXPECT_EQ(player.ticket.role, TicketRole::player);
  const TicketCheck spectator =
      verifier.verify(issuer.issue(2, 7, kServer, 30'000, TicketRole::spectator), unix_time_ms());
  ASSERT_TRUE(spectator.ok);
  EXPECT_EQ(spectator.ticket.role, TicketRole::spectator);
  // A role from a newer lobby than this server knows grants nothing.
  JoinTicket future{3, 7, kServer, unix_time_ms() + 30'000, {}, static_cast<TicketRole>(9)};
  future.nonce[0] = 1;
  const TicketCheck unknown = verifier.verify(issuer.sign(future), unix_time_ms());
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error, TicketError::malformed);
}

TEST(JoinTicket, check_leaves_the_ticket_unused_and_use_takes_it_once) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  const auto ticket = issuer.issue(42, 7, kServer);
  const TicketCheck checked = verifier.check(ticket, unix_time_ms());
  ASSERT_TRUE(checked.ok);
  EXPECT_TRUE(verifier.check(ticket, unix_time_ms()).ok) << "check() used the ticket up";
  EXPECT_TRUE(verifier.use(checked.ticket, unix_time_ms()));
  EXPECT_FALSE(verifier.use(checked.ticket, unix_time_ms()));
  const TicketCheck after = verifier.check(ticket, unix_time_ms());
  EXPECT_FALSE(after.ok);
  EXPECT_EQ(after.error, TicketError::reused);
}

TEST(JoinTicket, holds_are_bounded_per_ticket_released_when_dropped_and_do_not_stop_its_use) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier udp(issuer.public_key(), kServer);
  JoinTicketVerifier tcp(issuer.public_key(), kServer);
  udp.share_used_nonces(tcp);
  const TicketCheck checked = udp.check(issuer.issue(42, 7, kServer), unix_time_ms());
  ASSERT_TRUE(checked.ok);
  const JoinTicket& ticket = checked.ticket;
  TicketHold first = udp.hold(ticket, unix_time_ms(), 2);
  TicketHold second = udp.hold(ticket, unix_time_ms(), 2);
  EXPECT_TRUE(first.held());
  EXPECT_TRUE(second.held());
  EXPECT_EQ(tcp.hold(ticket, unix_time_ms(), 2).outcome(), TicketHold::Outcome::busy)
      << "the verifiers of one server share the holds";
  // Another ticket is not held by these.
  const TicketCheck other = udp.check(issuer.issue(43, 7, kServer), unix_time_ms());
  ASSERT_TRUE(other.ok);
  EXPECT_TRUE(udp.hold(other.ticket, unix_time_ms(), 2).held());
  // An attempt that ends gives its place up, moved or not.
  TicketHold moved = std::move(second);
  EXPECT_FALSE(second.held());
  moved = TicketHold{};
  TicketHold third = udp.hold(ticket, unix_time_ms(), 2);
  EXPECT_TRUE(third.held());
  // A hold is no use: the first attempt admitted takes the ticket, then nobody holds it again.
  EXPECT_TRUE(tcp.use(ticket, unix_time_ms()));
  EXPECT_FALSE(udp.use(ticket, unix_time_ms()));
  first.release();
  third.release();
  EXPECT_EQ(udp.hold(ticket, unix_time_ms(), 2).outcome(), TicketHold::Outcome::used);
}

TEST(JoinTicket, verifiers_sharing_used_nonces_refuse_each_others_tickets) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier udp(issuer.public_key(), kServer);
  JoinTicketVerifier tcp(issuer.public_key(), kServer);
  const auto before = issuer.issue(1, 7, kServer);
  ASSERT_TRUE(tcp.verify(before, unix_time_ms()).ok);  // used before they share
  udp.share_used_nonces(tcp);
  EXPECT_EQ(udp.verify(before, unix_time_ms()).error, TicketError::reused);
  const auto after = issuer.issue(2, 7, kServer);
  ASSERT_TRUE(udp.verify(after, unix_time_ms()).ok);
  EXPECT_EQ(tcp.verify(after, unix_time_ms()).error, TicketError::reused);
  // A verifier that does not share still accepts it: the sharing is what refuses it.
  JoinTicketVerifier apart(issuer.public_key(), kServer);
  EXPECT_TRUE(apart.verify(after, unix_time_ms()).ok);
}

TEST(JoinTicket, tampering_with_any_byte_is_refused_or_changes_nothing) {
  const auto issuer = JoinTicketIssuer::generate();
  const auto ticket = issuer.issue(42, 7, kServer);
  const TicketCheck original =
      JoinTicketVerifier(issuer.public_key(), kServer).verify(ticket, unix_time_ms());
  ASSERT_TRUE(original.ok);
  int refused = 0;
  for (std::size_t i = 0; i < ticket.size(); ++i) {
    auto tampered = ticket;
    tampered[i] ^= std::byte{0x01};
    JoinTicketVerifier verifier(issuer.public_key(), kServer);
    const TicketCheck check = verifier.verify(tampered, unix_time_ms());
    if (!check.ok) {
      ++refused;
      continue;
    }
    // Only a byte the signed body does not cover (alignment padding of the envelope) can be
    // changed unnoticed, and then the ticket says exactly what the lobby signed.
    EXPECT_EQ(check.ticket.player_id, 42u) << "byte " << i;
    EXPECT_EQ(check.ticket.match_id, 7u) << "byte " << i;
    EXPECT_EQ(check.ticket.nonce, original.ticket.nonce) << "byte " << i;
  }
  EXPECT_GT(refused, static_cast<int>(ticket.size()) * 9 / 10);
}

TEST(JoinTicket, a_ticket_from_another_lobby_fails_the_signature) {
  const auto lobby = JoinTicketIssuer::generate();
  const auto impostor = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(lobby.public_key(), kServer);
  const TicketCheck check = verifier.verify(impostor.issue(1, 1, kServer), unix_time_ms());
  EXPECT_EQ(check.error, TicketError::bad_signature);
}

TEST(JoinTicket, expired_and_misdirected_tickets_are_refused) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  JoinTicket stale{1, 1, kServer, unix_time_ms() - 1, {}};
  EXPECT_EQ(verifier.verify(issuer.sign(stale), unix_time_ms()).error, TicketError::expired);
  EXPECT_EQ(verifier.verify(issuer.issue(1, 1, "127.0.0.1:7778"), unix_time_ms()).error,
            TicketError::wrong_server);
}

TEST(JoinTicket, garbage_and_oversize_input_is_malformed) {
  const auto issuer = JoinTicketIssuer::generate();
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  std::mt19937_64 random(test::test_seed(61));
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> garbage(random() % 400);
    for (auto& b : garbage)
      b = std::byte(random());
    EXPECT_FALSE(verifier.verify(garbage, unix_time_ms()).ok);
  }
  auto padded = issuer.issue(1, 1, kServer);
  padded.resize(4096);
  EXPECT_EQ(verifier.verify(padded, unix_time_ms()).error, TicketError::malformed);
}

TEST(JoinTicket, a_saved_secret_key_signs_the_same_way) {
  const auto issuer = JoinTicketIssuer::generate();
  const auto restored = JoinTicketIssuer::from_secret_key(issuer.secret_key());
  EXPECT_EQ(restored.public_key(), issuer.public_key());
  JoinTicketVerifier verifier(issuer.public_key(), kServer);
  EXPECT_TRUE(verifier.verify(restored.issue(3, 4, kServer), unix_time_ms()).ok);
}

TEST(JoinTicket, session_keys_are_fresh_per_ticket_and_only_their_server_opens_them) {
  const auto issuer = JoinTicketIssuer::generate();
  const auto server = GameServerSealKeys::generate();
  const IssuedTicket first = issuer.issue_with_keys(1, 9, kServer, server.public_key);
  const IssuedTicket second = issuer.issue_with_keys(2, 9, kServer, server.public_key);
  EXPECT_NE(first.keys, second.keys);
  EXPECT_NE(first.keys.client_to_server, first.keys.server_to_client);

  JoinTicketVerifier verifier(issuer.public_key(), kServer, server);
  const TicketCheck check = verifier.verify(first.ticket, unix_time_ms());
  ASSERT_TRUE(check.ok);
  ASSERT_TRUE(check.keys.has_value());
  EXPECT_EQ(*check.keys, first.keys);

  // Sealed for another server at the same address (a stolen address, a rotated key): no keys.
  const auto other = GameServerSealKeys::generate();
  JoinTicketVerifier wrong(issuer.public_key(), kServer, other);
  EXPECT_EQ(wrong.verify(second.ticket, unix_time_ms()).error, TicketError::no_keys);
  // A ticket without keys is refused by a server that requires them, and accepted (without
  // keys) by one that does not.
  EXPECT_EQ(wrong.verify(issuer.issue(3, 9, kServer), unix_time_ms()).error, TicketError::no_keys);
  JoinTicketVerifier plain(issuer.public_key(), kServer);
  const TicketCheck plain_check = plain.verify(second.ticket, unix_time_ms());
  EXPECT_TRUE(plain_check.ok);
  EXPECT_FALSE(plain_check.keys.has_value());
}

TEST(JoinTicket, a_saved_seal_secret_key_opens_the_same_tickets) {
  const auto issuer = JoinTicketIssuer::generate();
  const auto server = GameServerSealKeys::generate();
  const auto restored = GameServerSealKeys::from_secret_key(server.secret_key);
  EXPECT_EQ(restored.public_key, server.public_key);
  const IssuedTicket issued = issuer.issue_with_keys(1, 1, kServer, server.public_key);
  JoinTicketVerifier verifier(issuer.public_key(), kServer, restored);
  const TicketCheck check = verifier.verify(issued.ticket, unix_time_ms());
  ASSERT_TRUE(check.ok);
  EXPECT_EQ(check.keys, issued.keys);
}

}  // namespace
}  // namespace tickwire::net
