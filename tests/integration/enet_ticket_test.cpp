// Admission by join ticket on the ENet game server, beyond the contract every transport keeps
// (transport_contract_test): every kind of bad ticket is refused and counted, and a client that
// skips the handshake gets no slot at all.

#include <enet/enet.h>

#include <cstring>

#include "../support/log_capture.hpp"
#include "../support/udp_socket.hpp"
#include "enet_fixture.hpp"
#include "session/handshake.hpp"

namespace tickwire::test {
namespace {

using net::DisconnectReason;
using net::TicketRefusal;

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
  const std::vector<std::pair<std::vector<std::byte>, TicketRefusal>> cases = {
      {valid.ticket, TicketRefusal::reused},
      {tampered, TicketRefusal::bad_signature},
      {expired, TicketRefusal::expired},
      {foreign, TicketRefusal::wrong_server},
      {other_lobby, TicketRefusal::bad_signature},
      {other_server, TicketRefusal::no_keys},
      {std::vector<std::byte>{}, TicketRefusal::malformed},
  };
  for (const auto& [bad, refusal] : cases) {
    EventLog log;
    EXPECT_EQ(try_join(bad, log), DisconnectReason::ticket_rejected) << to_string(refusal);
    EXPECT_TRUE(log.connected.empty());
    // The client is told why, as the player will read it.
    ASSERT_EQ(log.ticket_refusals.size(), 1u);
    EXPECT_EQ(log.ticket_refusals[0], refusal);
  }
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(50));
  // At least one each: a client that waited past its 250 ms resend before reading the DENY (a
  // stalled test thread on a loaded machine) shows its ticket again, and that is checked again.
  EXPECT_GE(server_->counters().rejected_tickets, 7u);
  EXPECT_EQ(server_log_.connected.size(), 1u) << "only the valid ticket got in";
  EXPECT_EQ(server_->connected_peers(), 1u);
  EXPECT_TRUE(ok_log.disconnected.empty());
}

TEST_F(EnetTicketTest, clients_with_and_without_aes_gcm_play_on_one_server) {
  // The first client allows only ChaCha20-Poly1305, as a CPU without AES-NI would; the second
  // takes the default (AES-256-GCM on a CPU that has it). The server picks per client what both
  // ends can do: both connect and their messages arrive intact both ways.
  std::vector<EventLog> logs(2);
  for (std::size_t i = 0; i < 2; ++i) {
    const net::IssuedTicket issued = lobby_.issue_with_keys(20 + i, 1, kServer, seal_.public_key);
    net::EnetClientConfig config;
    config.join_ticket = issued.ticket;
    config.session_keys = issued.keys;
    config.common.use_aes_gcm = i == 1;
    clients_.push_back(make_client(config));
  }
  const std::vector<Endpoint> everyone = {
      {server_.get(), &server_log_}, {clients_[0].get(), &logs[0]}, {clients_[1].get(), &logs[1]}};
  ASSERT_TRUE(pump_until(everyone, [&] {
    return logs[0].connected.size() == 1 && logs[1].connected.size() == 1 &&
           server_log_.connected.size() == 2;
  }));
  for (std::size_t i = 0; i < 2; ++i) {
    net::ClientTransport& client = *clients_[i];
    EXPECT_EQ(client.send(client.server(), 0, net::Delivery::reliable_ordered,
                          pattern(static_cast<std::uint32_t>(i), 1000)),
              net::SendResult::ok);
    EXPECT_EQ(client.send(client.server(), 1, net::Delivery::unreliable,
                          pattern(static_cast<std::uint32_t>(i + 2), 100)),
              net::SendResult::ok);
  }
  for (const net::PeerId peer : server_log_.connected) {
    EXPECT_EQ(server_->send(peer, 0, net::Delivery::reliable_ordered, pattern(peer, 1200)),
              net::SendResult::ok);
  }
  ASSERT_TRUE(pump_until(everyone, [&] {
    return server_log_.messages.size() == 4 && logs[0].messages.size() == 1 &&
           logs[1].messages.size() == 1;
  }));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(logs[i].messages[0].bytes, pattern(server_log_.connected[i], 1200));
  }
  std::size_t intact = 0;
  for (const auto& message : server_log_.messages) {
    for (std::uint32_t seed = 0; seed < 4; ++seed)
      intact += message.bytes == pattern(seed, seed < 2 ? 1000 : 100) ? 1 : 0;
  }
  EXPECT_EQ(intact, 4u);
  EXPECT_EQ(server_->counters().dropped_forged, 0u);
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

