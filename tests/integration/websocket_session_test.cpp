// Gameplay sessions over WebSocket: admission by join ticket and messages sealed with the ticket's
// keys, as on ENet. An observer on the path reads no message; a tampered message ends only the
// session it was in; bad tickets are refused and counted while an honest player plays on.

#include <gtest/gtest.h>

#include <optional>

#include "../support/log_capture.hpp"
#include "../support/pump.hpp"
#include "../support/tcp_relay.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/traffic_policy.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::Delivery;
using net::DisconnectReason;
using net::SendResult;
using net::TicketRefusal;

constexpr const char* kServer = "127.0.0.1:7777";

net::WebSocketCommonConfig fast_common() {
  net::WebSocketCommonConfig common;
  common.handshake_timeout_ms = 2000;
  common.idle_timeout_ms = 4000;
  common.ping_interval_ms = 200;
  common.shutdown_timeout_ms = 500;
  return common;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class WebSocketSessionTest : public ::testing::Test {
 protected:
  net::WebSocketServerConfig server_config(
      net::SessionSecurity security = net::SessionSecurity::encrypted) const {
    net::WebSocketServerConfig config;
    config.port = 0;
    config.security = security;
    // No TLS: the relay on the path reads the bytes, and what it must not read is what the
    // session's sealing hides (TLS beneath is lobby_tls_test's).
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    // A generous deadline: the missing-ticket case waits it out once.
    config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, 1500, seal_};
    config.common = fast_common();
    return config;
  }

  void start_server(net::WebSocketServerConfig config) {
    auto made = net::make_websocket_server(config);
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
  }

  // A client presenting `ticket` with `keys` to `port` (the server's unless a relay's).
  std::unique_ptr<net::ClientTransport> make_client(std::vector<std::byte> ticket,
                                                    std::optional<net::SessionKeys> keys,
                                                    std::uint16_t port = 0) {
    net::WebSocketClientConfig config;
    config.server_port = port != 0 ? port : server_->port();
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.join_ticket = std::move(ticket);
    config.session_keys = keys;
    config.common = fast_common();
    auto made = net::make_websocket_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  // Pumps the server and `client` until the client is connected or gone; how it ended.
  std::optional<DisconnectReason> outcome(net::ClientTransport& client, EventLog& log) {
    EXPECT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {&client, &log}},
        [&] { return !log.connected.empty() || !log.disconnected.empty(); }, 10s));
    if (!log.disconnected.empty()) return log.disconnected.front().second;
    return std::nullopt;
  }

  // An admitted player: connected on both sides.
  struct Player {
    std::unique_ptr<net::ClientTransport> client;
    EventLog log;
    net::PeerId peer = net::kInvalidPeer;  // on the server
  };
  std::unique_ptr<Player> admit(std::uint64_t player_id, std::uint16_t port = 0) {
    auto player = std::make_unique<Player>();
    const net::IssuedTicket issued =
        lobby_.issue_with_keys(player_id, 7, kServer, seal_.public_key);
    player->client = make_client(issued.ticket, issued.keys, port);
    const std::size_t before = server_log_.connected.size();
    EXPECT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {player->client.get(), &player->log}},
        [&] { return !player->log.connected.empty() && server_log_.connected.size() > before; },
        10s));
    if (server_log_.connected.size() > before) player->peer = server_log_.connected.back();
    return player;
  }

  // Round trip through `player`: the server gets what it sent, it gets what the server sent.
  void exchange(Player& player, std::string_view up, std::string_view down) {
    const std::size_t server_before = server_log_.messages.size();
    const std::size_t client_before = player.log.messages.size();
    ASSERT_EQ(player.client->send(1, Delivery::reliable_ordered, bytes_of(up)), SendResult::ok);
    ASSERT_EQ(server_->send(player.peer, 0, Delivery::unreliable_sequenced, bytes_of(down)),
              SendResult::ok);
    ASSERT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {player.client.get(), &player.log}},
        [&] {
          return server_log_.messages.size() > server_before &&
                 player.log.messages.size() > client_before;
        },
        10s));
    EXPECT_EQ(server_log_.messages.back().bytes, bytes_of(up));
    EXPECT_EQ(server_log_.messages.back().peer, player.peer);
    EXPECT_EQ(server_log_.messages.back().channel, 1);
    EXPECT_EQ(player.log.messages.back().bytes, bytes_of(down));
  }

  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  const net::GameServerSealKeys seal_ = net::GameServerSealKeys::generate();
  std::unique_ptr<net::ServerTransport> server_;
  EventLog server_log_;
};

