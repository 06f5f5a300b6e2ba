// Fragment attacks at a live server that requires join tickets: peers without a ticket cost it
// next to no memory whatever they send, and admitted players who abuse fragmentation are
// disconnected, while an honest player connected at the same time plays on.
//
// The attackers are real ENet client hosts (so the server's ENet knows them as connected peers)
// that write forged datagrams straight to their own sockets, under their own peer id and session.

#include <enet/enet.h>
#include <malloc.h>

#include <algorithm>
#include <memory>
#include <string>

#include "../support/enet_datagrams.hpp"
#include "enet/datagram_inspector.hpp"
#include "enet_fixture.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TICKWIRE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TICKWIRE_TEST_ASAN 1
#endif
#endif
#ifdef TICKWIRE_TEST_ASAN
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace tickwire::test {
namespace {

using net::Delivery;
using net::DisconnectReason;
using net::SendResult;

// Bytes this process has allocated and not freed, from the allocator's own books (ASan's under
// ASan, glibc's in every arena otherwise). It counts what ENet mallocs even where the pages were
// never touched, so it is stricter than RSS, which an untouched 256 KiB message does not raise.
std::size_t allocated_bytes() {
#ifdef TICKWIRE_TEST_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

// An ENet client host bound to `local_ip`, connected to the server at `port`. It presents
// `ticket` like a Tickwire client would, or nothing if empty.
class RawEnetPeer {
 public:
  RawEnetPeer(const std::string& local_ip, std::uint16_t port, std::vector<std::byte> ticket)
      : ticket_(std::move(ticket)) {
    ENetAddress local{};
    enet_address_set_host_ip(&local, local_ip.c_str());
    host_ = enet_host_create(&local, 1, net::EnetCommonConfig{}.channel_count + 1, 0, 0);
    EXPECT_NE(host_, nullptr) << local_ip;
    if (host_ == nullptr) return;
    ENetAddress server{};
    enet_address_set_host_ip(&server, "127.0.0.1");
    server.port = port;
    peer_ = enet_host_connect(host_, &server, net::EnetCommonConfig{}.channel_count + 1,
                              net::EnetCommonConfig{}.protocol_id);
  }
  ~RawEnetPeer() {
    if (host_ != nullptr) enet_host_destroy(host_);
  }
  RawEnetPeer(const RawEnetPeer&) = delete;
  RawEnetPeer& operator=(const RawEnetPeer&) = delete;

  // Runs ENet's side of this peer: handshake, acknowledgements, the ticket, the welcome.
  void service() {
    if (host_ == nullptr) return;
    ENetEvent event;
    while (enet_host_service(host_, &event, 0) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) {
        connected_ = true;
        if (!ticket_.empty()) {
          std::vector<std::byte> message{std::byte{0x54}};  // Tickwire's ticket message
          message.insert(message.end(), ticket_.begin(), ticket_.end());
          enet_peer_send(
              peer_, 0,
              enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE));
        }
      } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
        welcomed_ = welcomed_ || (event.channelID == 0 && event.packet->dataLength == 1 &&
                                  event.packet->data[0] == 0x57);
        enet_packet_destroy(event.packet);
      } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
        disconnected_ = true;
        disconnect_reason_ = event.data;
      }
    }
  }
  bool connected() const { return connected_; }
  bool welcomed() const { return welcomed_; }
  bool disconnected() const { return disconnected_; }
  std::uint32_t disconnect_reason() const { return disconnect_reason_; }

  // The header's peer field under which the server knows us: its slot for us and the session.
  std::uint16_t header_peer() const {
    return static_cast<std::uint16_t>(
        peer_->outgoingPeerID | (peer_->outgoingSessionID << ENET_PROTOCOL_HEADER_SESSION_SHIFT));
  }
  // Message bytes per fragment for the MTU both ends settled on.
  std::uint32_t fragment_payload() const {
    return static_cast<std::uint32_t>(net::enet_detail::enet_fragment_payload(peer_->mtu));
  }
  // Sends `bytes` from this peer's socket, as if its ENet had. Allocates nothing.
  void forge(const std::vector<std::uint8_t>& bytes) const {
    ENetBuffer buffer;
    buffer.data = const_cast<std::uint8_t*>(bytes.data());
    buffer.dataLength = bytes.size();
    enet_socket_send(host_->socket, &peer_->address, &buffer, 1);
  }

 private:
  ENetHost* host_ = nullptr;
  ENetPeer* peer_ = nullptr;
  std::vector<std::byte> ticket_;
  bool connected_ = false;
  bool welcomed_ = false;
  bool disconnected_ = false;
  std::uint32_t disconnect_reason_ = 0;
};

