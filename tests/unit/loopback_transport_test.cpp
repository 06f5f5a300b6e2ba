#include "tickwire/net/loopback_transport.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "../support/pump.hpp"

namespace tickwire::net {
namespace {

using test::bytes_of;
using test::EventLog;

// A loopback network on a hand-driven clock: nothing happens until the test advances time.
class LoopbackTest : public ::testing::Test {
 protected:
  void make(LoopbackConfig config = {}) {
    config.clock = [this] { return now_us_; };
    network_ = std::move(LoopbackNetwork::create(std::move(config)).value());
    server_ = std::move(network_->make_server().value());
  }
  std::unique_ptr<ClientTransport> client() { return network_->make_client(); }
  // Advances the clock by `ms` in 1 ms steps, polling every transport at each step.
  void run(std::uint64_t ms, std::vector<std::pair<Transport*, EventLog*>> endpoints) {
    Event event;
    for (std::uint64_t i = 0; i <= ms; ++i) {
      for (auto& [transport, log] : endpoints) {
        while (transport->poll(event))
          log->record(event);
      }
      now_us_ += 1000;
    }
  }

  std::uint64_t now_us_ = 0;
  std::unique_ptr<LoopbackNetwork> network_;
  std::unique_ptr<ServerTransport> server_;
  EventLog server_log_;
};

TEST_F(LoopbackTest, client_connects_exchanges_messages_and_disconnects_with_reason) {
  make();
  auto c = client();
  EventLog client_log;
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(server_log_.connected.size(), 1u);
  ASSERT_EQ(client_log.connected.size(), 1u);
  EXPECT_EQ(c->state(), ClientState::connected);

  EXPECT_EQ(c->send(0, Delivery::reliable_ordered, bytes_of("hello")), SendResult::ok);
  EXPECT_EQ(server_->send(server_log_.connected[0], 1, Delivery::unreliable, bytes_of("hi")),
            SendResult::ok);
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(server_log_.messages.size(), 1u);
  EXPECT_EQ(server_log_.messages[0].bytes, bytes_of("hello"));
  ASSERT_EQ(client_log.messages.size(), 1u);
  EXPECT_EQ(client_log.messages[0].channel, 1);

  server_->disconnect(server_log_.connected[0], DisconnectReason::kicked);
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(client_log.disconnected.size(), 1u);
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::kicked);
  ASSERT_EQ(server_log_.disconnected.size(), 1u);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::kicked);
  EXPECT_EQ(server_->connected_peers(), 0u);
}

TEST_F(LoopbackTest, server_full_refuses_with_reason_and_never_reports_connected) {
  make({.max_peers = 1});
  auto first = client();
  auto second = client();
  EventLog first_log, second_log;
  run(3, {{server_.get(), &server_log_}, {first.get(), &first_log}, {second.get(), &second_log}});
  EXPECT_EQ(first_log.connected.size(), 1u);
  EXPECT_TRUE(second_log.connected.empty());
  ASSERT_EQ(second_log.disconnected.size(), 1u);
  EXPECT_EQ(second_log.disconnected[0].second, DisconnectReason::server_full);
  EXPECT_EQ(server_->counters().refused_connections, 1u);
}

TEST_F(LoopbackTest, send_checks_size_channel_and_peer) {
  make({.channel_count = 2, .max_message_size = 8});
  auto c = client();
  EventLog client_log;
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  const std::vector<std::byte> nine(9);
  EXPECT_EQ(c->send(0, Delivery::reliable_ordered, nine), SendResult::too_large);
  EXPECT_EQ(c->send(2, Delivery::reliable_ordered, bytes_of("x")), SendResult::invalid_channel);
  EXPECT_EQ(server_->send(999, 0, Delivery::reliable_ordered, bytes_of("x")),
            SendResult::unknown_peer);
}

