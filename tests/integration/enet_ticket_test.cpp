// Admission by join ticket on the ENet game server: only a valid, unexpired, unused ticket for
// this server, presented in time, gets a player in; everything else is refused and counted.

#include <enet/enet.h>

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

using net::DisconnectReason;

class EnetTicketTest : public EnetTest {
 protected:
  void SetUp() override {
    net::EnetServerConfig config;
    config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, 300};
    start_server(config);
  }
  // Connects with `ticket` and reports how it ended: connected, or the disconnect reason.
  std::optional<DisconnectReason> try_join(std::vector<std::byte> ticket, EventLog& log) {
    net::EnetClientConfig config;
    config.join_ticket = std::move(ticket);
    clients_.push_back(make_client(config));
    net::ClientTransport* client = clients_.back().get();
    EXPECT_TRUE(pump_until({{server_.get(), &server_log_}, {client, &log}},
                           [&] { return !log.connected.empty() || !log.disconnected.empty(); }));
    if (!log.connected.empty()) return std::nullopt;
    return log.disconnected.empty() ? DisconnectReason::timeout : log.disconnected[0].second;
  }

  static constexpr const char* kServer = "127.0.0.1:7777";
  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  std::vector<std::unique_ptr<net::ClientTransport>> clients_;
};

TEST_F(EnetTicketTest, a_valid_ticket_gets_the_player_in_with_its_identity) {
  EventLog log;
  EXPECT_FALSE(try_join(lobby_.issue(42, 9, kServer), log).has_value());
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}}, [&] { return !server_log_.connected.empty(); }));
  const auto ticket = server_->ticket_of(server_log_.connected[0]);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->player_id, 42u);
  EXPECT_EQ(ticket->match_id, 9u);
  EXPECT_EQ(server_->counters().rejected_tickets, 0u);
}

TEST_F(EnetTicketTest,
       tampered_expired_reused_foreign_and_missing_tickets_are_refused_and_counted) {
  const auto valid = lobby_.issue(1, 1, kServer);
  auto tampered = lobby_.issue(2, 1, kServer);
  tampered[tampered.size() - 10] ^= std::byte{0x40};
  const auto expired = lobby_.sign({3, 1, kServer, net::unix_time_ms() - 1000, {}});
  const auto foreign = lobby_.issue(4, 1, "127.0.0.1:9999");
  const auto other_lobby = net::JoinTicketIssuer::generate().issue(5, 1, kServer);

  EventLog ok_log;
  ASSERT_FALSE(try_join(valid, ok_log).has_value());
  int case_number = 0;
  for (const auto& bad : {valid /* reused */, tampered, expired, foreign, other_lobby,
                          std::vector<std::byte>{} /* missing: the deadline passes */}) {
    EventLog log;
    EXPECT_EQ(try_join(bad, log), DisconnectReason::ticket_rejected) << "case " << case_number;
    EXPECT_TRUE(log.connected.empty());
    ++case_number;
  }
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(50));
  EXPECT_EQ(server_->counters().rejected_tickets, 6u);
  EXPECT_EQ(server_log_.connected.size(), 1u) << "only the valid ticket got in";
  EXPECT_EQ(server_->connected_peers(), 1u);
  EXPECT_TRUE(ok_log.disconnected.empty());
}

TEST_F(EnetTicketTest, nothing_a_peer_sends_before_its_ticket_reaches_the_game) {
  // A hand-made ENet client that skips the ticket and talks on a game channel at once.
  ENetHost* host = enet_host_create(nullptr, 1, 3, 0, 0);
  ASSERT_NE(host, nullptr);
  ENetAddress address{};
  enet_address_set_host_ip(&address, "127.0.0.1");
  address.port = server_->port();
  ENetPeer* peer = enet_host_connect(host, &address, 3, net::EnetCommonConfig{}.protocol_id);
  ASSERT_NE(peer, nullptr);
  bool sent = false, kicked = false;
  EventLog none;
  pump_until(
      {{server_.get(), &server_log_}},
      [&] {
        ENetEvent event;
        while (enet_host_service(host, &event, 0) > 0) {
          if (event.type == ENET_EVENT_TYPE_CONNECT) {
            for (int i = 0; i < 5; ++i) {
              enet_peer_send(peer, 1, enet_packet_create("sneak", 5, ENET_PACKET_FLAG_RELIABLE));
            }
            sent = true;
          } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            kicked = event.data == static_cast<enet_uint32>(DisconnectReason::ticket_rejected);
          } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            enet_packet_destroy(event.packet);
          }
        }
        return kicked;
      },
      std::chrono::seconds(3));
  enet_host_destroy(host);
  EXPECT_TRUE(sent);
  EXPECT_TRUE(kicked) << "the deadline passed without a ticket";
  EXPECT_TRUE(server_log_.messages.empty());
  EXPECT_TRUE(server_log_.connected.empty());
  // The datagrams carrying them were dropped before ENet read them (and each retransmission).
  EXPECT_GE(server_->counters().dropped_before_admission, 1u);
  EXPECT_EQ(server_->counters().rejected_tickets, 1u);
}

}  // namespace
}  // namespace tickwire::test
