// The lobby's client API against a real LobbyServer on loopback: what a game's menu or a bot
// sees, from Hello to the join ticket.

#include <gtest/gtest.h>

#include <algorithm>
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
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.port = 0;
    config.websocket.common.shutdown_timeout_ms = 300;
    config.local_game_server = "127.0.0.1:7777";
    config.local_game_server_websocket = "127.0.0.1:7778";
    config.local_game_server_seal_key = local_server_.public_key;
    config.game_server_keys = {server_identity_.public_key};
    configure(config);
    lobby_ = std::make_unique<net::LobbyServer>(config, issuer_);
    ASSERT_TRUE(lobby_->start().ok());
  }
  // What a fixture of stuck matches changes in the config.
  virtual void configure(net::LobbyConfig& /*config*/) {}

  // A player who hosts a room of their own, ready; returns it once the room is made.
  Client& host_ready(std::string_view nickname) {
    Client& host = add(nickname);
    host.lobby->create_room(std::string(nickname) + "'s room", "arena");
    EXPECT_TRUE(pump([&] { return host.lobby->room().has_value(); }));
    host.lobby->set_ready(true);
    EXPECT_TRUE(pump([&] { return host.lobby->room() && host.lobby->room()->everyone_ready(); }));
    return host;
  }
  // Starts `host`'s match and returns its id (0 if it did not start).
  std::uint64_t start(Client& host) {
    const std::size_t starts = count(host, LobbyEventType::match_start);
    host.lobby->start_match();
    if (!pump([&] { return count(host, LobbyEventType::match_start) > starts; })) return 0;
    return last(host, LobbyEventType::match_start)->match.match_id;
  }
  static std::size_t count(const Client& client, LobbyEventType type) {
    return static_cast<std::size_t>(
        std::count_if(client.events.begin(), client.events.end(),
                      [type](const LobbyEvent& e) { return e.type == type; }));
  }
  static const LobbyEvent* last(const Client& client, LobbyEventType type) {
    for (auto it = client.events.rbegin(); it != client.events.rend(); ++it) {
      if (it->type == type) return &*it;
    }
    return nullptr;
  }

  // A connected client that has not said Hello.
  Client& connect() {
    net::LobbyClientConfig config;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
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

  // Polls every client until `done` or `timeout` passes.
  bool pump(const std::function<bool()>& done,
            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& client : clients_) {
        if (!client->lobby) continue;  // a client the test closed
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
  net::ServerIdentity server_identity_ = net::ServerIdentity::generate();
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
    EXPECT_EQ(match.websocket_address, "127.0.0.1:7778");  // where UDP-less players go
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
      server.lobby->register_game_server({.address = "127.0.0.1:7000",
                                          .capacity = 16,
                                          .identity = server_identity_,
                                          .seal_key = keys.public_key,
                                          .lobby_key = issuer_.public_key(),
                                          .websocket_address = "127.0.0.1:7001"});
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
  EXPECT_EQ(match.server_address, "127.0.0.1:7000");
  EXPECT_EQ(match.websocket_address, "127.0.0.1:7001");
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7000", keys);
  const net::TicketCheck check = verifier.verify(match.ticket, net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  ASSERT_TRUE(match.session_keys.has_value());
  EXPECT_EQ(check.keys, match.session_keys);
  // The game server's own connection never sees a player's keys.
  EXPECT_EQ(server.find(LobbyEventType::match_start), nullptr);
}

TEST_F(LobbyClientTest, a_game_server_expecting_another_lobby_does_not_sign_for_this_one) {
  Client& server = connect();
  const std::uint64_t registration = server.lobby->register_game_server(
      {.address = "127.0.0.1:7000",
       .capacity = 16,
       .identity = server_identity_,
       .lobby_key = net::JoinTicketIssuer::generate().public_key()});
  ASSERT_TRUE(pump([&] { return server.reply(registration) != nullptr; }));
  EXPECT_EQ(server.reply(registration)->error, net::LobbyError::registration_refused);
  EXPECT_NE(server.reply(registration)->error_message.find("ticket key"), std::string::npos)
      << server.reply(registration)->error_message;
  // Nothing was sent to be refused: the lobby counts no failure, and matches stay local.
  EXPECT_EQ(lobby_->counters().registration_bad_signature, 0u);
  Client& host = add("host");
  host.lobby->create_room("r", "arena");
  ASSERT_TRUE(pump([&] { return host.lobby->room().has_value(); }));
  host.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return host.lobby->room()->everyone_ready(); }));
  host.lobby->start_match();
  ASSERT_TRUE(pump([&] { return host.find(LobbyEventType::match_start) != nullptr; }));
  EXPECT_EQ(host.find(LobbyEventType::match_start)->match.server_address, "127.0.0.1:7777");
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
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
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