// The worst a peer can do with fragments within max_message_size (256 KiB): the fragment bomb
// (as many fragments announced as bytes), and many messages of the largest size started at once,
// each with the few bytes of its last fragment, reliable and unreliable, on every channel.
struct Attack {
  std::vector<std::vector<std::uint8_t>> bombs;   // malformed to the inspector
  std::vector<std::vector<std::uint8_t>> starts;  // cut exactly as ENet's sender would
  std::vector<std::vector<std::uint8_t>> others;  // messages beyond the ticket, a ping flood
};

Attack plan_attack(const RawEnetPeer& attacker) {
  constexpr std::uint32_t kTotal = 256 * 1024;
  const std::uint32_t payload = attacker.fragment_payload();
  const std::uint32_t count = (kTotal + payload - 1) / payload;
  const std::uint32_t last = count - 1;
  const std::uint32_t last_offset = last * payload;
  const auto last_length = static_cast<std::uint16_t>(kTotal - last_offset);
  Attack attack;
  for (std::uint16_t i = 0; i < 4; ++i) {
    DatagramBuilder bomb(attacker.header_peer());
    for (std::uint16_t j = 0; j < 8; ++j) {
      bomb.fragment(static_cast<std::uint8_t>(j % 3), kTotal, 0, kTotal, 0, 1,
                    static_cast<std::uint16_t>(1 + (i * 8 + j) * 100));
    }
    attack.bombs.push_back(bomb.bytes());
  }
  std::uint16_t next_start = 1;
  for (int i = 0; i < 12; ++i) {
    DatagramBuilder starts(attacker.header_peer());
    for (std::uint16_t j = 0; j < 10; ++j) {
      const auto channel = static_cast<std::uint8_t>(j % 3);
      if (j % 2 == 0) {
        starts.fragment_of(channel, next_start, kTotal, last, payload);
        next_start = static_cast<std::uint16_t>(next_start + count);
      } else {
        starts.unreliable_fragment(channel, 0, static_cast<std::uint16_t>(i * 10 + j + 1), count,
                                   last, kTotal, last_offset, last_length);
      }
    }
    attack.starts.push_back(starts.bytes());
  }
  const auto ticket_size = static_cast<std::uint16_t>(net::enet_detail::kMaxTicketMessage);
  attack.others.push_back(DatagramBuilder(attacker.header_peer())
                              .reliable(0, ticket_size, ticket_size, 2)
                              .reliable(0, ticket_size, ticket_size, 3)
                              .bytes());
  attack.others.push_back(
      DatagramBuilder(attacker.header_peer()).reliable(1, 1200, 1200, 1).bytes());
  attack.others.push_back(
      DatagramBuilder(attacker.header_peer()).unreliable(2, 0, 1, 1200).bytes());
  attack.others.push_back(
      DatagramBuilder(attacker.header_peer()).reliable(0, 1300, 1300, 1).bytes());
  DatagramBuilder pings(attacker.header_peer());  // each makes ENet queue an acknowledgement
  for (std::uint16_t i = 0; i < 300; ++i)
    pings.ping(static_cast<std::uint16_t>(100 + i));
  attack.others.push_back(pings.bytes());
  return attack;
}

class EnetPreadmissionTest : public EnetTest {
 protected:
  static constexpr const char* kServer = "127.0.0.1:7777";
  static constexpr std::size_t kAttackers = 64;

  void start_ticket_server(std::uint32_t deadline_ms = 2000) {
    net::EnetServerConfig config;
    config.max_peers = kAttackers + 8;
    config.require_ticket = net::TicketRequirement{lobby_.public_key(), kServer, deadline_ms};
    start_server(config);
  }

  // An honest player with a valid ticket, connected and admitted.
  void connect_honest_player() {
    net::EnetClientConfig config;
    config.join_ticket = lobby_.issue(1, 1, kServer);
    honest_ = connect_client(honest_log_, config);
    ASSERT_NE(honest_, nullptr);
    ASSERT_EQ(honest_->state(), net::ClientState::connected);
    honest_id_ = server_log_.connected.back();
  }

