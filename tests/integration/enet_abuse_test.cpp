// Hostile input at a live server: garbage datagrams and connection floods. The server must
// survive, count what it dropped, and keep serving its players.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <random>

#include "../support/enet_datagrams.hpp"
#include "enet/datagram_inspector.hpp"
#include "enet_fixture.hpp"
#include "session/handshake.hpp"

namespace tickwire::test {
namespace {

using net::Delivery;
using net::SendResult;

// A plain UDP socket bound to `from` (any 127.x.y.z address), aimed at the server.
class RawSender {
 public:
  RawSender(const char* from, std::uint16_t to_port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(to_port);
    inet_pton(AF_INET, "127.0.0.1", &to_.sin_addr);
  }
  ~RawSender() { close(fd_); }
  // Waits up to 1 ms for a datagram; empty if none came.
  std::vector<std::uint8_t> receive() {
    std::vector<std::uint8_t> bytes(2048);
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, 1) <= 0) return {};
    const ssize_t size = recv(fd_, bytes.data(), bytes.size(), 0);
    bytes.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
    return bytes;
  }
  void send(const std::vector<std::uint8_t>& bytes) {
    sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
  }

 private:
  int fd_;
  sockaddr_in to_{};
};

// An ENet CONNECT as a Tickwire client sends it (its tag field zero, which only a plaintext
// session accepts), with a fresh connect id each time.
std::vector<std::uint8_t> connect_datagram(std::uint32_t connect_id) {
  return DatagramBuilder(net::enet_detail::kUnassignedPeerId)
      .connect(3, net::EnetCommonConfig{}.protocol_id, connect_id)
      .bytes();
}

// Waits for a handshake datagram of `type` at `socket` while the server runs.
std::optional<net::session::HandshakePacket> await_handshake(RawSender& socket,
                                                             net::session::HandshakeType type,
                                                             net::ServerTransport& server,
                                                             EventLog& log,
                                                             std::vector<std::uint8_t>& raw) {
  std::optional<net::session::HandshakePacket> found;
  pump_until({{&server, &log}}, [&] {
    raw = socket.receive();
    found = net::session::decode_handshake(raw);
    return found && found->type == type;
  });
  return found && found->type == type ? found : std::nullopt;
}

TEST_F(EnetTest, ten_thousand_garbage_datagrams_are_counted_and_players_keep_playing) {
  start_server();
  std::vector<EventLog> logs(2);
  std::vector<std::unique_ptr<net::ClientTransport>> clients;
  for (auto& log : logs)
    clients.push_back(connect_client(log));
  std::vector<Endpoint> endpoints{{server_.get(), &server_log_}};
  for (std::size_t i = 0; i < clients.size(); ++i)
    endpoints.push_back({clients[i].get(), &logs[i]});

  // Real traffic to truncate: a captured-looking reliable datagram shape.
  const std::vector<std::uint8_t> real = {0x80, 0x00, 0x12, 0x34, 0x86, 0x00, 0x00,
                                          0x01, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF};
  std::mt19937_64 random(test_seed(31));
  RawSender attacker("127.0.0.1", server_->port());
  std::uint32_t exchanged = 0;
  // Every 100 datagrams the server is given the time to read them, so that none is lost to its
  // socket's receive buffer on a loaded machine (ENet never sees an empty one).
  const std::uint64_t received_at_start = server_->counters().datagrams_received;
  std::uint64_t sent_nonempty = 0;
  for (int i = 0; i < 10000; ++i) {
    std::vector<std::uint8_t> bytes;
    switch (i % 3) {
      case 0:  // random bytes of random length
        bytes.resize(random() % 1400);
        for (auto& b : bytes)
          b = static_cast<std::uint8_t>(random());
        break;
      case 1:  // a truncated real datagram
        bytes.assign(real.begin(), real.begin() + static_cast<long>(random() % real.size()));
        break;
      default:  // a valid-looking header aimed at the players' slots, garbage after it
        bytes.resize(4 + random() % 64);
        for (auto& b : bytes)
          b = static_cast<std::uint8_t>(random());
        bytes[0] = 0x80;
        bytes[1] = static_cast<std::uint8_t>(random() % 4);
        break;
    }
    attacker.send(bytes);
    sent_nonempty += bytes.empty() ? 0 : 1;
    if (i % 100 == 0) {
      // The players keep exchanging messages throughout the attack.
      for (auto& client : clients) {
        ASSERT_EQ(client->send(0, Delivery::reliable_ordered, bytes_of("move")), SendResult::ok);
      }
      exchanged += static_cast<std::uint32_t>(clients.size());
      ASSERT_TRUE(pump_until(endpoints, [&] {
        return server_->counters().datagrams_received >= received_at_start + sent_nonempty;
      }));
    }
  }
  ASSERT_TRUE(pump_until(
      endpoints, [&] { return server_log_.messages.size() == exchanged; },
      std::chrono::seconds(10)));
  const auto counters = server_->counters();
  EXPECT_GT(counters.dropped_malformed + counters.dropped_stale + counters.dropped_forged +
                counters.dropped_unauthenticated,
            9000u);
  EXPECT_EQ(server_->connected_peers(), 2u);
  for (const auto& log : logs)
    EXPECT_TRUE(log.disconnected.empty());
  for (const auto& message : server_log_.messages)
    EXPECT_EQ(message.bytes, bytes_of("move"));
}