TEST_F(LoopbackTest, reliable_messages_keep_order_under_jitter_and_sequenced_never_go_back) {
  LoopbackConfig config;
  config.conditions = NetworkConditions::symmetric(
      {.latency_ms = 40, .jitter_ms = 30, .loss = 0.2, .duplicate = 0.2, .reorder = 0.3},
      test::test_seed(5));
  make(config);
  auto c = client();
  EventLog client_log;
  run(200, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(c->state(), ClientState::connected);

  for (std::uint32_t i = 0; i < 500; ++i) {
    const auto body = test::pattern(i, 16);
    ASSERT_EQ(c->send(0, Delivery::reliable_ordered, body), SendResult::ok);
    ASSERT_EQ(c->send(1, Delivery::unreliable_sequenced, test::pattern(100000 + i, 4)),
              SendResult::ok);
    run(1, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  }
  run(300, {{server_.get(), &server_log_}, {c.get(), &client_log}});

  std::vector<std::uint32_t> reliable_order;
  std::vector<std::uint32_t> sequenced_order;
  for (const auto& message : server_log_.messages) {
    if (message.channel == 0) {
      reliable_order.push_back(static_cast<std::uint32_t>(reliable_order.size()));
      EXPECT_EQ(message.bytes, test::pattern(reliable_order.back(), 16));
    } else {
      for (std::uint32_t i = 0; i < 500; ++i) {
        if (message.bytes == test::pattern(100000 + i, 4)) sequenced_order.push_back(i);
      }
    }
  }
  EXPECT_EQ(reliable_order.size(), 500u);
  EXPECT_LT(sequenced_order.size(), 500u);  // some were lost or went stale
  EXPECT_GT(sequenced_order.size(), 100u);
  for (std::size_t i = 1; i < sequenced_order.size(); ++i) {
    EXPECT_LT(sequenced_order[i - 1], sequenced_order[i]) << "sequenced delivery went backwards";
  }
}

TEST_F(LoopbackTest, latency_delays_delivery_by_the_configured_time) {
  LoopbackConfig config;
  config.conditions = NetworkConditions::symmetric({.latency_ms = 50});
  make(config);
  auto c = client();
  EventLog client_log;
  run(101, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(c->state(), ClientState::connected);
  ASSERT_EQ(c->send(0, Delivery::reliable_ordered, bytes_of("ping")), SendResult::ok);
  run(48, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  EXPECT_TRUE(server_log_.messages.empty());
  run(3, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  EXPECT_EQ(server_log_.messages.size(), 1u);
  EXPECT_DOUBLE_EQ(c->stats(c->server())->rtt_ms, 100.0);
}

TEST_F(LoopbackTest, dropped_client_is_reported_closed_and_stats_count_traffic) {
  make();
  auto c = client();
  EventLog client_log;
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  ASSERT_EQ(c->send(0, Delivery::reliable_ordered, bytes_of("12345")), SendResult::ok);
  run(2, {{server_.get(), &server_log_}, {c.get(), &client_log}});
  const auto stats = server_->stats(server_log_.connected[0]);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->messages_received, 1u);
  EXPECT_EQ(stats->bytes_received, 5u);
  EXPECT_EQ(c->stats(c->server())->messages_sent, 1u);
  c.reset();
  run(2, {{server_.get(), &server_log_}});
  ASSERT_EQ(server_log_.disconnected.size(), 1u);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::closed);
  EXPECT_FALSE(server_->stats(server_log_.connected[0]));
}

TEST(LoopbackNetwork, client_without_server_fails_to_connect) {
  auto network = std::move(LoopbackNetwork::create().value());
  auto c = network->make_client();
  EventLog log;
  Event event;
  for (int i = 0; i < 3; ++i) {
    while (c->poll(event))
      log.record(event);
  }
  ASSERT_EQ(log.disconnected.size(), 1u);
  EXPECT_EQ(log.disconnected[0].second, DisconnectReason::connect_failed);
}

}  // namespace
}  // namespace tickwire::net