  // ENet-connected raw peers, `per_address` from each address 127.0.2.x (the server allows 8
  // connections per address and rate-limits attempts per address).
  std::vector<std::unique_ptr<RawEnetPeer>> connect_raw_peers(std::size_t count, bool ticketed) {
    std::vector<std::unique_ptr<RawEnetPeer>> peers;
    constexpr std::size_t kPerAddress = 8;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string ip = "127.0.2." + std::to_string(1 + i / kPerAddress);
      peers.push_back(std::make_unique<RawEnetPeer>(
          ip, server_->port(),
          ticketed ? lobby_.issue(100 + i, 1, kServer) : std::vector<std::byte>{}));
      // In batches below max_pending_handshakes (32).
      if (peers.size() % 16 == 0 || peers.size() == count) {
        EXPECT_TRUE(pump_until(endpoints(), [&] {
          for (auto& peer : peers)
            peer->service();
          return std::all_of(peers.begin(), peers.end(), [&](const auto& peer) {
            return ticketed ? peer->welcomed() : peer->connected();
          });
        })) << "raw peers did not get connected";
      }
    }
    // Let the server read their acknowledgements of its handshake (ENet connects them then).
    const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    pump_until(endpoints(), [&] {
      for (auto& peer : peers)
        peer->service();
      return std::chrono::steady_clock::now() > settle;
    });
    return peers;
  }

  std::vector<Endpoint> endpoints() {
    std::vector<Endpoint> out{{server_.get(), &server_log_}};
    if (honest_) out.push_back({honest_.get(), &honest_log_});
    return out;
  }

  // The server sends the honest player one message; true once it arrived.
  bool honest_player_gets_a_message() {
    const std::size_t before = honest_log_.messages.size();
    if (server_->send(honest_id_, 0, Delivery::reliable_ordered, bytes_of("tick")) !=
        SendResult::ok) {
      return false;
    }
    return pump_until(
        endpoints(), [&] { return honest_log_.messages.size() > before; },
        std::chrono::seconds(10));
  }

  const net::JoinTicketIssuer lobby_ = net::JoinTicketIssuer::generate();
  std::unique_ptr<net::ClientTransport> honest_;
  EventLog honest_log_;
  net::PeerId honest_id_ = net::kInvalidPeer;
};

