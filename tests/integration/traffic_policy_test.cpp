// The traffic-class policy: gameplay over ENet, and over WebSocket when UDP cannot reach the
// server, with the same game code, the same join ticket and the same session security on both
// ends. One game server listens on both transports (transport_contract_test checks that a ticket
// is used once across them).

#include <gtest/gtest.h>

#include "../support/log_capture.hpp"
#include "../support/pump.hpp"
#include "tickwire/net/traffic_policy.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::DisconnectReason;
using net::TransportKind;

// The game server's name in tickets: its canonical (ENet) address, the same on both transports.
constexpr const char* kServer = "127.0.0.1:7777";

class TrafficPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { start_servers("127.0.0.1"); }

  net::TicketRequirement requirement() const {
    return net::TicketRequirement{lobby_.public_key(), kServer, 2000, seal_};
  }

  void start_servers(const std::string& websocket_address) {
    net::EnetServerConfig enet;
    enet.port = 0;
    enet.require_ticket = requirement();
    net::WebSocketServerConfig websocket;
    websocket.bind_address = websocket_address;
    websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    websocket.port = 0;
    websocket.require_ticket = requirement();
    auto udp = net::make_enet_server(enet);
    ASSERT_TRUE(udp.ok()) << udp.error();
    auto tcp = net::make_websocket_server(websocket);
    if (!tcp.ok()) GTEST_SKIP() << "cannot listen on " << websocket_address << ": " << tcp.error();
    udp_port_ = udp.value()->port();
    tcp_port_ = tcp.value()->port();
    std::vector<std::unique_ptr<net::ServerTransport>> both;
    both.push_back(std::move(udp.value()));
    both.push_back(std::move(tcp.value()));
    auto combined = net::combine_servers(std::move(both));
    ASSERT_TRUE(combined.ok()) << combined.error();
    server_ = std::move(combined.value());
  }

  // A client of `player_id` with a fresh ticket, UDP aimed at `udp_port`.
  net::GameplayClientConfig client_config(std::uint16_t udp_port, std::uint64_t player_id) const {
    net::GameplayClientConfig config;
    config.enet.server_host = "127.0.0.1";
    config.enet.server_port = udp_port;
    config.enet.connect_timeout_ms = 300;
    config.websocket.server_host = "127.0.0.1";
    config.websocket.server_port = tcp_port_;
    net::IssuedTicket issued = lobby_.issue_with_keys(player_id, 3, kServer, seal_.public_key);
    config.join_ticket = std::move(issued.ticket);
    config.session_keys = issued.keys;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    return config;
  }

  std::unique_ptr<net::GameplayClient> make_client(const net::GameplayClientConfig& config) {
    auto made = net::make_gameplay_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  // How an attempt ended: connected (nothing), or its disconnect reason.
  std::optional<DisconnectReason> outcome(net::ClientTransport& client, EventLog& log) {
    EXPECT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {&client, &log}},
        [&] { return !log.connected.empty() || !log.disconnected.empty(); }, 10s));
    if (!log.disconnected.empty()) return log.disconnected.front().second;
    return std::nullopt;
  }

  // The game's side of a connection: identical whichever transport carries it. Returns the
  // client's id on the server.
  net::PeerId exchange(net::ClientTransport& client, EventLog& client_log) {
    const std::size_t before = server_log_.messages.size();
    EXPECT_TRUE(pump_until({{server_.get(), &server_log_}, {&client, &client_log}}, [&] {
      return !client_log.connected.empty() && !server_log_.connected.empty();
    }));
    EXPECT_EQ(client.send(0, net::Delivery::reliable_ordered, bytes_of("input")),
              net::SendResult::ok);
    EXPECT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {&client, &client_log}},
        [&] { return server_log_.messages.size() > before; }, 10s));
    if (server_log_.messages.size() <= before) return net::kInvalidPeer;
    const net::PeerId peer = server_log_.messages.back().peer;
    const std::size_t received = client_log.messages.size();
    EXPECT_EQ(server_->send(peer, 1, net::Delivery::unreliable_sequenced, bytes_of("snapshot")),
              net::SendResult::ok);
    EXPECT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {&client, &client_log}},
        [&] { return client_log.messages.size() > received; }, 10s));
    if (client_log.messages.size() > received) {
      EXPECT_EQ(client_log.messages.back().bytes, bytes_of("snapshot"));
    }
    return peer;
  }

  // Starts `client` through `link` and lets the path lose everything the server sends over UDP
  // from the moment its CHALLENGE is on its way: the server reads the client's RESPONSE, ticket
  // and all, and the client never hears the ACCEPT. Returns once that ACCEPT was lost.
  void lose_udp_answers_after_the_ticket(net::UdpLinkSimulator& link, net::ClientTransport& client,
                                         EventLog& log) {
    // The client sends its HELLO; the server (polled on this thread only) answers it.
    pump_for({{&client, &log}}, 5ms);
    ASSERT_TRUE(pump_until(
        {{server_.get(), &server_log_}}, [&] { return link.counters().forwarded_to_clients >= 1; },
        10s));
    net::NetworkConditions answers_lost;
    answers_lost.server_to_client.loss = 1.0;
    link.set_conditions(answers_lost);
    ASSERT_TRUE(pump_until(
        {{server_.get(), &server_log_}, {&client, &log}},
        [&] { return link.counters().forwarded_to_server >= 2 && link.counters().dropped >= 1; },
        10s));
  }

  // A player through a relay whose ENet handshake stalls once the server read its ticket (the
  // relay loses the server's UDP answers from then on, as lose_udp_answers_after_the_ticket),
  // with handshake timeouts that give up within seconds.
  struct StalledPlayer {
    std::unique_ptr<net::UdpLinkSimulator> link;
    net::GameplayClientConfig config;
    std::unique_ptr<net::GameplayClient> client;
    EventLog log;
  };
  void start_stalled_player(std::uint64_t player_id, StalledPlayer& player) {
    player.link = relay();
    player.config = client_config(player.link->port(), player_id);
    player.config.enet.common.timeout_min_ms = 1000;
    player.config.enet.common.timeout_max_ms = 2000;
    player.client = make_client(player.config);
    ASSERT_NE(player.client, nullptr);
    lose_udp_answers_after_the_ticket(*player.link, *player.client, player.log);
  }

  std::unique_ptr<net::UdpLinkSimulator> relay() const {
    net::UdpLinkSimulatorConfig path;
    path.target_port = udp_port_;
    return std::move(net::UdpLinkSimulator::start(path).value());
  }

  // UDP into a black hole: a link simulator in front of the ENet port that loses everything.
  std::unique_ptr<net::UdpLinkSimulator> blackhole() const {
    net::UdpLinkSimulatorConfig config;
    config.target_port = udp_port_;
    config.conditions = net::NetworkConditions::symmetric({.loss = 1.0});
    return std::move(net::UdpLinkSimulator::start(config).value());
  }

  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  const net::GameServerSealKeys seal_ = net::GameServerSealKeys::generate();
  std::unique_ptr<net::ServerTransport> server_;
  std::uint16_t udp_port_ = 0, tcp_port_ = 0;
  EventLog server_log_;
};