TEST_F(WebSocketSessionTest, a_valid_ticket_admits_the_player_and_the_path_reads_no_message) {
  start_server(server_config());
  TcpRelay observer(server_->port());
  ASSERT_NE(observer.port(), 0);
  auto player = admit(42, observer.port());
  ASSERT_NE(player->peer, net::kInvalidPeer);
  const auto ticket = server_->ticket_of(player->peer);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->player_id, 42u);
  EXPECT_EQ(ticket->match_id, 7u);
  EXPECT_EQ(server_->connected_peers(), 1u);
  exchange(*player, "input: move left 0123456789", "snapshot: tick 9876543210");
  // The messages arrived; an observer of the TCP stream saw neither.
  EXPECT_FALSE(contains(observer.seen_from_client(), "move left 0123456789"));
  EXPECT_FALSE(contains(observer.seen_from_server(), "tick 9876543210"));
  EXPECT_EQ(server_->counters().rejected_tickets, 0u);
  EXPECT_EQ(server_->counters().connections_accepted, 1u);
  const auto stats = server_->stats(player->peer);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->bytes_received, std::string_view("input: move left 0123456789").size());
}

TEST_F(WebSocketSessionTest, plaintext_for_development_sessions_are_readable_on_the_path) {
  // The observer above would have seen plaintext: here it does.
  start_server(server_config(net::SessionSecurity::plaintext_for_development));
  TcpRelay observer(server_->port());
  auto client = make_client(lobby_.issue(5, 7, kServer), std::nullopt, observer.port());
  Player player;
  player.client = std::move(client);
  ASSERT_FALSE(outcome(*player.client, player.log).has_value());
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}}, [&] { return !server_log_.connected.empty(); }));
  player.peer = server_log_.connected.back();
  EXPECT_EQ(server_->ticket_of(player.peer)->player_id, 5u);
  exchange(player, "input: move left 0123456789", "snapshot: tick 9876543210");
  EXPECT_TRUE(contains(observer.seen_from_client(), "move left 0123456789"));
  EXPECT_TRUE(contains(observer.seen_from_server(), "tick 9876543210"));
}