TEST_F(EnetPreadmissionTest, sixty_four_peers_without_a_ticket_cost_the_server_under_8_mib) {
  // The deadline outlasts the attack: the pending peers stay pending throughout.
  start_ticket_server(60'000);
  connect_honest_player();
  auto attackers = connect_raw_peers(kAttackers, false);
  ASSERT_EQ(attackers.size(), kAttackers);
  std::vector<Attack> attacks;
  for (const auto& attacker : attackers)
    attacks.push_back(plan_attack(*attacker));
  ASSERT_TRUE(honest_player_gets_a_message());

  // Why this measures the server alone: from here on this thread runs only the server's poll,
  // the honest client's poll and sends of datagrams built above (enet_socket_send allocates
  // nothing; the attackers' ENet hosts are not serviced). The honest client's allocations are
  // a few small messages, so they can only make the figure larger than the server's own.
  const std::size_t before = allocated_bytes();
  std::size_t peak = before;
  std::uint64_t forged_malformed = 0, forged_other = 0;
  const auto send_round = [&](auto pick) {
    for (std::size_t i = 0; i < attackers.size(); ++i) {
      for (const auto* datagram : pick(attacks[i]))
        attackers[i]->forge(*datagram);
    }
  };
  // One round at a time, each attacker one or two datagrams, waiting until the server read all
  // of them: far below the socket's receive buffer, so none is lost on the loopback.
  const auto wait_until_read = [&] {
    return pump_until(endpoints(), [&] {
      peak = std::max(peak, allocated_bytes());
      const auto counters = server_->counters();
      return counters.dropped_malformed == forged_malformed &&
             counters.dropped_before_admission == forged_other;
    });
  };
  for (std::size_t round = 0; round < 12; ++round) {
    send_round([&](const Attack& attack) {
      std::vector<const std::vector<std::uint8_t>*> picked{&attack.starts[round]};
      if (round < attack.bombs.size()) picked.push_back(&attack.bombs[round]);
      if (round < attack.others.size()) picked.push_back(&attack.others[round]);
      return picked;
    });
    forged_malformed += round < attacks[0].bombs.size() ? kAttackers : 0;
    forged_other += kAttackers * (1 + (round < attacks[0].others.size() ? 1 : 0));
    ASSERT_TRUE(wait_until_read()) << "round " << round;
    ASSERT_TRUE(honest_player_gets_a_message()) << "round " << round;
  }
  pump_for(endpoints(), std::chrono::milliseconds(200));
  peak = std::max(peak, allocated_bytes());

  const std::size_t growth = peak > before ? peak - before : 0;
  EXPECT_LE(growth, 8u * 1024 * 1024) << "the server grew by " << growth << " bytes";
  std::printf("[          ] allocation growth under attack: %zu bytes\n", growth);
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_malformed, 4 * kAttackers) << "the fragment bombs";
  EXPECT_EQ(counters.dropped_before_admission, (12 + 5) * kAttackers)
      << "fragment starts, messages beyond the ticket, ping floods";
  EXPECT_EQ(counters.dropped_reassembly_limit, 0u) << "nothing reached ENet to reassemble";
  EXPECT_TRUE(honest_log_.disconnected.empty());
  EXPECT_EQ(server_log_.connected.size(), 1u) << "no attacker was admitted";
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(EnetPreadmissionTest, admitted_player_sending_fragment_bombs_is_disconnected) {
  start_ticket_server();
  connect_honest_player();
  auto attackers = connect_raw_peers(1, true);
  ASSERT_EQ(server_log_.connected.size(), 2u);
  const net::PeerId attacker_id = server_log_.connected.back();
  const Attack attack = plan_attack(*attackers[0]);

  const std::uint32_t budget = net::EnetCommonConfig{}.max_malformed_per_peer;
  for (std::uint32_t i = 0; i <= budget; ++i) {
    attackers[0]->forge(attack.bombs[i % attack.bombs.size()]);
    if (i % 8 == 0) {
      ASSERT_TRUE(honest_player_gets_a_message());
    }
  }
  // The attacker's ENet answers the server's disconnect, so it ends without a timeout.
  ASSERT_TRUE(pump_until(
      endpoints(),
      [&] {
        attackers[0]->service();
        return !server_log_.disconnected.empty();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].first, attacker_id);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::protocol_error);
  const auto counters = server_->counters();
  EXPECT_GE(counters.dropped_malformed, budget + 1u);
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 1u);
  // The honest player plays on.
  ASSERT_TRUE(honest_player_gets_a_message());
  ASSERT_EQ(honest_->send(0, Delivery::reliable_ordered, bytes_of("move")), SendResult::ok);
  ASSERT_TRUE(pump_until(endpoints(), [&] { return !server_log_.messages.empty(); }));
  EXPECT_EQ(server_log_.messages[0].bytes, bytes_of("move"));
  EXPECT_TRUE(honest_log_.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(EnetPreadmissionTest,
       admitted_player_starting_too_many_messages_is_dropped_counted_and_disconnected) {
  start_ticket_server();
  connect_honest_player();
  auto attackers = connect_raw_peers(1, true);
  ASSERT_EQ(server_log_.connected.size(), 2u);
  const net::PeerId attacker_id = server_log_.connected.back();
  RawEnetPeer& attacker = *attackers[0];

  // Messages of three fragments, each started with its last one and never finished: small, so
  // that max_waiting_data does not stop ENet first and the limit on their number is what acts.
  const std::uint32_t payload = attacker.fragment_payload();
  const std::uint32_t total = 2 * payload + 100;
  const std::size_t limit = net::EnetCommonConfig{}.max_incomplete_messages_per_peer;
  const std::uint32_t budget = net::EnetCommonConfig{}.max_malformed_per_peer;
  for (std::size_t i = 0; i < limit + budget + 1; ++i) {
    const auto start = static_cast<std::uint16_t>(1 + 3 * i);
    attacker.forge(
        DatagramBuilder(attacker.header_peer()).fragment_of(1, start, total, 2, payload).bytes());
    if (i % 16 == 0) {
      ASSERT_TRUE(honest_player_gets_a_message());
    }
  }
  // The attacker's ENet answers the server's disconnect, so it ends without a timeout.
  ASSERT_TRUE(pump_until(
      endpoints(),
      [&] {
        attackers[0]->service();
        return !server_log_.disconnected.empty();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].first, attacker_id);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::protocol_error);
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_reassembly_limit, budget + 1u);
  EXPECT_EQ(counters.dropped_malformed, 0u);
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 1u);
  EXPECT_TRUE(server_log_.messages.empty()) << "no unfinished message was delivered";
  ASSERT_TRUE(honest_player_gets_a_message());
  EXPECT_TRUE(honest_log_.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), 1u);
}

}  // namespace
}  // namespace tickwire::test