TEST_F(LobbyClientTest, a_player_back_while_the_match_runs_gets_a_fresh_ticket_for_their_seat) {
  Client& ann = add("ann");
  ann.lobby->create_room("r", "arena");
  ASSERT_TRUE(pump([&] { return ann.lobby->room().has_value(); }));
  ann.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return ann.lobby->room()->everyone_ready(); }));
  ann.lobby->start_match();
  ASSERT_TRUE(pump([&] { return ann.find(LobbyEventType::match_start) != nullptr; }));
  const net::LobbyMatch first = ann.find(LobbyEventType::match_start)->match;
  // The game server admits her with it: its nonce is used up.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7777", local_server_);
  ASSERT_TRUE(verifier.verify(first.ticket, net::unix_time_ms()).ok);

  // Her game crashes; the new process comes back with her resume token.
  const std::string token = ann.lobby->resume_token();
  const std::uint64_t player = ann.lobby->player_id();
  ann.lobby.reset();
  Client& back = connect();
  back.lobby->hello_resume(token);
  ASSERT_TRUE(pump([&] { return back.find(LobbyEventType::match_start) != nullptr; }));
  EXPECT_EQ(back.lobby->player_id(), player);
  const net::LobbyMatch& again = back.find(LobbyEventType::match_start)->match;
  EXPECT_EQ(again.match_id, first.match_id);
  EXPECT_EQ(again.server_address, first.server_address);
  EXPECT_NE(again.session_keys, first.session_keys);
  // The fresh ticket gets her in, to the same seat; the old one stays burnt.
  const net::TicketCheck check = verifier.verify(again.ticket, net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  EXPECT_EQ(check.ticket.player_id, player);
  EXPECT_EQ(check.ticket.match_id, first.match_id);
  EXPECT_EQ(check.keys, again.session_keys);
  EXPECT_EQ(verifier.verify(first.ticket, net::unix_time_ms()).error, net::TicketError::reused);
}

// Rooms never stay in a match for ever: every way a match can get stuck ends it, and the room's
// players are told why. Short deadlines, so that the tests need not wait long.
class LobbyStuckMatchTest : public LobbyClientTest {
 protected:
  void configure(net::LobbyConfig& config) override {
    config.ticket_lifetime_ms = 1000;
    config.match_join_deadline_ms = 1000;
    config.game_server_lease_ms = 3000;  // room for a loaded machine between heartbeats
    config.allow_any_registered_address = true;
  }
  // A dedicated game server on this client's connection, registered as `address`.
  bool register_server(Client& server, const std::string& address, std::uint32_t capacity) {
    const std::uint64_t request = server.lobby->register_game_server(
        {.address = address, .capacity = capacity, .identity = server_identity_});
    return pump([&] { return server.reply(request) != nullptr; }) &&
           server.reply(request)->error == net::LobbyError::none;
  }
};

TEST_F(LobbyStuckMatchTest, a_match_nobody_reaches_ends_as_nobody_joined_one_that_began_plays_on) {
  Client& bob = host_ready("bob");
  Client& ann = host_ready("ann");
  // Bob's starts first and its game server sees a player; nobody ever reaches Ann's.
  const std::uint64_t bobs = start(bob);
  ASSERT_NE(bobs, 0u);
  lobby_->match_began(bobs);
  ASSERT_NE(start(ann), 0u);
  ASSERT_TRUE(pump([&] { return ann.find(LobbyEventType::match_end) != nullptr; },
                   std::chrono::seconds(20)));
  EXPECT_EQ(ann.find(LobbyEventType::match_end)->match_end_reason,
            net::MatchEndReason::nobody_joined);
  EXPECT_FALSE(ann.lobby->room()->summary.in_match);
  // Bob's match started earlier, so its deadline has passed too: it plays on because it began.
  EXPECT_EQ(bob.find(LobbyEventType::match_end), nullptr);
  EXPECT_TRUE(bob.lobby->room()->summary.in_match);
  // Ann's room is free again: the next match starts.
  ann.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return ann.lobby->room()->everyone_ready(); }));
  EXPECT_NE(start(ann), 0u);
}

