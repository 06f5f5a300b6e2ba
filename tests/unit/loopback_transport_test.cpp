#include "tickwire/net/loopback_transport.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "../support/pump.hpp"

namespace tickwire::net {
namespace {

using test::bytes_of;
using test::EventLog;

// What the loopback network adds to the transport contract (transport_contract_test): simulated
// network conditions on a hand-driven clock, where nothing happens until the test advances time.
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

}  // namespace
}  // namespace tickwire::net
