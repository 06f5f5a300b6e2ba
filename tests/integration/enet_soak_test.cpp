// yojimbo-style soak: reliable messages through a terrible network must arrive exactly once, in
// order, byte for byte. The loss and duplication happen to datagrams beneath ENet, so every lost
// datagram is really retransmitted.

#include <cstring>

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

TEST_F(EnetTest, ten_thousand_reliable_messages_survive_loss_duplication_and_jitter) {
  // At 25 % loss both ways a datagram and its acknowledgement both get through only 56 % of the
  // time, and after a few resends one RTO apart ENet backs off exponentially; the timeouts must
  // outlast such runs of bad luck.
  net::EnetCommonConfig common;
  common.timeout_min_ms = 30000;
  common.timeout_max_ms = 60000;
  // ±50 ms of jitter is not congestion; with ENet's throttle on, it would shrink the window to
  // one datagram per round trip and this test would measure the throttle, not reliability.
  common.throttle_deceleration = 0;
  net::EnetServerConfig server_config;
  server_config.common = common;
  start_server(server_config);
  const std::uint64_t seed = test_seed(41);
  simulate(net::NetworkConditions::symmetric(
      {.latency_ms = 100, .jitter_ms = 50, .loss = 0.25, .duplicate = 0.25}, seed));
  EventLog client_log;
  net::EnetClientConfig client_config;
  client_config.common = common;
  client_config.connect_timeout_ms = 30000;
  auto client = connect_client(client_log, client_config);
  ASSERT_EQ(client->state(), net::ClientState::connected);

  constexpr std::uint32_t kMessages = 10000;
  std::vector<std::vector<std::byte>> sent;
  sent.reserve(kMessages);
  for (std::uint32_t i = 0; i < kMessages; ++i) {
    // Mostly small messages, as a game sends, and one in a hundred of a few datagrams so that
    // fragmentation is exercised too. (Bytes in flight, not messages, are what ENet's window
    // limits, and its stalls under this much loss grow with them.)
    const std::size_t size = 1 + (i * 7919u) % (i % 100 == 0 ? 4000 : 64);
    sent.push_back(pattern(static_cast<std::uint32_t>(seed) + i, size));
    ASSERT_EQ(client->send(0, net::Delivery::reliable_ordered, sent.back()), net::SendResult::ok);
  }
  const bool all_arrived = pump_until(
      {{server_.get(), &server_log_}, {client.get(), &client_log}},
      [&] { return server_log_.messages.size() >= kMessages; }, std::chrono::seconds(300));
  // Let duplicates that are still in flight arrive: none may be delivered twice.
  pump_for({{server_.get(), &server_log_}, {client.get(), &client_log}},
           std::chrono::milliseconds(500));

  EXPECT_TRUE(all_arrived) << server_log_.messages.size() << " of " << kMessages << " arrived";
  ASSERT_EQ(server_log_.messages.size(),
            std::min<std::size_t>(server_log_.messages.size(), kMessages));
  for (std::size_t i = 0; i < server_log_.messages.size(); ++i) {
    ASSERT_EQ(server_log_.messages[i].bytes, sent[i])
        << "message " << i << " wrong or out of order";
  }
  EXPECT_EQ(server_log_.messages.size(), kMessages);
  EXPECT_TRUE(client_log.disconnected.empty());
  const auto counters = link_->counters();
  // ENet packs many messages into one datagram, so a few thousand datagrams carry them all; a
  // quarter of those must really have been lost and duplicated.
  const auto datagrams =
      counters.forwarded_to_server + counters.forwarded_to_clients + counters.dropped;
  EXPECT_GT(counters.dropped, datagrams / 6);
  EXPECT_GT(counters.duplicated, datagrams / 8);
  std::printf("[ soak     ] link dropped %llu, duplicated %llu datagrams\n",
              static_cast<unsigned long long>(counters.dropped),
              static_cast<unsigned long long>(counters.duplicated));
}

}  // namespace
}  // namespace tickwire::test
