// The lobby's client API against a real LobbyServer on loopback: what a game's menu or a bot
// sees, from Hello to the join ticket.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/lobby_client.hpp"

namespace tickwire::test {
namespace {

using net::LobbyClient;
using net::LobbyEvent;
using net::LobbyEventType;

struct Client {
  std::unique_ptr<LobbyClient> lobby;
  std::vector<LobbyEvent> events;

  const LobbyEvent* find(LobbyEventType type) const {
    for (const LobbyEvent& e : events) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }
  const LobbyEvent* reply(std::uint64_t request) const {
    for (const LobbyEvent& e : events) {
      if (e.type == LobbyEventType::reply && e.request_id == request) return &e;
    }
    return nullptr;
  }
};

class LobbyClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net::LobbyConfig config;
    config.websocket.security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.port = 0;
    config.websocket.common.shutdown_timeout_ms = 300;
    config.local_game_server = "127.0.0.1:7777";
    config.local_game_server_seal_key = local_server_.public_key;
    config.game_server_secret = "let-me-in";
    lobby_ = std::make_unique<net::LobbyServer>(config, issuer_);
    ASSERT_TRUE(lobby_->start().ok());
  }

  // A connected client that has not said Hello.
  Client& connect() {
    net::LobbyClientConfig config;
    config.websocket.security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.server_port = lobby_->port();
    auto client = LobbyClient::connect(config);
    EXPECT_TRUE(client.ok()) << client.error();
    clients_.push_back(std::make_unique<Client>(Client{std::move(client.value()), {}}));
    Client& added = *clients_.back();
    EXPECT_TRUE(pump([&] { return added.find(LobbyEventType::connected) != nullptr; }));
    return added;
  }
  Client& add(std::string_view nickname) {
    Client& added = connect();
    const std::uint64_t hello = added.lobby->hello(nickname);
    EXPECT_NE(hello, 0u);
    EXPECT_TRUE(pump([&] { return added.find(LobbyEventType::welcome) != nullptr; }));
    return added;
  }

  // Polls every client until `done` or 5 s pass.
  bool pump(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& client : clients_) {
        LobbyEvent event;
        while (client->lobby->poll(event, std::chrono::milliseconds(1)))
          client->events.push_back(std::move(event));
      }
      if (done()) return true;
    }
    return false;
  }

  net::JoinTicketIssuer issuer_ = net::JoinTicketIssuer::generate();
  net::GameServerSealKeys local_server_ = net::GameServerSealKeys::generate();
  std::unique_ptr<net::LobbyServer> lobby_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(LobbyClientTest, two_players_meet_chat_get_ready_and_receive_tickets) {
  Client& ann = add("ann");
  Client& bob = add("bob");
  EXPECT_EQ(ann.lobby->nickname(), "ann");
  EXPECT_NE(ann.lobby->player_id(), bob.lobby->player_id());
  EXPECT_FALSE(ann.lobby->resume_token().empty());

  ann.lobby->create_room("arena night", "arena", 8);
  ASSERT_TRUE(pump([&] { return ann.lobby->room().has_value(); }));
  EXPECT_TRUE(ann.lobby->is_host());

  const std::uint64_t list = bob.lobby->list_rooms("arena", true);
  ASSERT_TRUE(pump([&] { return bob.reply(list) != nullptr; }));
  ASSERT_EQ(bob.lobby->rooms().size(), 1u);
  EXPECT_EQ(bob.lobby->rooms()[0].name, "arena night");
  bob.lobby->join_room(bob.lobby->rooms()[0].room_id);
  // Both see both members.
  ASSERT_TRUE(pump([&] {
    return ann.lobby->room() && ann.lobby->room()->members.size() == 2 && bob.lobby->room() &&
           bob.lobby->room()->members.size() == 2;
  }));
  EXPECT_FALSE(bob.lobby->is_host());

  bob.lobby->chat("hello ann");
  ASSERT_TRUE(pump([&] { return ann.find(LobbyEventType::chat) != nullptr; }));
  EXPECT_EQ(ann.find(LobbyEventType::chat)->chat.text, "hello ann");
  EXPECT_EQ(ann.find(LobbyEventType::chat)->chat.from_nickname, "bob");

  // Starting before everyone is ready is refused with its code.
  const std::uint64_t early = ann.lobby->start_match();
  ASSERT_TRUE(pump([&] { return ann.reply(early) != nullptr; }));
  EXPECT_EQ(ann.reply(early)->error, net::LobbyError::not_all_ready);

  ann.lobby->set_ready(true);
  bob.lobby->set_ready(true);
  ASSERT_TRUE(pump(
      [&] { return ann.lobby->room()->everyone_ready() && bob.lobby->room()->everyone_ready(); }));
  ann.lobby->start_match();
  ASSERT_TRUE(pump([&] {
    return ann.find(LobbyEventType::match_start) && bob.find(LobbyEventType::match_start);
  }));

  // Each gets their own session keys, the same the game server finds sealed in their ticket.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7777", local_server_);
  for (Client* client : {&ann, &bob}) {
    const net::LobbyMatch& match = client->find(LobbyEventType::match_start)->match;
    EXPECT_EQ(match.server_address, "127.0.0.1:7777");
    const net::TicketCheck check = verifier.verify(match.ticket, net::unix_time_ms());
    ASSERT_TRUE(check.ok) << net::to_string(check.error);
    EXPECT_EQ(check.ticket.player_id, client->lobby->player_id());
    EXPECT_EQ(check.ticket.match_id, match.match_id);
    ASSERT_TRUE(match.session_keys.has_value());
    EXPECT_EQ(check.keys, match.session_keys);
  }
  EXPECT_NE(ann.find(LobbyEventType::match_start)->match.session_keys,
            bob.find(LobbyEventType::match_start)->match.session_keys);
}

