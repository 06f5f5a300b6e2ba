// What only ENet does about connections, over real sockets on loopback: timing out a silent
// peer, refusing another protocol id, fresh ids on reconnect, broadcast. The lifecycle every
// transport shares (close, kick, shutdown, connect_failed, server_full) is
// transport_contract_test's.

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

using net::ClientState;
using net::Delivery;
using net::DisconnectReason;

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