TEST_F(EnetTicketTest, a_refused_ticket_is_one_warning_that_names_the_reason) {
  LogCapture capture;
  const auto expired = lobby_.sign({3, 1, kServer, net::unix_time_ms() - 1000, {}});
  EventLog log;
  EXPECT_EQ(try_join(expired, log), DisconnectReason::ticket_rejected);
  // One line per RESPONSE the server refused: one, unless a stalled client resent it.
  const auto lines = capture.matching("tickets", "refused");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.size(), server_->counters().rejected_tickets);
  for (const auto& line : lines) {
    EXPECT_EQ(line.level, net::LogLevel::warning);
    EXPECT_NE(line.message.find("expired"), std::string::npos) << line.message;
    EXPECT_NE(line.message.find("127.0.0.1"), std::string::npos) << "names where it came from";
  }
}

TEST_F(EnetTicketTest, a_flood_of_bad_tickets_logs_a_bounded_number_of_lines_and_counts_the_rest) {
  // A server that lets one address try as fast as it likes, so that every ticket is checked.
  net::EnetServerConfig config;
  config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, 300, seal_};
  config.connect_burst_per_address = 100'000;
  config.connect_rate_per_address = 100'000;
  config.cookie_lifetime_ms = 60'000;  // one cookie for the whole flood, however slow the machine
  start_server(config);
  LogCapture capture;
  UdpSocket attacker("127.0.0.3");
  const UdpAddress server = loopback(server_->port());
  const std::uint32_t protocol = net::EnetCommonConfig{}.protocol_id;
  attacker.send_to(server, net::session::encode_hello(protocol));
  std::optional<net::session::HandshakePacket> challenge;
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}}, [&] {
    UdpAddress from;
    const auto datagram = attacker.receive(from, 1);
    if (datagram) challenge = net::session::decode_handshake(*datagram);
    return challenge && challenge->type == net::session::HandshakeType::challenge;
  }));
  const auto started = std::chrono::steady_clock::now();
  constexpr std::uint64_t kFlood = 10'000;
  auto forged = lobby_.issue_with_keys(7, 1, kServer, seal_.public_key).ticket;
  // Sent in waves small enough for the server's socket buffer, each checked before the next.
  constexpr std::uint64_t kWave = 50;
  for (std::uint64_t sent = 0; sent < kFlood;) {
    for (std::uint64_t i = 0; i < kWave; ++i, ++sent) {
      // A different forgery each time, so that no answer is a resend of an earlier one.
      std::memcpy(forged.data() + forged.size() - sizeof sent, &sent, sizeof sent);
      attacker.send_to(server,
                       net::session::encode_response(protocol, challenge->cookie, false, forged));
    }
    ASSERT_TRUE(pump_until({{server_.get(), &server_log_}},
                           [&] {
                             UdpAddress from;
                             while (attacker.receive(from)) {
                             }
                             return server_->counters().rejected_tickets == sent;
                           }))
        << "rejected " << server_->counters().rejected_tickets << " of " << sent;
  }
  // One more after a quiet spell brings out the count of the lines held back.
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(1500));
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  attacker.send_to(server,
                   net::session::encode_response(protocol, challenge->cookie, false, forged));
  const auto held_back = [&] {
    std::uint64_t count = 0;
    for (const auto& record : capture.matching("tickets", "suppressed")) {
      count += std::stoull(record.message.substr(record.message.find(' ') + 1));
    }
    return count;
  };
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}}, [&] {
    return server_->counters().rejected_tickets == kFlood + 1 &&
           capture.matching("tickets", "refused").size() + held_back() == kFlood + 1;
  })) << "every refusal was either logged or counted in a suppressed line";
  const std::uint64_t rejected = server_->counters().rejected_tickets;
  const std::size_t lines = capture.matching("tickets").size();
  // A burst of 5, then at most one a second, each maybe after a suppressed line.
  EXPECT_LE(lines, 2 * (5 + static_cast<std::size_t>(seconds) + 3));
  EXPECT_EQ(rejected, kFlood + 1);
  EXPECT_GT(rejected, lines * 10) << "the log holds back most of a flood";
  // An honest player gets in all the same.
  EventLog honest_log;
  const net::IssuedTicket honest = lobby_.issue_with_keys(8, 1, kServer, seal_.public_key);
  EXPECT_FALSE(try_join(honest.ticket, honest_log, honest.keys).has_value());
}