TEST_F(LobbyClientTest, a_dedicated_server_registers_its_seal_key_and_tickets_are_sealed_to_it) {
  const auto keys = net::GameServerSealKeys::generate();
  Client& server = connect();
  const std::uint64_t registration =
      server.lobby->register_game_server("10.0.0.5:7000", 16, "let-me-in", keys.public_key);
  ASSERT_TRUE(pump([&] { return server.reply(registration) != nullptr; }));
  ASSERT_EQ(server.reply(registration)->error, net::LobbyError::none)
      << server.reply(registration)->error_message;

  Client& host = add("host");
  host.lobby->create_room("r", "arena");
  ASSERT_TRUE(pump([&] { return host.lobby->room().has_value(); }));
  host.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return host.lobby->room()->everyone_ready(); }));
  host.lobby->start_match();
  ASSERT_TRUE(pump([&] { return host.find(LobbyEventType::match_start) != nullptr; }));
  const net::LobbyMatch& match = host.find(LobbyEventType::match_start)->match;
  EXPECT_EQ(match.server_address, "10.0.0.5:7000");
  net::JoinTicketVerifier verifier(issuer_.public_key(), "10.0.0.5:7000", keys);
  const net::TicketCheck check = verifier.verify(match.ticket, net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  ASSERT_TRUE(match.session_keys.has_value());
  EXPECT_EQ(check.keys, match.session_keys);
  // The game server's own connection never sees a player's keys.
  EXPECT_EQ(server.find(LobbyEventType::match_start), nullptr);
}

TEST_F(LobbyClientTest, when_the_game_server_ends_the_match_the_room_returns_to_the_lobby) {
  Client& host = add("host");
  host.lobby->create_room("r", "arena");
  ASSERT_TRUE(pump([&] { return host.lobby->room().has_value(); }));
  host.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return host.lobby->room()->everyone_ready(); }));
  host.lobby->start_match();
  ASSERT_TRUE(pump([&] { return host.find(LobbyEventType::match_start) != nullptr; }));
  EXPECT_TRUE(host.lobby->room()->summary.in_match);
  // The game server in this process reports the end, from its own thread.
  lobby_->end_match(host.find(LobbyEventType::match_start)->match.match_id);
  ASSERT_TRUE(pump([&] { return host.find(LobbyEventType::match_end) != nullptr; }));
  EXPECT_EQ(host.find(LobbyEventType::match_end)->match_id,
            host.find(LobbyEventType::match_start)->match.match_id);
  EXPECT_FALSE(host.lobby->room()->summary.in_match);
  EXPECT_FALSE(host.lobby->room()->everyone_ready());
}

TEST_F(LobbyClientTest, a_kicked_player_is_told_and_leaves_the_room) {
  Client& host = add("host");
  Client& guest = add("guest");
  host.lobby->create_room("r", "arena");
  ASSERT_TRUE(pump([&] { return host.lobby->room().has_value(); }));
  guest.lobby->join_room(host.lobby->room()->summary.room_id);
  ASSERT_TRUE(pump([&] { return host.lobby->room()->members.size() == 2; }));
  host.lobby->kick(guest.lobby->player_id());
  ASSERT_TRUE(pump([&] { return guest.find(LobbyEventType::room_left) != nullptr; }));
  EXPECT_TRUE(guest.find(LobbyEventType::room_left)->kicked);
  EXPECT_FALSE(guest.lobby->room().has_value());
  ASSERT_TRUE(pump([&] { return host.lobby->room()->members.size() == 1; }));
}

TEST_F(LobbyClientTest, errors_come_back_with_their_code_and_a_taken_name_is_refused) {
  add("taken");
  net::LobbyClientConfig config;
  config.websocket.security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.server_port = lobby_->port();
  clients_.push_back(
      std::make_unique<Client>(Client{std::move(LobbyClient::connect(config).value()), {}}));
  Client& second = *clients_.back();
  ASSERT_TRUE(pump([&] { return second.find(LobbyEventType::connected) != nullptr; }));
  const std::uint64_t hello = second.lobby->hello("TAKEN");
  ASSERT_TRUE(pump([&] { return second.reply(hello) != nullptr; }));
  EXPECT_EQ(second.reply(hello)->error, net::LobbyError::nickname_taken);
  EXPECT_FALSE(second.reply(hello)->error_message.empty());
  EXPECT_EQ(second.lobby->state(), net::LobbyClientState::connected);
  const std::uint64_t join = second.lobby->join_room(1);
  ASSERT_TRUE(pump([&] { return second.reply(join) != nullptr; }));
  EXPECT_EQ(second.reply(join)->error, net::LobbyError::hello_required);
}

}  // namespace
}  // namespace tickwire::test
