// Dedicated game servers registering with the lobby over the wire, as an attacker would try it:
// a key the lobby does not list, a signature recorded on one connection and replayed on another,
// an address that is not the server's own, a capacity over the cap, and a burst of guesses that
// meets a growing lockout. Honest servers (from another address: 127.0.0.2 is still loopback)
// register meanwhile, and two honest players keep chatting with nothing lost.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/honest_chatters.hpp"
#include "../support/log_capture.hpp"
#include "../support/raw_json_player.hpp"
#include "lobby_fixture.hpp"
#include "tickwire/net/lobby_client.hpp"

namespace tickwire::test {
namespace {

using net::lobby_detail::RegistrationChallenge;

// The close code of a refused registration (and of a locked-out address's attempt).
constexpr std::uint16_t kPolicyViolation = 1008;

bool json_ok(const std::string& reply) {
  return reply.find(R"("ok": true)") != std::string::npos;
}
bool json_code(const std::string& reply, std::string_view code) {
  return reply.find(R"("code": ")" + std::string(code) + "\"") != std::string::npos;
}

// The numbers of the JSON array `"field": [...]` in `text`, as bytes.
std::vector<std::uint8_t> json_bytes(const std::string& text, const std::string& field) {
  std::vector<std::uint8_t> out;
  const std::size_t at = text.find("\"" + field + "\": [");
  if (at == std::string::npos) return out;
  std::size_t i = text.find('[', at) + 1;
  while (i < text.size() && text[i] != ']') {
    if (text[i] >= '0' && text[i] <= '9') {
      std::size_t used = 0;
      out.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i), &used)));
      i += used;
    } else {
      ++i;
    }
  }
  return out;
}

template <typename Bytes>
std::string json_array(const Bytes& bytes) {
  std::string out = "[";
  for (const std::uint8_t byte : bytes) {
    if (out.size() > 1) out += ", ";
    out += std::to_string(byte);
  }
  return out + "]";
}

// The milliseconds of "locked out for N ms" in a refusal.
std::optional<long> lockout_ms(const std::string& reply) {
  const std::size_t at = reply.find("locked out for ");
  if (at == std::string::npos) return std::nullopt;
  return std::stol(reply.substr(at + 15));
}

// A dedicated game server speaking JSON from `source`: asks for a challenge and answers it.
class JsonGameServer {
 public:
  JsonGameServer(std::uint16_t port, const char* source) : socket_(port, source) {}

  bool upgraded() const { return socket_.status() == "HTTP/1.1 101"; }
  RawJsonPlayer& socket() { return socket_; }

  // The reply to GetRegistrationChallenge (request `id`); challenge() holds the challenge when
  // one came.
  std::string ask_challenge(std::uint64_t id) {
    const std::string reply = socket_.call(id, "GetRegistrationChallenge", "{}");
    const std::vector<std::uint8_t> bytes = json_bytes(reply, "challenge");
    challenge_.reset();
    if (bytes.size() == 32) {
      challenge_.emplace();
      std::copy(bytes.begin(), bytes.end(), challenge_->begin());
    }
    return reply;
  }
  const std::optional<RegistrationChallenge>& challenge() const { return challenge_; }

  // RegisterGameServer (request `id`) with these fields, as they are.
  std::string send_registration(std::uint64_t id, const std::string& address,
                                std::uint32_t capacity, const net::ServerPublicKey& key,
                                const net::lobby_detail::RegistrationSignature& signature) {
    return socket_.call(id, "RegisterGameServer",
                        R"({"address": ")" + address + R"(", "capacity": )" +
                            std::to_string(capacity) + R"(, "public_key": )" + json_array(key) +
                            R"(, "signature": )" + json_array(signature) + "}");
  }
  // A challenge (request `id`) answered with `address` and `capacity` signed by `identity` for
  // the lobby whose ticket key is `lobby_key` (request `id` + 1): the registration's reply, or
  // the challenge's when it was refused.
  std::string register_as(std::uint64_t id, const std::string& address, std::uint32_t capacity,
                          const net::ServerIdentity& identity,
                          const net::TicketPublicKey& lobby_key) {
    const std::string reply = ask_challenge(id);
    if (!challenge_) return reply;
    const auto signature = net::lobby_detail::sign_registration(identity, lobby_key, *challenge_,
                                                                {address, capacity, std::nullopt});
    return send_registration(id + 1, address, capacity, identity.public_key, signature);
  }

