#pragma once
// A server and clients over real ENet sockets on 127.0.0.1, optionally through a UdpLinkSimulator.
// Servers are encrypted unless a test says otherwise: the fixture plays the lobby, requiring
// tickets on the server and giving each client a ticket with its session keys.

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
    issue_tickets_ = config.security == net::SessionSecurity::encrypted && !config.require_ticket;
    if (issue_tickets_) {
      config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServerName, 2000, seal_};
    }
    auto made = net::make_enet_server(config);
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
  }

  // A ticket for the fixture's server, with its session keys, into `config`.
  void add_ticket(net::EnetClientConfig& config, std::uint64_t player_id = 1) const {
    net::IssuedTicket issued = lobby_.issue_with_keys(player_id, 1, kServerName, seal_.public_key);
    config.join_ticket = std::move(issued.ticket);
    config.session_keys = issued.keys;
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
    if (issue_tickets_ && config.join_ticket.empty() && !config.session_keys) {
      add_ticket(config, ++next_player_);
    }
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

  static constexpr const char* kServerName = "127.0.0.1:7777";
  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  const net::GameServerSealKeys seal_ = net::GameServerSealKeys::generate();
  bool issue_tickets_ = false;
  std::uint64_t next_player_ = 0;
  std::unique_ptr<net::ServerTransport> server_;
  std::unique_ptr<net::UdpLinkSimulator> link_;
  EventLog server_log_;
};

}  // namespace tickwire::test
