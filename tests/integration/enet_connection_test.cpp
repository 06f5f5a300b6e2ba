// Connection lifecycle over real ENet sockets on loopback.

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

using net::ClientState;
using net::Delivery;
using net::DisconnectReason;

TEST_F(EnetTest, client_connects_and_both_sides_exchange_messages) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  EXPECT_EQ(client->state(), ClientState::connected);
  EXPECT_EQ(server_->connected_peers(), 1u);

  ASSERT_EQ(client->send(0, Delivery::reliable_ordered, bytes_of("hello server")),
            net::SendResult::ok);
  ASSERT_EQ(server_->send(server_log_.connected[0], 1, Delivery::reliable_ordered,
                          bytes_of("hello client")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
    return !server_log_.messages.empty() && !client_log.messages.empty();
  }));
  EXPECT_EQ(server_log_.messages[0].bytes, bytes_of("hello server"));
  EXPECT_EQ(server_log_.messages[0].peer, server_log_.connected[0]);
  EXPECT_EQ(client_log.messages[0].bytes, bytes_of("hello client"));
  EXPECT_EQ(client_log.messages[0].channel, 1);
}

TEST_F(EnetTest, client_disconnect_reaches_server_as_closed) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  client->disconnect(client->server(), DisconnectReason::closed);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
    return !server_log_.disconnected.empty() && !client_log.disconnected.empty();
  }));
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::closed);
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::closed);
  EXPECT_EQ(client->state(), ClientState::disconnected);
  EXPECT_EQ(server_->connected_peers(), 0u);
}

TEST_F(EnetTest, kicked_client_learns_the_reason) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  server_->disconnect(server_log_.connected[0], DisconnectReason::kicked);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::kicked);
  EXPECT_EQ(server_->send(server_log_.connected[0], 0, Delivery::reliable_ordered, bytes_of("x")),
            net::SendResult::unknown_peer);
}

TEST_F(EnetTest, destroying_the_server_tells_clients_it_shut_down) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  server_.reset();
  ASSERT_TRUE(
      pump_until({{client.get(), &client_log}}, [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::shutdown);
}

TEST_F(EnetTest, silent_peer_times_out) {
  net::EnetServerConfig config;
  config.common = fast_common();
  start_server(config);
  simulate({});
  EventLog client_log;
  net::EnetClientConfig client_config;
  client_config.common = fast_common();
  auto client = connect_client(client_log, client_config);
  // The link goes dead both ways: from now on the client is silent to the server.
  link_->set_conditions(net::NetworkConditions::symmetric({.loss = 1.0}));
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {client.get(), &client_log}},
      [&] { return !server_log_.disconnected.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::timeout);
  EXPECT_EQ(server_->connected_peers(), 0u);
}

TEST_F(EnetTest, full_server_refuses_with_server_full_and_keeps_its_players) {
  net::EnetServerConfig config;
  config.max_peers = 2;
  start_server(config);
  EventLog a_log, b_log, c_log;
  auto a = connect_client(a_log);
  auto b = connect_client(b_log);
  auto c = make_client();
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {a.get(), &a_log}, {b.get(), &b_log}, {c.get(), &c_log}},
      [&] { return !c_log.disconnected.empty(); }));
  EXPECT_TRUE(c_log.connected.empty()) << "a refused client must not see a brief connection";
  EXPECT_EQ(c_log.disconnected[0].second, DisconnectReason::server_full);
  EXPECT_EQ(server_->connected_peers(), 2u);
  EXPECT_EQ(server_->counters().refused_connections, 1u);
  EXPECT_TRUE(a_log.disconnected.empty());
  EXPECT_TRUE(b_log.disconnected.empty());
}

TEST_F(EnetTest, client_with_another_protocol_id_is_refused) {
  start_server();
  net::EnetClientConfig config;
  config.common.protocol_id = 0xDEAD;
  EventLog client_log;
  auto client = make_client(config);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::refused);
  EXPECT_TRUE(server_log_.connected.empty());
}

TEST_F(EnetTest, connecting_to_a_port_nobody_listens_on_fails_with_connect_failed) {
  start_server();
  const std::uint16_t closed_port = server_->port();
  server_.reset();  // the port is now closed
  net::EnetClientConfig config;
  config.server_port = closed_port;
  config.connect_timeout_ms = 500;
  auto made = net::make_enet_client(config);
  ASSERT_TRUE(made.ok()) << made.error();
  auto client = std::move(made.value());
  EventLog client_log;
  ASSERT_TRUE(
      pump_until({{client.get(), &client_log}}, [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::connect_failed);
  EXPECT_TRUE(client_log.connected.empty());
}

TEST_F(EnetTest, reconnect_gets_a_new_peer_id_and_the_old_one_stays_dead) {
  start_server();
  EventLog first_log;
  auto first = connect_client(first_log);
  const net::PeerId old_id = server_log_.connected[0];
  first.reset();  // closes the connection
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}},
                         [&] { return !server_log_.disconnected.empty(); }));
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::closed);

  EventLog second_log;
  auto second = connect_client(second_log);
  ASSERT_EQ(server_log_.connected.size(), 2u);
  EXPECT_NE(server_log_.connected[1], old_id);
  EXPECT_EQ(server_->send(old_id, 0, Delivery::reliable_ordered, bytes_of("stale")),
            net::SendResult::unknown_peer);
  EXPECT_EQ(server_->send(server_log_.connected[1], 0, Delivery::reliable_ordered, bytes_of("new")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {second.get(), &second_log}},
                         [&] { return !second_log.messages.empty(); }));
  EXPECT_EQ(second_log.messages[0].bytes, bytes_of("new"));
}

TEST_F(EnetTest, broadcast_reaches_every_client) {
  start_server();
  std::vector<EventLog> logs(3);
  std::vector<std::unique_ptr<net::ClientTransport>> clients;
  for (auto& log : logs)
    clients.push_back(connect_client(log));
  ASSERT_EQ(server_->broadcast(0, Delivery::reliable_ordered, bytes_of("to all")),
            net::SendResult::ok);
  std::vector<Endpoint> endpoints{{server_.get(), &server_log_}};
  for (std::size_t i = 0; i < clients.size(); ++i)
    endpoints.push_back({clients[i].get(), &logs[i]});
  ASSERT_TRUE(pump_until(endpoints, [&] {
    return std::all_of(logs.begin(), logs.end(),
                       [](const EventLog& log) { return !log.messages.empty(); });
  }));
  for (const auto& log : logs)
    EXPECT_EQ(log.messages[0].bytes, bytes_of("to all"));
}

}  // namespace
}  // namespace tickwire::test
