// The pieces of game-server registration without sockets: the allow-list file, what a signature
// binds, and the per-address lockout driven by a clock the test moves.

#include <gtest/gtest.h>
#include <sodium.h>

#include <chrono>
#include <string>

#include "lobby/lobby_metrics.hpp"
#include "lobby/registration_backoff.hpp"
#include "lobby/registration_statement.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::net {
namespace {

using lobby_detail::RegistrationBackoff;
using namespace std::chrono_literals;

std::string hex(const ServerPublicKey& key) {
  char out[65];
  sodium_bin2hex(out, sizeof out, key.data(), key.size());
  return out;
}
std::string base64(const ServerPublicKey& key) {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

TEST(GameServerKeys, hex_and_base64_lines_with_names_and_comments_are_read) {
  const auto a = ServerIdentity::generate().public_key;
  const auto b = ServerIdentity::generate().public_key;
  const auto c = ServerIdentity::generate().public_key;
  const std::string text = "# game servers of eu-west\n\n" + hex(a) + "  eu-1\n" + base64(b) +
                           "\teu-2 (spare)\r\n   " + hex(c) + "\n";
  auto keys = parse_game_server_keys(text);
  ASSERT_TRUE(keys.ok()) << keys.error();
  EXPECT_EQ(keys.value(), (std::vector<ServerPublicKey>{a, b, c}));
}

TEST(GameServerKeys, a_bad_line_is_named) {
  const auto a = ServerIdentity::generate().public_key;
  for (const std::string& bad : {hex(a).substr(1), hex(a) + "0", std::string(64, 'g'),
                                 base64(a).substr(0, 40), std::string("let-me-in")}) {
    const auto keys = parse_game_server_keys("# ok\n" + hex(a) + "\n" + bad + " name\n");
    ASSERT_FALSE(keys.ok()) << bad;
    EXPECT_NE(keys.error().find("line 3"), std::string::npos) << keys.error();
  }
  EXPECT_FALSE(read_game_server_keys("/nonexistent/tickwire/keys").ok());
}

TEST(RegistrationStatement, a_signature_holds_for_exactly_what_was_signed) {
  const auto server = ServerIdentity::generate();
  const auto lobby = JoinTicketIssuer::generate().public_key();
  const auto challenge = lobby_detail::new_registration_challenge();
  const ServerSealPublicKey seal{7};
  const lobby_detail::RegistrationClaim claim{"127.0.0.1:7000", 16, seal};
  const auto signature = lobby_detail::sign_registration(server, lobby, challenge, claim);
  EXPECT_TRUE(
      lobby_detail::verify_registration(server.public_key, signature, lobby, challenge, claim));
  // Any field changed, another challenge, another lobby, another key: no longer.
  const auto fails = [&](const ServerPublicKey& key, const TicketPublicKey& for_lobby,
                         const lobby_detail::RegistrationChallenge& for_challenge,
                         const lobby_detail::RegistrationClaim& what) {
    return !lobby_detail::verify_registration(key, signature, for_lobby, for_challenge, what);
  };
  EXPECT_TRUE(fails(server.public_key, lobby, challenge, {"127.0.0.1:7001", 16, seal}));
  EXPECT_TRUE(fails(server.public_key, lobby, challenge, {"127.0.0.1:7000", 17, seal}));
  EXPECT_TRUE(fails(server.public_key, lobby, challenge, {"127.0.0.1:7000", 16, std::nullopt}));
  EXPECT_TRUE(
      fails(server.public_key, lobby, challenge, {"127.0.0.1:7000", 16, ServerSealPublicKey{8}}));
  EXPECT_TRUE(fails(server.public_key, lobby, lobby_detail::new_registration_challenge(), claim));
  EXPECT_TRUE(
      fails(server.public_key, JoinTicketIssuer::generate().public_key(), challenge, claim));
  EXPECT_TRUE(fails(ServerIdentity::generate().public_key, lobby, challenge, claim));
  EXPECT_FALSE(lobby_detail::verify_registration(server.public_key, std::span(signature).first(63),
                                                 lobby, challenge, claim));
}

RegistrationBackoff::Limits limits() {
  RegistrationBackoff::Limits limits;
  limits.first_lockout = 1000ms;
  limits.max_lockout = 8000ms;
  limits.forget_after = 60'000ms;
  limits.max_addresses = 3;
  return limits;
}

TEST(RegistrationBackoff, each_failure_doubles_the_lockout_up_to_the_cap) {
  RegistrationBackoff backoff(limits());
  auto now = RegistrationBackoff::Clock::time_point{} + 1h;
  std::vector<long long> lockouts;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(backoff.locked_for("10.0.0.1", now), 0ms) << "after failure " << i;
    const auto lockout = backoff.fail("10.0.0.1", now);
    lockouts.push_back(lockout.count());
    EXPECT_EQ(backoff.locked_for("10.0.0.1", now), lockout);
    EXPECT_EQ(backoff.locked_for("10.0.0.1", now + lockout - 1ms), 1ms);
    // Another address is not touched.
    EXPECT_EQ(backoff.locked_for("10.0.0.2", now), 0ms);
    now += lockout;
  }
  EXPECT_EQ(lockouts, (std::vector<long long>{1000, 2000, 4000, 8000, 8000, 8000}));
}

TEST(RegistrationBackoff, a_quiet_address_and_a_successful_one_start_afresh) {
  RegistrationBackoff backoff(limits());
  auto now = RegistrationBackoff::Clock::time_point{} + 1h;
  backoff.fail("10.0.0.1", now);
  now += 1000ms;
  EXPECT_EQ(backoff.fail("10.0.0.1", now), 2000ms);
  // Quiet for less than forget_after after the lockout: the count stays.
  EXPECT_EQ(backoff.failures("10.0.0.1", now + 2000ms + 59'999ms), 2u);
  // Quiet for forget_after: the next failure is a first again.
  now += 2000ms + 60'000ms;
  EXPECT_EQ(backoff.failures("10.0.0.1", now), 0u);
  EXPECT_EQ(backoff.fail("10.0.0.1", now), 1000ms);
  now += 1000ms;
  backoff.succeed("10.0.0.1");
  EXPECT_EQ(backoff.fail("10.0.0.1", now), 1000ms);
}

TEST(RegistrationBackoff, many_addresses_cannot_grow_the_table_without_bound) {
  RegistrationBackoff backoff(limits());
  const auto now = RegistrationBackoff::Clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i)
    backoff.fail("10.0.1." + std::to_string(i), now + std::chrono::milliseconds(i));
  EXPECT_LE(backoff.remembered(), 3u);
  // The newest are the ones remembered (the oldest lockouts end first and go first).
  EXPECT_GT(backoff.locked_for("10.0.1.99", now + 99ms), 0ms);
}

TEST(LobbyConfig, registration_limits_are_validated) {
  // Valid apart from what each check changes (a plaintext lobby needs no certificate files).
  const auto valid = [] {
    LobbyConfig config;
    config.websocket.transport_security = WebSocketSecurity::insecure_plaintext;
    return config;
  };
  LobbyConfig config = valid();
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  config.registration_max_lockout_ms = config.registration_lockout_ms - 1;
  EXPECT_NE(config.validate().message().find("registration_max_lockout_ms"), std::string::npos);
  config = valid();
  config.registration_lockout_ms = 0;
  EXPECT_NE(config.validate().message().find("registration_lockout_ms"), std::string::npos);
  config = valid();
  config.max_game_server_capacity = 1'000'001;
  EXPECT_NE(config.validate().message().find("max_game_server_capacity"), std::string::npos);
}

TEST(LobbyMetrics, registration_refusals_are_exported_by_reason) {
  LobbyCounters counters;
  counters.registration_unknown_key = 3;
  counters.registration_locked_out = 5;
  const std::string text = lobby_detail::render_prometheus(counters);
  EXPECT_NE(text.find("tickwire_lobby_registrations_refused_total{reason=\"unknown_key\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("tickwire_lobby_registrations_refused_total{reason=\"locked_out\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("tickwire_lobby_registrations_refused_total{reason=\"bad_signature\"} 0"),
            std::string::npos);
}

}  // namespace
}  // namespace tickwire::net