 private:
  RawJsonPlayer socket_;
  std::optional<RegistrationChallenge> challenge_;
};

// A dedicated game server as tickwire-server runs one: LobbyClient, from 127.0.0.1.
class HonestGameServer {
 public:
  HonestGameServer(std::uint16_t port, const net::ServerIdentity& identity,
                   const net::TicketPublicKey& lobby_key)
      : identity_(identity), lobby_key_(lobby_key) {
    net::LobbyClientConfig config;
    config.websocket.server_port = port;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.common.shutdown_timeout_ms = 200;
    auto made = net::LobbyClient::connect(config);
    if (made.ok()) client_ = std::move(made.value());
  }
  void poll() {
    if (!client_) return;
    net::LobbyEvent event;
    while (client_->poll(event)) {
      if (event.type == net::LobbyEventType::connected) {
        request_ = client_->register_game_server({.address = "127.0.0.1:7000",
                                                  .capacity = 16,
                                                  .identity = identity_,
                                                  .lobby_key = lobby_key_});
      }
      if (event.type == net::LobbyEventType::reply && event.request_id == request_) {
        registered_ = event.error == net::LobbyError::none;
        error_ = event.error_message;
      }
    }
  }
  bool wait_registered() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!registered_ && error_.empty() && std::chrono::steady_clock::now() < deadline) {
      poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return registered_;
  }
  const std::string& error() const { return error_; }

 private:
  net::ServerIdentity identity_;
  net::TicketPublicKey lobby_key_;
  std::unique_ptr<net::LobbyClient> client_;
  std::uint64_t request_ = 0;
  bool registered_ = false;
  std::string error_;
};

class LobbyRegistrationTest : public LobbyTest {
 protected:
  // A new player alone in a new room starts a match: the game server it was sent to.
  std::string solo_match_server(std::string_view nickname) {
    Player& player = add_player();
    hello_ok(player, nickname);
    EXPECT_TRUE(ok(call(player, 2, create_room(2, "solo"))));
    EXPECT_TRUE(ok(call(player, 3, set_ready(3, true))));
    EXPECT_TRUE(ok(call(player, 4, start_match(4))));
    const bool started =
        pump_players(players_, [&] { return !player.events(wire::LobbyBody::MatchStart).empty(); });
    EXPECT_TRUE(started);
    if (!started) return {};
    return player.events(wire::LobbyBody::MatchStart)[0]
        ->body_as_MatchStart()
        ->server_address()
        ->str();
  }
  // Two honest players chatting in their own room throughout the test.
  HonestChatters& chatters() {
    if (!chatters_) chatters_ = std::make_unique<HonestChatters>(lobby_->port());
    return *chatters_;
  }
  void expect_chat_unaffected() {
    ASSERT_TRUE(chatters().ready());
    const std::string lost = chatters().check_nothing_lost();
    EXPECT_TRUE(lost.empty()) << lost;
  }

  const net::ServerIdentity allowed_ = net::ServerIdentity::generate();
  std::unique_ptr<HonestChatters> chatters_;
};

TEST_F(LobbyRegistrationTest, an_allowed_key_registers_from_its_own_address_and_matches_go_to_it) {
  start(config_allowing({allowed_.public_key}));
  chatters().poll();
  // Over JSON, from another address: the address it names is its own.
  JsonGameServer server(lobby_->port(), "127.0.0.2");
  ASSERT_TRUE(server.upgraded());
  const std::string reply =
      server.register_as(1, "127.0.0.2:7000", 32, allowed_, issuer_.public_key());
  EXPECT_TRUE(json_ok(reply)) << reply;
  chatters().poll();
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.2:7000");
  chatters().poll();
  expect_chat_unaffected();
  const net::LobbyCounters counters = lobby_->counters();
  EXPECT_EQ(counters.registration_unknown_key + counters.registration_bad_signature +
                counters.registration_no_challenge + counters.registration_address_mismatch +
                counters.registration_over_capacity + counters.registration_locked_out,
            0u);
}

TEST_F(LobbyRegistrationTest, an_unknown_key_is_refused_and_costs_the_connection) {
  start(config_allowing({allowed_.public_key}));
  chatters().poll();
  Player& impostor = add_player();
  const auto stranger = net::ServerIdentity::generate();
  const auto* reply = register_as(impostor, 1, {"127.0.0.1:7000", 16}, stranger);
  EXPECT_EQ(code(reply), wire::ErrorCode::registration_refused);
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->result()->message()->str().find("allow-list"), std::string::npos);
  ASSERT_TRUE(pump_players(players_, [&] { return impostor.disconnected(); }));
  EXPECT_EQ(lobby_->counters().registration_unknown_key, 1u);
  // Matches still go to the lobby's own server.
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7777");
  chatters().poll();
  expect_chat_unaffected();
}