TEST_F(EnetTicketTest, one_copied_ticket_shown_from_many_addresses_holds_two_places_and_no_more) {
  // A ticket copied off the wire (not its keys) shown from 40 addresses: more than the 32 places
  // of max_pending_handshakes, which it would fill, turning players away as server_full, if every
  // attempt holding it kept one. Held attempts live 60 s here, so none ends during the test.
  net::EnetServerConfig config;
  config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, 60'000, seal_};
  config.cookie_lifetime_ms = 60'000;
  start_server(config);
  const net::IssuedTicket copied = lobby_.issue_with_keys(9, 1, kServer, seal_.public_key);
  const UdpAddress server = loopback(server_->port());
  const std::uint32_t protocol = net::EnetCommonConfig{}.protocol_id;
  constexpr std::size_t kAddresses = 40;
  std::vector<std::unique_ptr<UdpSocket>> attackers;
  for (std::size_t i = 0; i < kAddresses; ++i) {
    const std::string ip = "127.0.1." + std::to_string(i + 1);
    attackers.push_back(std::make_unique<UdpSocket>(ip.c_str()));
    ASSERT_TRUE(attackers.back()->bound()) << "cannot bind " << ip;
  }
  using net::session::HandshakeType;
  const auto answer_of = [](const UdpSocket& socket, HandshakeType type) {
    UdpAddress from;
    std::optional<net::session::HandshakePacket> found;
    while (const auto datagram = socket.receive(from)) {
      const auto packet = net::session::decode_handshake(*datagram);
      if (packet && packet->type == type) found = packet;
    }
    return found;
  };
  for (const auto& attacker : attackers) {
    attacker->send_to(server, net::session::encode_hello(protocol));
    std::optional<net::session::HandshakePacket> challenge;
    ASSERT_TRUE(pump_until({{server_.get(), &server_log_}}, [&] {
      challenge = answer_of(*attacker, HandshakeType::challenge);
      return challenge.has_value();
    }));
    attacker->send_to(
        server, net::session::encode_response(protocol, challenge->cookie, false, copied.ticket));
  }
  // Every RESPONSE gets an ACCEPT (the attempt holds the ticket) or is counted unanswered.
  std::size_t accepted = 0;
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}},
                         [&] {
                           for (const auto& attacker : attackers) {
                             if (answer_of(*attacker, HandshakeType::accept)) ++accepted;
                           }
                           return accepted + server_->counters().dropped_ticket_held >= kAddresses;
                         }))
      << accepted << " accepted, " << server_->counters().dropped_ticket_held << " unanswered";
  EXPECT_EQ(accepted, 2u) << "max_unproven_attempts_per_ticket";
  EXPECT_EQ(server_->counters().dropped_ticket_held, kAddresses - 2);
  EXPECT_EQ(server_->counters().refused_connections, 0u) << "the handshake table filled up";
  // Players with tickets of their own get in while the copied ticket is held.
  for (std::uint64_t player = 10; player < 13; ++player) {
    EventLog log;
    const net::IssuedTicket own = lobby_.issue_with_keys(player, 1, kServer, seal_.public_key);
    EXPECT_FALSE(try_join(own.ticket, log, own.keys).has_value()) << "player " << player;
  }
  EXPECT_EQ(server_log_.connected.size(), 3u) << "the copied ticket got somebody in";
}

}  // namespace
}  // namespace tickwire::test