TEST_F(EnetTest, connects_without_a_handshake_get_no_slot_and_no_answer_and_others_get_in) {
  net::EnetServerConfig config;
  config.max_peers = 16;
  config.security = net::SessionSecurity::plaintext_for_development;
  start_server(config);
  // The flood comes from 127.0.0.2, the honest client from 127.0.0.1.
  RawSender flooder("127.0.0.2", server_->port());
  for (std::uint32_t i = 0; i < 2000; ++i) {
    flooder.send(connect_datagram(1000 + i));
    if (i % 50 == 0) pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(1));
  }
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(50));
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_unauthenticated, 2000u);
  EXPECT_TRUE(flooder.receive().empty()) << "nothing is sent to an unverified address";

  EventLog client_log;
  auto client = connect_client(client_log);
  EXPECT_EQ(client->state(), net::ClientState::connected);
  EXPECT_TRUE(server_log_.connected.size() == 1);
}

TEST_F(EnetTest, verified_attempts_from_one_address_are_rate_limited_and_others_still_get_in) {
  net::EnetServerConfig config;
  config.connect_burst_per_address = 4;
  config.connect_rate_per_address = 1;
  start_server(config);
  RawSender attacker("127.0.0.2", server_->port());
  attacker.send(net::session::encode_hello(net::EnetCommonConfig{}.protocol_id));
  std::vector<std::uint8_t> raw;
  const auto challenge =
      await_handshake(attacker, net::session::HandshakeType::challenge, *server_, server_log_, raw);
  ASSERT_TRUE(challenge);
  // Each RESPONSE costs the server a signature check: only the burst gets one.
  const std::vector<std::byte> garbage_ticket(300, std::byte{0x5A});
  for (int i = 0; i < 200; ++i) {
    attacker.send(net::session::encode_response(net::EnetCommonConfig{}.protocol_id,
                                                challenge->cookie, false, garbage_ticket));
    if (i % 20 == 0) pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(1));
  }
  pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(50));
  const auto counters = server_->counters();
  EXPECT_EQ(counters.rejected_tickets, 4u);
  EXPECT_GE(counters.dropped_rate_limited, 190u);

  EventLog client_log;
  auto client = connect_client(client_log);
  EXPECT_EQ(client->state(), net::ClientState::connected);
}

TEST_F(EnetTest, peer_that_keeps_sending_malformed_datagrams_is_disconnected_with_protocol_error) {
  net::EnetServerConfig config;
  config.common = fast_common();
  config.common.max_malformed_per_peer = 5;
  // Plaintext, so that a hand-made client can complete the handshake and talk from its slot.
  config.security = net::SessionSecurity::plaintext_for_development;
  start_server(config);
  EventLog good_log;
  auto good = connect_client(good_log);

  RawSender impostor("127.0.0.1", server_->port());
  std::vector<std::uint8_t> raw;
  impostor.send(net::session::encode_hello(net::EnetCommonConfig{}.protocol_id));
  const auto challenge =
      await_handshake(impostor, net::session::HandshakeType::challenge, *server_, server_log_, raw);
  ASSERT_TRUE(challenge);
  impostor.send(net::session::encode_response(net::EnetCommonConfig{}.protocol_id,
                                              challenge->cookie, false, {}));
  ASSERT_TRUE(
      await_handshake(impostor, net::session::HandshakeType::accept, *server_, server_log_, raw));
  impostor.send(connect_datagram(77));
  // The VERIFY_CONNECT may follow an acknowledgement of our CONNECT in the same datagram; the
  // commands start after the 4-byte header and the 4-byte tag field.
  std::vector<std::uint8_t> datagram;
  std::size_t at = 0;
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {good.get(), &good_log}}, [&] {
    datagram = impostor.receive();
    for (at = 8; at + 12 <= datagram.size(); at += 8) {
      if ((datagram[at] & 0x0F) == 3) return true;   // VERIFY_CONNECT
      if ((datagram[at] & 0x0F) != 1) return false;  // only acknowledgements before it
    }
    return false;
  }));
  const std::uint8_t sent_time_high = datagram[2], sent_time_low = datagram[3];
  const std::uint8_t slot_high = datagram[at + 4], slot_low = datagram[at + 5];  // our slot there
  const std::uint8_t session = datagram[at + 7];  // the session the server expects from us
  const auto header_high = static_cast<std::uint8_t>(0x80 | (session << 4) | (slot_high & 0x0F));
  impostor.send({header_high, slot_low, 0x00, 0x00,   // header with sent time
                 0x00, 0x00, 0x00, 0x00,              // tag field
                 0x01, 0xFF, 0x00, 0x01,              // ACKNOWLEDGE on channel 0xFF
                 datagram[at + 2], datagram[at + 3],  // ... the VERIFY_CONNECT's number
                 sent_time_high, sent_time_low});
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {good.get(), &good_log}},
                         [&] { return server_log_.connected.size() == 2; }));
  const net::PeerId impostor_id = server_log_.connected[1];

  for (int i = 0; i < 6; ++i)
    impostor.send(
        {header_high, slot_low, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00});
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {good.get(), &good_log}},
      [&] { return !server_log_.disconnected.empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].first, impostor_id);
  EXPECT_EQ(server_log_.disconnected[0].second, net::DisconnectReason::protocol_error);
  EXPECT_EQ(server_->counters().peers_disconnected_for_abuse, 1u);
  EXPECT_GE(server_->counters().dropped_malformed, 6u);
  EXPECT_TRUE(good_log.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), 1u);
}

}  // namespace
}  // namespace tickwire::test