TEST_F(TrafficPolicyTest, gameplay_goes_over_enet_when_udp_reaches_the_server) {
  auto client = make_client(client_config(udp_port_, 11));
  EventLog log;
  const net::PeerId peer = exchange(*client, log);
  EXPECT_EQ(client->kind(), TransportKind::enet);
  ASSERT_TRUE(server_->ticket_of(peer));
  EXPECT_EQ(server_->ticket_of(peer)->player_id, 11u);
}

TEST_F(TrafficPolicyTest,
       gameplay_falls_back_to_websocket_with_its_ticket_when_udp_gets_no_answer) {
  LogCapture capture;
  auto link = blackhole();
  auto client = make_client(client_config(link->port(), 12));
  EventLog log;
  const net::PeerId peer = exchange(*client, log);
  EXPECT_EQ(client->kind(), TransportKind::websocket);
  EXPECT_TRUE(log.disconnected.empty()) << "the failed UDP attempt is not the game's business";
  EXPECT_EQ(log.connected.size(), 1u);
  ASSERT_TRUE(server_->ticket_of(peer));
  EXPECT_EQ(server_->ticket_of(peer)->player_id, 12u);
  EXPECT_EQ(server_->counters().rejected_tickets, 0u);
  // The operator hears of it, once.
  const auto fallback = capture.matching("policy", "falling back to WebSocket");
  ASSERT_EQ(fallback.size(), 1u);
  EXPECT_EQ(fallback[0].level, net::LogLevel::warning);
}