TEST_F(LobbyStuckMatchTest, a_match_its_players_abandoned_returns_the_room_with_the_reason) {
  Client& ann = host_ready("ann");
  const std::uint64_t match = start(ann);
  ASSERT_NE(match, 0u);
  lobby_->match_began(match);
  lobby_->end_match(match, net::MatchEndReason::abandoned);
  ASSERT_TRUE(pump([&] { return ann.find(LobbyEventType::match_end) != nullptr; }));
  EXPECT_EQ(ann.find(LobbyEventType::match_end)->match_end_reason, net::MatchEndReason::abandoned);
  EXPECT_FALSE(ann.lobby->room()->summary.in_match);
}

TEST_F(LobbyStuckMatchTest, a_silent_game_server_loses_its_matches_and_one_still_reporting_keeps) {
  Client& silent = connect();
  ASSERT_TRUE(register_server(silent, "10.0.0.1:7000", 16));
  Client& alive = connect();
  ASSERT_TRUE(register_server(alive, "10.0.0.2:7000", 8));
  // Ann's match goes to the server with the most free slots (the silent one), then that one is
  // full and Bob's goes to the other. Both servers see their players arrive.
  Client& ann = host_ready("ann");
  const std::uint64_t anns = start(ann);
  ASSERT_NE(anns, 0u);
  EXPECT_EQ(last(ann, LobbyEventType::match_start)->match.server_address, "10.0.0.1:7000");
  silent.lobby->report_match_began(anns);
  const std::uint64_t full = silent.lobby->report_load(16);
  ASSERT_TRUE(pump([&] { return silent.reply(full) != nullptr; }));
  Client& bob = host_ready("bob");
  const std::uint64_t bobs = start(bob);
  ASSERT_NE(bobs, 0u);
  EXPECT_EQ(last(bob, LobbyEventType::match_start)->match.server_address, "10.0.0.2:7000");
  alive.lobby->report_match_began(bobs);

  // The first server hangs (its connection stays open, its reports stop); the other keeps
  // reporting, as its heartbeat, until Ann's match is declared lost.
  auto next_report = std::chrono::steady_clock::now();
  ASSERT_TRUE(pump(
      [&] {
        if (std::chrono::steady_clock::now() >= next_report) {
          alive.lobby->report_load(1);
          next_report += std::chrono::milliseconds(100);
        }
        return ann.find(LobbyEventType::match_end) != nullptr;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(ann.find(LobbyEventType::match_end)->match_end_reason,
            net::MatchEndReason::server_lost);
  EXPECT_EQ(bob.find(LobbyEventType::match_end), nullptr);
  EXPECT_TRUE(bob.lobby->room()->summary.in_match);
  // New matches go to the server that is still there.
  ann.lobby->set_ready(true);
  ASSERT_TRUE(pump([&] { return ann.lobby->room()->everyone_ready(); }));
  ASSERT_NE(start(ann), 0u);
  EXPECT_EQ(last(ann, LobbyEventType::match_start)->match.server_address, "10.0.0.2:7000");
}

TEST_F(LobbyStuckMatchTest, a_game_server_speaks_only_for_its_own_matches) {
  Client& server = connect();
  ASSERT_TRUE(register_server(server, "10.0.0.1:7000", 16));
  Client& other = connect();
  ASSERT_TRUE(register_server(other, "10.0.0.2:7000", 4));
  Client& ann = host_ready("ann");
  const std::uint64_t match = start(ann);
  ASSERT_EQ(last(ann, LobbyEventType::match_start)->match.server_address, "10.0.0.1:7000");
  // The other server can neither end it nor vouch that it began.
  const std::uint64_t end = other.lobby->report_match_end(match);
  const std::uint64_t began = other.lobby->report_match_began(match);
  ASSERT_TRUE(pump([&] { return other.reply(end) && other.reply(began); }));
  EXPECT_EQ(other.reply(end)->error, net::LobbyError::bad_request);
  EXPECT_EQ(other.reply(began)->error, net::LobbyError::bad_request);
  EXPECT_TRUE(ann.lobby->room()->summary.in_match);
  // Its own server ends it, with its reason.
  server.lobby->report_match_end(match, net::MatchEndReason::abandoned);
  ASSERT_TRUE(pump([&] { return ann.find(LobbyEventType::match_end) != nullptr; }));
  EXPECT_EQ(ann.find(LobbyEventType::match_end)->match_end_reason, net::MatchEndReason::abandoned);
}

}  // namespace
}  // namespace tickwire::test