TEST_F(LobbyRegistrationTest, a_lobby_without_an_allow_list_takes_no_registration) {
  start();
  Player& server = add_player();
  EXPECT_EQ(code(call(server, 1, get_challenge(1))), wire::ErrorCode::registration_refused);
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7777");
}

TEST_F(LobbyRegistrationTest, a_signature_replayed_on_another_connection_or_challenge_is_refused) {
  start(config_allowing({allowed_.public_key}));
  chatters().poll();
  // The honest server's signature, as someone on the path records it (plain ws:// shows it).
  Player& honest = add_player();
  const auto challenge = challenge_for(honest, 1);
  ASSERT_TRUE(challenge.has_value());
  const ServerClaim claim{"127.0.0.1:7000", 16};
  const auto recorded = net::lobby_detail::sign_registration(allowed_, issuer_.public_key(),
                                                             *challenge, {claim.address, 16, {}});

  // Replayed on the attacker's own connection, against the challenge it got there.
  JsonGameServer attacker(lobby_->port(), "127.0.0.2");
  ASSERT_TRUE(json_ok(attacker.ask_challenge(1)));
  const std::string replayed =
      attacker.send_registration(2, claim.address, 16, allowed_.public_key, recorded);
  EXPECT_TRUE(json_code(replayed, "registration_refused")) << replayed;
  EXPECT_EQ(attacker.socket().close_code(std::chrono::seconds(3)), kPolicyViolation);
  EXPECT_EQ(lobby_->counters().registration_bad_signature, 1u);

  // Sent without asking for a challenge at all: refused too.
  JsonGameServer hasty(lobby_->port(), "127.0.0.3");
  const std::string unasked =
      hasty.send_registration(1, claim.address, 16, allowed_.public_key, recorded);
  EXPECT_TRUE(json_code(unasked, "registration_refused")) << unasked;
  EXPECT_EQ(lobby_->counters().registration_no_challenge, 1u);

  // The honest server's own registration still goes through, once.
  ASSERT_TRUE(
      ok(call(honest, 2, register_server(2, claim, allowed_, *challenge, issuer_.public_key()))));
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7000");
  chatters().poll();
  // The same signature again on its own connection, after a new challenge: refused.
  ASSERT_TRUE(challenge_for(honest, 3).has_value());
  EXPECT_EQ(
      code(call(honest, 4, register_server(4, claim, allowed_, *challenge, issuer_.public_key()))),
      wire::ErrorCode::registration_refused);
  EXPECT_EQ(lobby_->counters().registration_bad_signature, 2u);
  chatters().poll();
  expect_chat_unaffected();
}

TEST_F(LobbyRegistrationTest, a_server_may_register_only_its_own_address) {
  start(config_allowing({allowed_.public_key}));
  chatters().poll();
  // A holder of an allowed key cannot send every match to another machine.
  Player& server = add_player();
  const auto* reply = register_as(server, 1, {"10.0.0.5:7000", 16}, allowed_);
  EXPECT_EQ(code(reply), wire::ErrorCode::registration_refused);
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->result()->message()->str().find("127.0.0.1"), std::string::npos);
  // Nor to a name that points anywhere.
  JsonGameServer named(lobby_->port(), "127.0.0.2");
  EXPECT_TRUE(
      json_code(named.register_as(1, "game.example.com:7000", 16, allowed_, issuer_.public_key()),
                "registration_refused"));
  EXPECT_EQ(lobby_->counters().registration_address_mismatch, 2u);
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7777");
  chatters().poll();
  expect_chat_unaffected();
}

TEST_F(LobbyRegistrationTest, an_operator_may_allow_any_address) {
  net::LobbyConfig config = config_allowing({allowed_.public_key});
  config.allow_any_registered_address = true;
  start(config);
  Player& server = add_player();
  ASSERT_TRUE(ok(register_as(server, 1, {"10.0.0.5:7000", 16}, allowed_)));
  EXPECT_EQ(solo_match_server("ann"), "10.0.0.5:7000");
}