TEST_F(TrafficPolicyTest, peers_of_both_transports_get_distinct_ids_tickets_and_messages) {
  auto over_udp = make_client(client_config(udp_port_, 21));
  auto config = client_config(udp_port_, 22);
  config.policy.gameplay = TransportKind::websocket;
  auto over_tcp = make_client(config);
  EventLog udp_log, tcp_log;
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {over_udp.get(), &udp_log}, {over_tcp.get(), &tcp_log}},
      [&] { return server_log_.connected.size() == 2; }, 10s));
  EXPECT_NE(server_log_.connected[0], server_log_.connected[1]);
  EXPECT_EQ(server_->connected_peers(), 2u);
  std::vector<std::uint64_t> players;
  for (const net::PeerId peer : server_log_.connected)
    players.push_back(server_->ticket_of(peer).value_or(net::JoinTicket{}).player_id);
  std::sort(players.begin(), players.end());
  EXPECT_EQ(players, (std::vector<std::uint64_t>{21, 22}));
  ASSERT_EQ(server_->broadcast(0, net::Delivery::reliable_ordered, bytes_of("all")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {over_udp.get(), &udp_log}, {over_tcp.get(), &tcp_log}},
      [&] { return !udp_log.messages.empty() && !tcp_log.messages.empty(); }, 10s));
  EXPECT_EQ(tcp_log.messages[0].bytes, bytes_of("all"));
  over_tcp.reset();
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {over_udp.get(), &udp_log}},
      [&] { return !server_log_.disconnected.empty(); }, 10s));
  EXPECT_EQ(server_->connected_peers(), 1u);
  EXPECT_EQ(server_->send(server_log_.disconnected[0].first, 0, net::Delivery::reliable_ordered,
                          bytes_of("x")),
            net::SendResult::unknown_peer);
  EXPECT_FALSE(server_->ticket_of(server_log_.disconnected[0].first));
}

TEST_F(TrafficPolicyTest,
       a_client_whose_udp_answers_are_lost_after_the_server_read_its_ticket_plays_over_websocket) {
  // The CI failure (demo_reconnect, loaded machine): the server answered the HELLO, read the
  // RESPONSE and with it the ticket, and its ACCEPT never reached the client. The client falls
  // back to WebSocket with the same ticket, which must get it in: the ENet attempt never proved
  // it holds the ticket's keys, so it held the ticket only provisionally.
  StalledPlayer stalled;
  start_stalled_player(51, stalled);
  if (HasFatalFailure()) return;
  net::GameplayClient& client = *stalled.client;
  EventLog& log = stalled.log;
  EXPECT_EQ(client.kind(), TransportKind::enet) << "it fell back before the server read the ticket";

  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {&client, &log}},
      [&] { return !log.connected.empty() || !log.disconnected.empty(); }, 20s));
  ASSERT_TRUE(log.disconnected.empty())
      << "the player never got in: " << to_string(log.disconnected[0].second) << " / "
      << to_string(log.ticket_refusals[0]);
  const net::PeerId peer = exchange(client, log);
  EXPECT_EQ(client.kind(), TransportKind::websocket);
  ASSERT_TRUE(server_->ticket_of(peer));
  EXPECT_EQ(server_->ticket_of(peer)->player_id, 51u);
  EXPECT_EQ(server_->counters().rejected_tickets, 0u);
  EXPECT_EQ(server_log_.connected.size(), 1u) << "the ticket admitted more than one connection";
}

