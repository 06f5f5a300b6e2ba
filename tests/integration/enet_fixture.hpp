#pragma once
// A server and clients over real ENet sockets on 127.0.0.1, optionally through a UdpLinkSimulator.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "../support/pump.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace tickwire::test {

class EnetTest : public ::testing::Test {
 protected:
  // Short timeouts so that tests about timeouts end quickly.
  static net::EnetCommonConfig fast_common() {
    net::EnetCommonConfig common;
    common.timeout_min_ms = 1000;
    common.timeout_max_ms = 2000;
    common.ping_interval_ms = 100;
    return common;
  }

  void start_server(net::EnetServerConfig config = {}) {
    config.port = 0;
    auto made = net::make_enet_server(config);
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
  }

  // Puts a link simulator between clients and the server; clients made afterwards go through it.
  void simulate(const net::NetworkConditions& conditions) {
    net::UdpLinkSimulatorConfig config;
    config.target_port = server_->port();
    config.conditions = conditions;
    auto made = net::UdpLinkSimulator::start(config);
    ASSERT_TRUE(made.ok()) << made.error();
    link_ = std::move(made.value());
  }

  std::unique_ptr<net::ClientTransport> make_client(net::EnetClientConfig config = {}) {
    config.server_port = link_ ? link_->port() : server_->port();
    auto made = net::make_enet_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  // Connects a client and waits until both sides report it.
  std::unique_ptr<net::ClientTransport> connect_client(EventLog& client_log,
                                                       net::EnetClientConfig config = {}) {
    auto client = make_client(std::move(config));
    const std::size_t before = server_log_.connected.size();
    EXPECT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
      return !client_log.connected.empty() && server_log_.connected.size() > before;
    }));
    return client;
  }

  std::unique_ptr<net::ServerTransport> server_;
  std::unique_ptr<net::UdpLinkSimulator> link_;
  EventLog server_log_;
};

}  // namespace tickwire::test