TEST_F(WebSocketSessionTest, an_altered_message_is_counted_and_ends_only_its_own_session) {
  start_server(server_config());
  auto honest = admit(1);
  TcpRelay attacker(server_->port());
  auto victim = admit(2, attacker.port());
  ASSERT_NE(victim->peer, net::kInvalidPeer);
  const std::size_t messages_before = server_log_.messages.size();
  attacker.alter_next_client_message();
  ASSERT_EQ(victim->client->send(0, Delivery::reliable_ordered, bytes_of("fire")), SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_},
       {victim->client.get(), &victim->log},
       {honest->client.get(), &honest->log}},
      [&] { return !server_log_.disconnected.empty() && !victim->log.disconnected.empty(); }, 10s));
  EXPECT_TRUE(attacker.altered_one());
  EXPECT_EQ(server_log_.disconnected[0],
            std::make_pair(victim->peer, DisconnectReason::protocol_error));
  EXPECT_EQ(victim->log.disconnected[0].second, DisconnectReason::protocol_error);
  EXPECT_EQ(server_log_.messages.size(), messages_before) << "the altered message reached the game";
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_forged, 1u);
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 1u);
  // The honest player noticed nothing.
  exchange(*honest, "still here", "welcome");
  EXPECT_TRUE(honest->log.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(WebSocketSessionTest, bad_and_missing_tickets_are_refused_and_counted_while_a_player_plays) {
  LogCapture capture;
  start_server(server_config());
  auto honest = admit(1);
  ASSERT_NE(honest->peer, net::kInvalidPeer);

  const net::IssuedTicket fresh = lobby_.issue_with_keys(3, 7, kServer, seal_.public_key);
  auto tampered = fresh.ticket;
  tampered[tampered.size() - 10] ^= std::byte{0x40};
  const net::SessionKeys other_keys = lobby_.issue_with_keys(9, 7, kServer, seal_.public_key).keys;
  const auto expired =
      lobby_.sign({4, 7, kServer, net::unix_time_ms() - 1000, {}}, &other_keys, &seal_.public_key);
  const net::IssuedTicket foreign =
      lobby_.issue_with_keys(5, 7, "127.0.0.1:9999", seal_.public_key);
  const net::IssuedTicket other_lobby =
      net::JoinTicketIssuer::generate().issue_with_keys(6, 7, kServer, seal_.public_key);

  struct Case {
    const char* name;
    std::vector<std::byte> ticket;
    std::optional<net::SessionKeys> keys;
    DisconnectReason expected;
    TicketRefusal refusal;  // what the client is told
  };
  std::vector<Case> cases = {
      {"tampered", tampered, fresh.keys, DisconnectReason::ticket_rejected,
       TicketRefusal::bad_signature},
      {"expired", expired, other_keys, DisconnectReason::ticket_rejected, TicketRefusal::expired},
      {"for another server", foreign.ticket, foreign.keys, DisconnectReason::ticket_rejected,
       TicketRefusal::wrong_server},
      {"from another lobby", other_lobby.ticket, other_lobby.keys,
       DisconnectReason::ticket_rejected, TicketRefusal::bad_signature},
      // A ticket copied off the wire, without its keys: the proof fails...
      {"copied without its keys", fresh.ticket, other_keys, DisconnectReason::ticket_rejected,
       TicketRefusal::bad_proof},
      {"shown without keys", fresh.ticket, std::nullopt, DisconnectReason::refused,
       TicketRefusal::none},
      {"not a ticket", bytes_of("let me in"), fresh.keys, DisconnectReason::ticket_rejected,
       TicketRefusal::malformed},
  };
  std::uint64_t rejected = 0;
  for (Case& c : cases) {
    EventLog log;
    auto client = make_client(c.ticket, c.keys);
    EXPECT_EQ(outcome(*client, log), c.expected) << c.name;
    EXPECT_TRUE(log.connected.empty()) << c.name;
    ASSERT_EQ(log.ticket_refusals.size(), 1u) << c.name;
    EXPECT_EQ(log.ticket_refusals[0], c.refusal) << c.name;
    if (c.expected == DisconnectReason::ticket_rejected) ++rejected;
  }
  // ...and did not use the ticket up: its owner still gets in with it.
  EventLog owner_log;
  auto owner = make_client(fresh.ticket, fresh.keys);
  EXPECT_FALSE(outcome(*owner, owner_log).has_value());

  // A ticket used once is refused the second time.
  const std::size_t admitted_before = server_log_.connected.size();
  const net::IssuedTicket once = lobby_.issue_with_keys(60, 7, kServer, seal_.public_key);
  EventLog first_log, second_log;
  auto first = make_client(once.ticket, once.keys);
  EXPECT_FALSE(outcome(*first, first_log).has_value());
  auto second = make_client(once.ticket, once.keys);
  EXPECT_EQ(outcome(*second, second_log), DisconnectReason::ticket_rejected);
  ASSERT_EQ(second_log.ticket_refusals.size(), 1u);
  EXPECT_EQ(second_log.ticket_refusals[0], TicketRefusal::reused) << "replayed";
  ++rejected;
  EXPECT_EQ(server_log_.connected.size(), admitted_before + 1);

  // A plain client without any ticket: never admitted, closed at the deadline.
  {
    net::WebSocketClientConfig plain;
    plain.server_port = server_->port();
    plain.transport_security = net::WebSocketSecurity::insecure_plaintext;
    plain.common = fast_common();
    auto client = std::move(net::make_websocket_client(plain).value());
    EventLog log;
    ASSERT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {client.get(), &log}},
        [&] { return !log.disconnected.empty(); }, 10s));
    EXPECT_EQ(log.disconnected[0].second, DisconnectReason::ticket_rejected);
    ++rejected;
  }

  const auto counters = server_->counters();
  EXPECT_EQ(counters.rejected_tickets, rejected);
  // The operator's log names each refusal's reason, one line each (far below the limiter's burst
  // per reason).
  for (const char* reason : {"expired", "reused", "bad_proof", "missing", "wrong_server"}) {
    EXPECT_EQ(capture.matching("tickets", std::string("refused: ") + reason).size(), 1u) << reason;
  }
  EXPECT_EQ(counters.connections_accepted, server_log_.connected.size());
  EXPECT_EQ(counters.refused_connections, 1u);
  EXPECT_EQ(counters.dropped_forged, 1u) << "the proof made with the wrong keys";
  EXPECT_TRUE(server_log_.disconnected.empty()) << "the game heard of a peer it never admitted";
  // The honest player played on through all of it.
  exchange(*honest, "input", "snapshot");
  EXPECT_TRUE(honest->log.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), server_log_.connected.size());
}