TEST_F(TrafficPolicyTest, a_replayed_ticket_gets_nobody_in_and_does_not_lock_its_player_out) {
  // Someone who copied the player's ticket off the wire (not its keys: they came over the lobby's
  // TLS) replays it on both transports, first while the player's ENet attempt holds it (answers
  // lost, as above), then after the player got in over WebSocket.
  StalledPlayer stalled;
  start_stalled_player(81, stalled);
  if (HasFatalFailure()) return;
  net::GameplayClient* player = stalled.client.get();
  EventLog& player_log = stalled.log;

  net::SessionKeys guessed;  // the replayer's: it cannot have the ticket's
  guessed.client_to_server.fill(7);
  guessed.server_to_client.fill(9);
  const auto replayer = [&](TransportKind kind) {
    auto copy = client_config(udp_port_, 99);
    copy.join_ticket = stalled.config.join_ticket;
    copy.session_keys = guessed;
    copy.policy.gameplay = kind;
    copy.policy.gameplay_falls_back_to_websocket = false;
    copy.enet.common.timeout_min_ms = 500;
    copy.enet.common.timeout_max_ms = 1000;
    return make_client(copy);
  };
  const auto ended = [](const EventLog& log) { return !log.disconnected.empty(); };

  // While the player's attempt holds the ticket: over ENet one more attempt may hold it
  // (max_unproven_attempts_per_ticket, 2) and the next goes unanswered; neither can tag its
  // CONNECT, so neither gets in. Over WebSocket the proof fails at once.
  auto udp_a = replayer(TransportKind::enet);
  auto udp_b = replayer(TransportKind::enet);
  auto tcp_early = replayer(TransportKind::websocket);
  EventLog udp_a_log, udp_b_log, tcp_early_log;
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_},
       {player, &player_log},
       {udp_a.get(), &udp_a_log},
       {udp_b.get(), &udp_b_log},
       {tcp_early.get(), &tcp_early_log}},
      [&] {
        return ended(udp_a_log) && ended(udp_b_log) && ended(tcp_early_log) &&
               (!player_log.connected.empty() || ended(player_log));
      },
      20s));
  for (const EventLog* log : {&udp_a_log, &udp_b_log}) {
    EXPECT_TRUE(log->connected.empty());
    EXPECT_EQ(log->disconnected[0].second, DisconnectReason::connect_failed);
  }
  EXPECT_TRUE(tcp_early_log.connected.empty());
  EXPECT_EQ(tcp_early_log.disconnected[0].second, DisconnectReason::ticket_rejected);
  EXPECT_EQ(tcp_early_log.ticket_refusals[0], net::TicketRefusal::bad_proof);
  const net::TransportCounters during = server_->counters();
  EXPECT_GE(during.dropped_ticket_held, 1u) << "a third attempt held the ticket";
  EXPECT_GE(during.dropped_forged, 1u) << "the WebSocket replay's proof";
  EXPECT_GE(during.rejected_tickets, 1u);

  // The player got in over WebSocket and plays.
  ASSERT_TRUE(player_log.disconnected.empty())
      << "the player was locked out: " << to_string(player_log.disconnected[0].second);
  const net::PeerId peer = exchange(*player, player_log);
  EXPECT_EQ(player->kind(), TransportKind::websocket);
  ASSERT_TRUE(server_->ticket_of(peer));
  EXPECT_EQ(server_->ticket_of(peer)->player_id, 81u);

  // After the player got in: the ticket is used, on either transport.
  auto udp_late = replayer(TransportKind::enet);
  auto tcp_late = replayer(TransportKind::websocket);
  EventLog udp_late_log, tcp_late_log;
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_},
       {player, &player_log},
       {udp_late.get(), &udp_late_log},
       {tcp_late.get(), &tcp_late_log}},
      [&] { return ended(udp_late_log) && ended(tcp_late_log); }, 20s));
  for (const EventLog* log : {&udp_late_log, &tcp_late_log}) {
    EXPECT_TRUE(log->connected.empty());
    EXPECT_EQ(log->disconnected[0].second, DisconnectReason::ticket_rejected);
    EXPECT_EQ(log->ticket_refusals[0], net::TicketRefusal::reused);
  }
  EXPECT_GE(server_->counters().rejected_tickets, during.rejected_tickets + 2);

  // The player plays on, the only one the ticket let in.
  EXPECT_EQ(exchange(*player, player_log), peer);
  EXPECT_TRUE(player_log.disconnected.empty());
  EXPECT_EQ(server_log_.connected.size(), 1u);
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(TrafficPolicyTest, when_neither_transport_answers_the_client_reports_connect_failed) {
  auto link = blackhole();
  auto config = client_config(link->port(), 41);
  server_.reset();  // the WebSocket port is closed now too
  auto client = make_client(config);
  EventLog log;
  ASSERT_TRUE(pump_until(
      {{client.get(), &log}}, [&] { return !log.disconnected.empty(); }, 10s));
  EXPECT_EQ(log.disconnected[0].second, DisconnectReason::connect_failed);
  EXPECT_EQ(client->state(), net::ClientState::disconnected);
}