TEST_F(LobbyRegistrationTest, a_capacity_over_the_cap_is_refused) {
  net::LobbyConfig config = config_allowing({allowed_.public_key});
  config.max_game_server_capacity = 100;
  start(config);
  chatters().poll();
  Player& greedy = add_player();
  const auto* reply = register_as(greedy, 1, {"127.0.0.1:7000", 101}, allowed_);
  EXPECT_EQ(code(reply), wire::ErrorCode::registration_refused);
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->result()->message()->str().find("max_game_server_capacity (100)"),
            std::string::npos);
  EXPECT_EQ(lobby_->counters().registration_over_capacity, 1u);
  // At the cap, from another address: taken.
  JsonGameServer server(lobby_->port(), "127.0.0.2");
  EXPECT_TRUE(
      json_ok(server.register_as(1, "127.0.0.2:7000", 100, allowed_, issuer_.public_key())));
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.2:7000");
  chatters().poll();
  expect_chat_unaffected();

  config.max_game_server_capacity = 0;
  EXPECT_NE(config.validate().message().find("max_game_server_capacity"), std::string::npos);
}

TEST_F(LobbyRegistrationTest, a_burst_of_bad_attempts_meets_growing_lockouts_and_no_one_else_does) {
  LogCapture capture;
  net::LobbyConfig config = config_allowing({allowed_.public_key});
  // Short lockouts, so that the attacker gets to fail several times in a test's time; the test
  // waits for each to pass instead of asserting how long anything took.
  config.registration_lockout_ms = 20;
  config.registration_max_lockout_ms = 160;
  start(config);
  chatters().poll();
  const auto stranger = net::ServerIdentity::generate();
  const net::lobby_detail::RegistrationSignature made_up{};
  std::optional<HonestGameServer> honest;

  std::vector<long> lockouts;      // after each failure, as the refusal states it
  std::size_t locked_replies = 0;  // attempts refused as locked out, with the time left
  while (lockouts.size() < 6) {
    JsonGameServer attacker(lobby_->port(), "127.0.0.2");
    ASSERT_TRUE(attacker.upgraded());
    std::string reply = attacker.ask_challenge(1);
    if (const auto& challenge = attacker.challenge()) {
      // A guess: a key the lobby does not list, or (every other try) the allowed key with a
      // signature made up.
      reply =
          lockouts.size() % 2 == 0
              ? attacker.send_registration(
                    2, "127.0.0.2:7000", 16, stranger.public_key,
                    net::lobby_detail::sign_registration(stranger, issuer_.public_key(), *challenge,
                                                         {"127.0.0.2:7000", 16, {}}))
              : attacker.send_registration(2, "127.0.0.2:7000", 16, allowed_.public_key, made_up);
    }
    const std::optional<long> lockout = lockout_ms(reply);
    ASSERT_TRUE(lockout.has_value()) << "no lockout stated: " << reply;
    EXPECT_EQ(attacker.socket().close_code(std::chrono::seconds(3)), kPolicyViolation);
    if (json_code(reply, "rate_limited")) {
      ++locked_replies;
    } else {
      ASSERT_TRUE(json_code(reply, "registration_refused")) << reply;
      lockouts.push_back(*lockout);
    }
    // While 127.0.0.2 is locked out, an honest server registers from 127.0.0.1.
    if (!honest) honest.emplace(lobby_->port(), allowed_, issuer_.public_key());
    honest->poll();
    chatters().poll();
    // The attacker's best: wait out the lockout before the next guess.
    std::this_thread::sleep_for(std::chrono::milliseconds(*lockout + 5));
  }
  // Each failure doubled the lockout, up to the cap.
  EXPECT_EQ(lockouts, (std::vector<long>{20, 40, 80, 160, 160, 160}));
  const net::LobbyCounters counters = lobby_->counters();
  EXPECT_EQ(counters.registration_unknown_key, 3u);
  EXPECT_EQ(counters.registration_bad_signature, 3u);
  EXPECT_EQ(counters.registration_locked_out, locked_replies);
  // The operator's log names the address and the lockout, as warnings, and nothing else's.
  const auto lines = capture.matching("lobby", "game server registration from ");
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    EXPECT_EQ(line.level, net::LogLevel::warning);
    EXPECT_NE(line.message.find("127.0.0.2"), std::string::npos) << line.message;
    EXPECT_NE(line.message.find("locked out"), std::string::npos) << line.message;
  }

  // The honest server from another address registered meanwhile, and matches go to it.
  ASSERT_TRUE(honest->wait_registered()) << honest->error();
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7000");
  chatters().poll();
  expect_chat_unaffected();
}

}  // namespace
}  // namespace tickwire::test