TEST_F(WebSocketSessionTest, a_large_first_message_closes_its_sender_unread_while_a_player_plays) {
  // A game that allows large messages, once a player is in.
  auto config = server_config();
  config.common.max_message_size = 2 * 1024 * 1024;
  start_server(config);
  auto honest = admit(1);
  ASSERT_NE(honest->peer, net::kInvalidPeer);

  // No ticket: its first message, 1 MiB, is far over max_message_size_before_admission.
  net::WebSocketClientConfig plain;
  plain.server_port = server_->port();
  plain.transport_security = net::WebSocketSecurity::insecure_plaintext;
  plain.common = fast_common();
  plain.common.max_message_size = 2 * 1024 * 1024;
  auto attacker = std::move(net::make_websocket_client(plain).value());
  EventLog attacker_log;
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_},
       {attacker.get(), &attacker_log},
       {honest->client.get(), &honest->log}},
      [&] { return !attacker_log.connected.empty(); }, 10s));
  ASSERT_EQ(attacker->send(0, Delivery::reliable_ordered, pattern(1, 1024 * 1024)), SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_},
       {attacker.get(), &attacker_log},
       {honest->client.get(), &honest->log}},
      // Beast sends close 1009 before the server's read handler counts the abuse, so the
      // attacker can hear the close first: wait for both.
      [&] {
        return !attacker_log.disconnected.empty() &&
               server_->counters().peers_disconnected_for_abuse >= 1;
      },
      10s));
  // The client learns it from the close code, 1009.
  EXPECT_EQ(attacker_log.disconnected[0].second, DisconnectReason::message_too_large);
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_oversize, 1u);
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 1u);
  EXPECT_EQ(counters.rejected_tickets, 0u) << "refused by its size, before any ticket check";
  EXPECT_LT(counters.wire_bytes_received, 256u * 1024) << "the server read the message";
  EXPECT_TRUE(server_log_.disconnected.empty()) << "the game heard of a peer it never admitted";

  // The admitted player plays on, with messages far over the limit before admission.
  const std::size_t before = server_log_.messages.size();
  ASSERT_EQ(honest->client->send(1, Delivery::reliable_ordered, pattern(2, 64 * 1024)),
            SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {honest->client.get(), &honest->log}},
      [&] { return server_log_.messages.size() > before; }, 10s));
  EXPECT_EQ(server_log_.messages.back().bytes, pattern(2, 64 * 1024));
  exchange(*honest, "input", "snapshot");
  EXPECT_TRUE(honest->log.disconnected.empty());
}

TEST_F(WebSocketSessionTest, a_client_with_keys_refuses_a_plaintext_server) {
  // A plaintext answer to a client that has keys could be an attacker's downgrade.
  start_server(server_config(net::SessionSecurity::plaintext_for_development));
  const net::IssuedTicket issued = lobby_.issue_with_keys(1, 7, kServer, seal_.public_key);
  EventLog log;
  auto client = make_client(issued.ticket, issued.keys);
  EXPECT_EQ(outcome(*client, log), DisconnectReason::refused);
  EXPECT_TRUE(log.connected.empty());
}

TEST(WebSocketSessionConfig, tickets_and_encryption_are_checked_by_name) {
  net::WebSocketServerConfig server;
  server.transport_security = net::WebSocketSecurity::insecure_plaintext;  // TLS is tested apart
  EXPECT_NE(server.validate().message().find("require_ticket"), std::string::npos);
  server.require_ticket = net::TicketRequirement{};
  EXPECT_NE(server.validate().message().find("server_address"), std::string::npos);
  server.require_ticket->server_address = kServer;
  EXPECT_NE(server.validate().message().find("seal_keys"), std::string::npos);
  server.require_ticket->seal_keys = net::GameServerSealKeys::generate();
  EXPECT_TRUE(server.validate().ok());
  server.max_message_size_before_admission = 1000;  // less than a ticket and its proof
  EXPECT_NE(server.validate().message().find("max_message_size_before_admission"),
            std::string::npos);
  server.max_message_size_before_admission = 2048;
  EXPECT_TRUE(server.validate().ok());
  server.common.framing = net::WebSocketFraming::raw;
  EXPECT_NE(server.validate().message().find("channel_prefix"), std::string::npos);

  net::WebSocketClientConfig client;
  client.session_keys = net::SessionKeys{};
  EXPECT_NE(client.validate().message().find("join_ticket"), std::string::npos);
}

}  // namespace
}  // namespace tickwire::test