TEST_F(TrafficPolicyTest, the_connect_timeout_the_caller_set_is_kept) {
  auto link = blackhole();
  auto config = client_config(link->port(), 51);
  config.enet.connect_timeout_ms = 60'000;  // far longer than this test waits
  auto client = make_client(config);
  EventLog log;
  pump_for({{server_.get(), &server_log_}, {client.get(), &log}}, 2s);
  EXPECT_EQ(client->kind(), TransportKind::enet) << "the UDP attempt was cut short";
  EXPECT_TRUE(log.connected.empty());
  EXPECT_TRUE(log.disconnected.empty());
}

class TrafficPolicyIpv6Test : public TrafficPolicyTest {
 protected:
  void SetUp() override { start_servers("::1"); }
};

TEST_F(TrafficPolicyIpv6Test, a_client_with_only_ipv6_plays_over_websocket) {
  auto config = client_config(udp_port_, 61);
  config.enet.server_host = "::1";  // ENet 1.3 cannot use it
  config.websocket.server_host = "::1";
  auto client = make_client(config);
  ASSERT_NE(client, nullptr);
  EventLog log;
  const net::PeerId peer = exchange(*client, log);
  EXPECT_EQ(client->kind(), TransportKind::websocket);
  ASSERT_TRUE(server_->ticket_of(peer));
  EXPECT_EQ(server_->ticket_of(peer)->player_id, 61u);
}

TEST(TrafficPolicyConfig, nothing_defaults_to_localhost_and_validate_names_what_is_missing) {
  net::GameplayClientConfig config;
  EXPECT_TRUE(config.enet.server_host.empty());
  EXPECT_TRUE(config.websocket.server_host.empty());
  EXPECT_NE(config.validate().message().find("enet.server_host"), std::string::npos);
  config.enet.server_host = "10.0.0.5";
  config.enet.server_port = 7777;
  EXPECT_NE(config.validate().message().find("websocket.server_host"), std::string::npos);
  config.websocket.server_host = "10.0.0.5";
  config.websocket.server_port = 7778;
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  config.enet.join_ticket = bytes_of("ticket");
  EXPECT_NE(config.validate().message().find("join_ticket"), std::string::npos);
  EXPECT_FALSE(net::make_gameplay_client(config).ok());
}

TEST(CombineServers, servers_that_disagree_about_tickets_are_refused) {
  const auto lobby = net::JoinTicketIssuer::generate();
  const auto seal = net::GameServerSealKeys::generate();
  const auto make_pair = [&](std::optional<net::TicketRequirement> websocket_requirement) {
    net::EnetServerConfig enet;
    enet.port = 0;
    enet.require_ticket = net::TicketRequirement{lobby.public_key(), kServer, 2000, seal};
    net::WebSocketServerConfig websocket;
    websocket.port = 0;
    websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    websocket.require_ticket = websocket_requirement;
    if (!websocket_requirement) {
      websocket.security = net::SessionSecurity::plaintext_for_development;
    }
    std::vector<std::unique_ptr<net::ServerTransport>> both;
    both.push_back(std::move(net::make_enet_server(enet).value()));
    both.push_back(std::move(net::make_websocket_server(websocket).value()));
    return net::combine_servers(std::move(both));
  };
  auto elsewhere =
      make_pair(net::TicketRequirement{lobby.public_key(), "10.0.0.9:7777", 2000, seal});
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.error().find("server_address"), std::string::npos) << elsewhere.error();
  auto open_door = make_pair(std::nullopt);
  ASSERT_FALSE(open_door.ok());
  EXPECT_NE(open_door.error().find("require join tickets"), std::string::npos) << open_door.error();
  EXPECT_TRUE(make_pair(net::TicketRequirement{lobby.public_key(), kServer, 2000, seal}).ok());
}

}  // namespace
}  // namespace tickwire::test
