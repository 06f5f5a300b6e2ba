// Admission by join ticket on the ENet game server, beyond the contract every transport keeps
// (transport_contract_test): every kind of bad ticket is refused and counted, and a client that
// skips the handshake gets no slot at all.

#include <enet/enet.h>

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

using net::DisconnectReason;

class EnetTicketTest : public EnetTest {
 protected:
  void SetUp() override {
    net::EnetServerConfig config;
    config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, 300, seal_};
    start_server(config);
  }
  // Connects with `ticket` and reports how it ended: connected, or the disconnect reason.
  std::optional<DisconnectReason> try_join(std::vector<std::byte> ticket, EventLog& log,
                                           std::optional<net::SessionKeys> keys = {}) {
    net::EnetClientConfig config;
    config.join_ticket = std::move(ticket);
    config.session_keys = keys ? keys : net::SessionKeys{};
    clients_.push_back(make_client(config));
    net::ClientTransport* client = clients_.back().get();
    EXPECT_TRUE(pump_until({{server_.get(), &server_log_}, {client, &log}},
                           [&] { return !log.connected.empty() || !log.disconnected.empty(); }));
    if (!log.connected.empty()) return std::nullopt;
    return log.disconnected.empty() ? DisconnectReason::timeout : log.disconnected[0].second;
  }

  static constexpr const char* kServer = "127.0.0.1:7777";
  std::vector<std::unique_ptr<net::ClientTransport>> clients_;
};

TEST_F(EnetTicketTest,
       tampered_expired_reused_foreign_and_missing_tickets_are_refused_and_counted) {
  const net::IssuedTicket valid = lobby_.issue_with_keys(1, 1, kServer, seal_.public_key);
  auto tampered = lobby_.issue_with_keys(2, 1, kServer, seal_.public_key).ticket;
  tampered[tampered.size() - 10] ^= std::byte{0x40};
  const auto expired = lobby_.sign({3, 1, kServer, net::unix_time_ms() - 1000, {}});
  const auto foreign = lobby_.issue_with_keys(4, 1, "127.0.0.1:9999", seal_.public_key).ticket;
  const auto other_lobby =
      net::JoinTicketIssuer::generate().issue_with_keys(5, 1, kServer, seal_.public_key).ticket;
  const auto other_server =
      lobby_.issue_with_keys(6, 1, kServer, net::GameServerSealKeys::generate().public_key).ticket;

  EventLog ok_log;
  ASSERT_FALSE(try_join(valid.ticket, ok_log, valid.keys).has_value());
  int case_number = 0;
  for (const auto& bad : {valid.ticket /* reused */, tampered, expired, foreign, other_lobby,
                          other_server, std::vector<std::byte>{} /* missing */}) {
    EventLog log;
    EXPECT_EQ(try_join(bad, log), DisconnectReason::ticket_rejected) << "case " << case_number;
    EXPECT_TRUE(log.connected.empty());
    ++case_number;
  }
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(50));
  EXPECT_EQ(server_->counters().rejected_tickets, 7u);
  EXPECT_EQ(server_log_.connected.size(), 1u) << "only the valid ticket got in";
  EXPECT_EQ(server_->connected_peers(), 1u);
  EXPECT_TRUE(ok_log.disconnected.empty());
}

TEST_F(EnetTicketTest, a_client_that_skips_the_handshake_gets_no_slot_and_nothing_through) {
  // A stock ENet client: its CONNECTs come from an address that never answered a challenge.
  ENetHost* host = enet_host_create(nullptr, 1, 3, 0, 0);
  ASSERT_NE(host, nullptr);
  host->checksum = enet_crc32;  // well-formed as far as the datagram layout goes
  ENetAddress address{};
  enet_address_set_host_ip(&address, "127.0.0.1");
  address.port = server_->port();
  ENetPeer* peer = enet_host_connect(host, &address, 3, net::EnetCommonConfig{}.protocol_id);
  ASSERT_NE(peer, nullptr);
  bool connected = false;
  pump_until(
      {{server_.get(), &server_log_}},
      [&] {
        ENetEvent event;
        while (enet_host_service(host, &event, 0) > 0) {
          if (event.type == ENET_EVENT_TYPE_CONNECT) connected = true;
          if (event.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(event.packet);
        }
        return false;
      },
      std::chrono::milliseconds(1500));
  enet_host_destroy(host);
  EXPECT_FALSE(connected);
  EXPECT_TRUE(server_log_.connected.empty());
  EXPECT_GE(server_->counters().dropped_unauthenticated, 1u) << "its CONNECTs were dropped";
  EXPECT_EQ(server_->counters().challenges_sent, 0u) << "and nothing was sent back";
}

}  // namespace
}  // namespace tickwire::test
