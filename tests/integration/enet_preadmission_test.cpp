// What peers can make an encrypted server hold before it admits them, and fragment attacks from
// admitted players, while an honest player connected at the same time plays on.
//
// Encrypted sessions throughout (the server's default): the attackers that hold a ticket are real
// ENet client hosts that ran Tickwire's handshake with their own keys, so their forged datagrams
// carry a valid tag under their own session and reach the checks behind the tag (the inspector,
// the pre-admission rule, the reassembly cap) instead of being dropped as forged. The attackers
// without a ticket have plain UDP sockets: all they can send is handshake datagrams, CONNECTs and
// ENet datagrams nobody can tag.

#include <enet/enet.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "../support/enet_datagrams.hpp"
#include "../support/udp_socket.hpp"
#include "enet/datagram_inspector.hpp"
#include "enet/tag_coverage.hpp"
#include "enet_fixture.hpp"
#include "session/handshake.hpp"
#include "session/session_crypto.hpp"

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
using Bytes = std::vector<std::uint8_t>;
namespace session = net::session;

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

// The header's sent-time flag, and where an ENet command's fields start (enet/protocol.h).
constexpr std::uint8_t kSentTimeFlag = 0x80;
constexpr std::uint8_t kVerifyConnect = 3;

// An ENet client host bound to `local_ip` that joins the server at `port` as a Tickwire client
// does: the handshake in raw datagrams on its socket (HELLO, CHALLENGE, RESPONSE with its ticket,
// ACCEPT), then ENet's CONNECT, every datagram tagged with its client-to-server key.
class RawEnetPeer {
 public:
  // `hold`: keep the connection short of admission. The VERIFY_CONNECT is read (for the slot and
  // session the server gave us) and hidden from our ENet, which therefore never acknowledges it:
  // the server's peer stays between CONNECT and its connect event.
  RawEnetPeer(const std::string& local_ip, std::uint16_t port, net::IssuedTicket ticket, bool hold)
      : ticket_(std::move(ticket.ticket)),
        send_tag_(session::DirectionKeys::derive(ticket.keys.client_to_server).tag),
        receive_tag_(session::DirectionKeys::derive(ticket.keys.server_to_client).tag),
        hold_(hold) {
    ENetAddress local{};
    enet_address_set_host_ip(&local, local_ip.c_str());
    host_ = enet_host_create(&local, 1, net::EnetCommonConfig{}.channel_count + 1, 0, 0);
    EXPECT_NE(host_, nullptr) << local_ip;
    if (host_ == nullptr) return;
    host_->checksum = &RawEnetPeer::checksum;
    host_->intercept = &RawEnetPeer::intercept;
    enet_address_set_host_ip(&server_, "127.0.0.1");
    server_.port = port;
  }
  ~RawEnetPeer() {
    if (host_ != nullptr) enet_host_destroy(host_);
  }
  RawEnetPeer(const RawEnetPeer&) = delete;
  RawEnetPeer& operator=(const RawEnetPeer&) = delete;

  // One step of joining, or ENet's side of the connection once it started: call until the server
  // connected it (held peers: until it gave us our slot).
  void service() {
    if (host_ == nullptr) return;
    if (peer_ == nullptr) return handshake_step();
    if (hold_ && slot_known_) return;  // not a datagram more from our own ENet
    const Servicing scope(this);
    ENetEvent event;
    while (enet_host_service(host_, &event, 0) > 0) {
      if (event.type == ENET_EVENT_TYPE_CONNECT) {
        connected_ = true;
      } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
        enet_packet_destroy(event.packet);
      } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
        disconnected_ = true;
        disconnect_reason_ = event.data;
      }
    }
  }
  bool accepted() const { return peer_ != nullptr; }
  bool held() const { return slot_known_; }
  bool connected() const { return connected_; }
  bool disconnected() const { return disconnected_; }
  std::uint32_t disconnect_reason() const { return disconnect_reason_; }

  // The header's peer field under which the server knows us: its slot for us and the session.
  std::uint16_t header_peer() const {
    if (slot_known_) return header_peer_;
    return static_cast<std::uint16_t>(
        peer_->outgoingPeerID | (peer_->outgoingSessionID << ENET_PROTOCOL_HEADER_SESSION_SHIFT));
  }
  // A builder for a datagram from us: its checksum field holds our seed, ENet's connectID.
  DatagramBuilder datagram() const { return DatagramBuilder(header_peer(), true, true, seed()); }
  // Message bytes per fragment for the MTU both ends settled on.
  std::uint32_t fragment_payload() const {
    return static_cast<std::uint32_t>(net::enet_detail::enet_fragment_payload(peer_->mtu, true));
  }
  // Sends `bytes` (built by datagram()) from this peer's socket with the tag our ENet would put
  // on it, so that the server takes it as ours. A fresh sent time each, or the server would drop
  // a repeat as a replay. Allocates nothing.
  void forge(Bytes bytes) {
    if (bytes.size() >= 4 && (bytes[0] & kSentTimeFlag) != 0) {
      ++sent_time_;
      bytes[2] = static_cast<std::uint8_t>(sent_time_ >> 8);
      bytes[3] = static_cast<std::uint8_t>(sent_time_);
    }
    const std::uint32_t tag = tag_over(send_tag_, bytes);
    std::memcpy(bytes.data() + tag_offset(bytes), &tag, sizeof tag);
    send(bytes);
  }

 private:
  // Tells ENet's callbacks, which get no user pointer, whose host is being serviced.
  class Servicing {
   public:
    explicit Servicing(RawEnetPeer* peer) : previous_(current_) { current_ = peer; }
    ~Servicing() { current_ = previous_; }
    Servicing(const Servicing&) = delete;
    Servicing& operator=(const Servicing&) = delete;

   private:
    RawEnetPeer* previous_;
  };

  static std::size_t tag_offset(std::span<const std::uint8_t> bytes) {
    return (bytes[0] & kSentTimeFlag) != 0 ? 4 : 2;
  }
  std::uint32_t seed() const { return peer_ != nullptr ? peer_->connectID : 0; }

  // ENet calls this with the checksum field holding its seed, both for what it sends and for what
  // it received; the tag is the session's keyed hash over exactly those bytes.
  static enet_uint32 checksum(const ENetBuffer* buffers, std::size_t count) {
    RawEnetPeer* self = current_;
    if (self == nullptr) return 0;
    Bytes whole;
    for (std::size_t i = 0; i < count; ++i) {
      const auto* data = static_cast<const std::uint8_t*>(buffers[i].data);
      whole.insert(whole.end(), data, data + buffers[i].dataLength);
    }
    const bool outgoing = buffers == self->host_->buffers;
    return tag_over(outgoing ? self->send_tag_ : self->receive_tag_, whole);
  }

  // The session's tag over what it covers of a whole datagram (enet/tag_coverage.hpp).
  static std::uint32_t tag_over(const std::array<std::uint8_t, 16>& key,
                                std::span<const std::uint8_t> whole) {
    std::array<std::uint8_t, 4096> buffer{};
    return session::datagram_tag(key, net::enet_detail::covered_by_tag(whole, buffer));
  }

  // For held peers: reads the server's VERIFY_CONNECT and hides it from our ENet.
  static int intercept(ENetHost* host, ENetEvent*) {
    RawEnetPeer* self = current_;
    if (self == nullptr || !self->hold_) return 0;
    const std::span<const std::uint8_t> bytes(host->receivedData, host->receivedDataLength);
    if (bytes.size() < 2) return 0;
    const std::size_t command = tag_offset(bytes) + 4;
    if (bytes.size() < command + 8 || (bytes[command] & 0x0F) != kVerifyConnect) return 0;
    // VERIFY_CONNECT: outgoingPeerID (16 bits), incomingSessionID, outgoingSessionID.
    const auto slot = static_cast<std::uint16_t>((bytes[command + 4] << 8) | bytes[command + 5]);
    const std::uint8_t session_id = bytes[command + 7];
    self->header_peer_ =
        static_cast<std::uint16_t>(slot | (session_id << ENET_PROTOCOL_HEADER_SESSION_SHIFT));
    self->slot_known_ = true;
    return 1;
  }

  void send(std::span<const std::uint8_t> bytes) const {
    ENetBuffer buffer;
    buffer.data = const_cast<std::uint8_t*>(bytes.data());
    buffer.dataLength = bytes.size();
    enet_socket_send(host_->socket, &server_, &buffer, 1);
  }

  // Before ENet has a peer the socket is ours: the handshake is read and written on it directly.
  void handshake_step() {
    const std::uint32_t protocol = net::EnetCommonConfig{}.protocol_id;
    std::array<std::uint8_t, 1500> received{};
    ENetBuffer buffer;
    buffer.data = received.data();
    buffer.dataLength = received.size();
    ENetAddress from{};
    int size = 0;
    while ((size = enet_socket_receive(host_->socket, &from, &buffer, 1)) > 0) {
      const auto packet =
          session::decode_handshake(std::span(received.data(), static_cast<std::size_t>(size)));
      if (!packet) continue;
      if (packet->type == session::HandshakeType::challenge) {
        cookie_ = packet->cookie;
        send(session::encode_response(protocol, *cookie_, false, ticket_));
      } else if (packet->type == session::HandshakeType::accept && cookie_) {
        const Servicing scope(this);
        peer_ =
            enet_host_connect(host_, &server_, net::EnetCommonConfig{}.channel_count + 1, protocol);
        return;
      } else if (packet->type == session::HandshakeType::deny) {
        ADD_FAILURE() << "the server denied a valid ticket: " << static_cast<int>(packet->deny);
      }
    }
    // Loopback loses nothing, but the server may be busy: ask again now and then.
    if (++idle_steps_ % 200 == 1) {
      if (cookie_) {
        send(session::encode_response(protocol, *cookie_, false, ticket_));
      } else {
        send(session::encode_hello(protocol));
      }
    }
  }

  static thread_local RawEnetPeer* current_;

  ENetHost* host_ = nullptr;
  ENetPeer* peer_ = nullptr;
  ENetAddress server_{};
  std::vector<std::byte> ticket_;
  std::array<std::uint8_t, 16> send_tag_;
  std::array<std::uint8_t, 16> receive_tag_;
  bool hold_;
  std::optional<session::Cookie> cookie_;
  std::uint64_t idle_steps_ = 0;
  bool slot_known_ = false;
  std::uint16_t header_peer_ = 0;
  std::uint16_t sent_time_ = 0;
  bool connected_ = false;
  bool disconnected_ = false;
  std::uint32_t disconnect_reason_ = 0;
};

thread_local RawEnetPeer* RawEnetPeer::current_ = nullptr;

// The worst a peer can do with fragments within max_message_size (256 KiB): the fragment bomb
// (as many fragments announced as bytes), and many messages of the largest size started at once,
// each with the few bytes of its last fragment, reliable and unreliable, on every channel.
struct Attack {
  std::vector<Bytes> bombs;   // malformed to the inspector
  std::vector<Bytes> starts;  // cut exactly as ENet's sender would
  std::vector<Bytes> others;  // messages before admission, alone or behind an acknowledgement
  Bytes pings;                // 32 pings: housekeeping, as much as one datagram may carry
};

Attack plan_attack(const RawEnetPeer& attacker) {
  const std::uint32_t payload = attacker.fragment_payload();
  // The largest message within 256 KiB whose last fragment is 64 bytes, so that ten such last
  // fragments fit one datagram ENet can receive (4096 bytes at most).
  constexpr std::uint32_t kLastBytes = 64;
  const std::uint32_t total = (256 * 1024 - kLastBytes) / payload * payload + kLastBytes;
  const std::uint32_t count = (total + payload - 1) / payload;
  const std::uint32_t last = count - 1;
  const std::uint32_t last_offset = last * payload;
  const auto last_length = static_cast<std::uint16_t>(total - last_offset);
  Attack attack;
  for (std::uint16_t i = 0; i < 4; ++i) {
    DatagramBuilder bomb = attacker.datagram();
    for (std::uint16_t j = 0; j < 8; ++j) {
      bomb.fragment(static_cast<std::uint8_t>(j % 3), total, 0, total, 0, 1,
                    static_cast<std::uint16_t>(1 + (i * 8 + j) * 100));
    }
    attack.bombs.push_back(bomb.bytes());
  }
  std::uint16_t next_start = 1;
  for (int i = 0; i < 12; ++i) {
    DatagramBuilder starts = attacker.datagram();
    for (std::uint16_t j = 0; j < 10; ++j) {
      const auto channel = static_cast<std::uint8_t>(j % 3);
      if (j % 2 == 0) {
        starts.fragment_of(channel, next_start, total, last, payload);
        next_start = static_cast<std::uint16_t>(next_start + count);
      } else {
        starts.unreliable_fragment(channel, 0, static_cast<std::uint16_t>(i * 10 + j + 1), count,
                                   last, total, last_offset, last_length);
      }
    }
    attack.starts.push_back(starts.bytes());
  }
  attack.others.push_back(attacker.datagram().reliable(0, 500, 500, 1).bytes());
  attack.others.push_back(attacker.datagram().reliable(1, 1200, 1200, 1).bytes());
  attack.others.push_back(attacker.datagram().unreliable(2, 0, 1, 1200).bytes());
  // The acknowledgement of the VERIFY_CONNECT connects the peer in ENet in the middle of the
  // datagram, before Tickwire admitted it: what follows it must not reach ENet either.
  attack.others.push_back(
      attacker.datagram().acknowledge(1, 0).fragment_of(1, 9000, total, last, payload).bytes());
  DatagramBuilder pings = attacker.datagram();
  for (std::uint16_t i = 0; i < 32; ++i)
    pings.ping(static_cast<std::uint16_t>(100 + i));
  attack.pings = pings.bytes();
  return attack;
}

class EnetPreadmissionTest : public EnetTest {
 protected:
  static constexpr std::size_t kAttackers = 64;

  // `deadline_ms`: how long a verified attempt may take to become a connection.
  void start_ticket_server(std::uint32_t deadline_ms = 2000) {
    net::EnetServerConfig config;
    config.max_peers = kAttackers + 8;
    config.max_pending_handshakes = kAttackers + 8;
    config.require_ticket =
        net::TicketRequirement{lobby_.public_key(), kServerName, deadline_ms, seal_};
    start_server(config);
  }

  // An honest player with a valid ticket, connected and admitted.
  void connect_honest_player() {
    net::EnetClientConfig config;
    add_ticket(config, 1);
    honest_ = connect_client(honest_log_, config);
    ASSERT_NE(honest_, nullptr);
    ASSERT_EQ(honest_->state(), net::ClientState::connected);
    honest_id_ = server_log_.connected.back();
  }

  // Ticketed raw peers from 127.0.2.x, 8 an address (the server's per-address limit), through the
  // handshake to the ENet connection: connected, or held short of admission.
  std::vector<std::unique_ptr<RawEnetPeer>> join_raw_peers(std::size_t count, bool hold) {
    std::vector<std::unique_ptr<RawEnetPeer>> peers;
    constexpr std::size_t kPerAddress = 8;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string ip = "127.0.2." + std::to_string(1 + i / kPerAddress);
      peers.push_back(std::make_unique<RawEnetPeer>(
          ip, server_->port(), lobby_.issue_with_keys(100 + i, 1, kServerName, seal_.public_key),
          hold));
    }
    EXPECT_TRUE(pump_until(
        endpoints(),
        [&] {
          for (auto& peer : peers)
            peer->service();
          return std::all_of(peers.begin(), peers.end(), [&](const auto& peer) {
            return hold ? peer->held() : peer->connected();
          });
        },
        std::chrono::seconds(20)))
        << "raw peers did not get their ENet connection";
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

  std::unique_ptr<net::ClientTransport> honest_;
  EventLog honest_log_;
  net::PeerId honest_id_ = net::kInvalidPeer;
};

// An ENet CONNECT as a Tickwire client sends it (tag field zero: nobody's key), never preceded by
// a handshake from its address.
Bytes connect_datagram() {
  return DatagramBuilder(net::enet_detail::kUnassignedPeerId)
      .connect(net::EnetCommonConfig{}.channel_count + 1, net::EnetCommonConfig{}.protocol_id)
      .bytes();
}

TEST_F(EnetPreadmissionTest, one_hundred_twenty_eight_attackers_before_admission_cost_under_8_mib) {
  // What peers not yet admitted can make the server hold, measured while they do their worst:
  // (a) 64 without a valid ticket, which can only send handshake datagrams, CONNECTs and ENet
  //     datagrams they cannot tag: all dropped before ENet allocates anything for them;
  // (b) 64 that hold a valid ticket, have an ENet peer on the server, and sit between their
  //     CONNECT and admission by never acknowledging the VERIFY_CONNECT: the server's ENet keeps
  //     their peer (resending VERIFY_CONNECT with a doubling timeout, about 30 s before it gives
  //     up) and the session lasts the ticket deadline, set to a minute here so that both outlast
  //     the attack. They send tagged datagrams: fragment bombs, fragment starts of 256 KiB
  //     messages, messages, and ping floods as large as allowed_before_admission lets through.
  //     ENet itself ignores messages and pings from a peer in that state; what the pre-admission
  //     rule stops is a datagram that acknowledges the VERIFY_CONNECT and carries more behind it
  //     (ENet connects the peer halfway through and would take the rest): each held peer sends
  //     one, with the start of a 256 KiB message.
  // (A ticket holder can also simply complete its connection: then it is an admitted player,
  // whose limits the tests below check.)
  start_ticket_server(60'000);
  connect_honest_player();
  auto held = join_raw_peers(kAttackers, true);
  ASSERT_EQ(held.size(), kAttackers);
  std::vector<Attack> attacks;
  for (const auto& attacker : held)
    attacks.push_back(plan_attack(*attacker));

  // (a): a plain socket each on 127.0.3.x, with a cookie fetched beforehand so that its
  // RESPONSEs reach the ticket check.
  std::vector<std::unique_ptr<UdpSocket>> strangers;
  std::vector<Bytes> bogus_responses;
  const UdpAddress server = loopback(server_->port());
  const std::uint32_t protocol = net::EnetCommonConfig{}.protocol_id;
  for (std::size_t i = 0; i < kAttackers; ++i) {
    const std::string ip = "127.0.3." + std::to_string(1 + i);
    strangers.push_back(std::make_unique<UdpSocket>(ip.c_str()));
    ASSERT_TRUE(strangers.back()->bound()) << ip;
    strangers.back()->send_to(server, session::encode_hello(protocol));
    std::optional<session::HandshakePacket> challenge;
    Bytes raw;
    ASSERT_TRUE(pump_until(endpoints(), [&] {
      UdpAddress from;
      if (auto got = strangers.back()->receive(from)) raw = std::move(*got);
      challenge = session::decode_handshake(raw);
      return challenge && challenge->type == session::HandshakeType::challenge;
    })) << ip;
    std::vector<std::byte> forged_ticket(300, std::byte{0x5A});
    forged_ticket[0] = static_cast<std::byte>(i);
    bogus_responses.push_back(
        session::encode_response(protocol, challenge->cookie, false, forged_ticket));
  }
  const Bytes hello = session::encode_hello(protocol);
  const Bytes connect = connect_datagram();
  ASSERT_TRUE(honest_player_gets_a_message());

  // Why this measures the server alone: from here on this thread runs only the server's poll,
  // the honest client's poll and sends of datagrams built above (forge() and send_to allocate
  // nothing; the attackers' ENet hosts are not serviced and nothing is read from their sockets).
  // The honest client's allocations are a few small messages, so they can only make the figure
  // larger than the server's own.
  const auto start_counters = server_->counters();
  const std::size_t before = allocated_bytes();
  std::size_t peak = before;
  std::uint64_t expect_malformed = start_counters.dropped_malformed;
  std::uint64_t expect_before_admission = start_counters.dropped_before_admission;
  std::uint64_t expect_challenges = start_counters.challenges_sent;
  std::uint64_t expect_rejected = start_counters.rejected_tickets;
  std::uint64_t expect_unauthenticated = start_counters.dropped_unauthenticated;
  std::uint64_t expect_stale = start_counters.dropped_stale;
  // Eight attackers of each kind at a time, a few datagrams each, waiting until the server read
  // all of them: far below the socket's receive buffer, so none is lost on the loopback.
  const auto wait_until_read = [&] {
    return pump_until(endpoints(), [&] {
      peak = std::max(peak, allocated_bytes());
      const auto c = server_->counters();
      return c.dropped_malformed == expect_malformed &&
             c.dropped_before_admission == expect_before_admission &&
             c.challenges_sent == expect_challenges && c.rejected_tickets == expect_rejected &&
             c.dropped_unauthenticated == expect_unauthenticated && c.dropped_stale == expect_stale;
    });
  };
  constexpr std::size_t kAtOnce = 8;
  for (std::size_t round = 0; round < 12; ++round) {
    for (std::size_t i = 0; i < kAttackers; ++i) {
      const Attack& attack = attacks[i];
      // The pings first: ENet counts them nowhere, but the server reads a socket in order, so
      // once what follows is counted they were read too.
      held[i]->forge(attack.pings);
      held[i]->forge(attack.starts[round]);
      ++expect_before_admission;
      if (round < attack.bombs.size()) {
        held[i]->forge(attack.bombs[round]);
        ++expect_malformed;
      }
      if (round < attack.others.size()) {
        held[i]->forge(attack.others[round]);
        ++expect_before_admission;
      }
      // (a): a HELLO (answered by a challenge no larger), a RESPONSE with a forged ticket, a
      // CONNECT with no verified handshake, and a fragment bomb at a held peer's slot.
      UdpSocket& stranger = *strangers[i];
      stranger.send_to(server, hello);
      stranger.send_to(server, bogus_responses[i]);
      stranger.send_to(server, connect);
      stranger.send_to(server, attack.bombs[0]);
      ++expect_challenges;
      ++expect_rejected;
      ++expect_unauthenticated;
      ++expect_stale;
      if ((i + 1) % kAtOnce != 0) continue;
      const bool read = wait_until_read();
      const auto c = server_->counters();
      ASSERT_TRUE(read) << "round " << round << ", attacker " << i << ": malformed "
                        << c.dropped_malformed << "/" << expect_malformed << ", before admission "
                        << c.dropped_before_admission << "/" << expect_before_admission
                        << ", challenges " << c.challenges_sent << "/" << expect_challenges
                        << ", rejected tickets " << c.rejected_tickets << "/" << expect_rejected
                        << ", unauthenticated " << c.dropped_unauthenticated << "/"
                        << expect_unauthenticated << ", stale " << c.dropped_stale << "/"
                        << expect_stale << ", forged " << c.dropped_forged << ", replayed "
                        << c.dropped_replayed << ", rate limited " << c.dropped_rate_limited
                        << ", refused " << c.refused_connections;
    }
    ASSERT_TRUE(honest_player_gets_a_message()) << "round " << round;
  }
  pump_for(endpoints(), std::chrono::milliseconds(200));
  peak = std::max(peak, allocated_bytes());

  const std::size_t growth = peak > before ? peak - before : 0;
  EXPECT_LE(growth, 8u * 1024 * 1024) << "the server grew by " << growth << " bytes";
  std::printf("[          ] allocation growth under attack: %zu bytes\n", growth);
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_malformed - start_counters.dropped_malformed, 4 * kAttackers)
      << "the held peers' fragment bombs";
  EXPECT_EQ(counters.dropped_before_admission - start_counters.dropped_before_admission,
            (12 + 4) * kAttackers)
      << "the held peers' fragment starts and messages";
  EXPECT_EQ(counters.dropped_reassembly_limit, 0u) << "nothing reached ENet to reassemble";
  EXPECT_EQ(counters.rejected_tickets - start_counters.rejected_tickets, 12 * kAttackers)
      << "the strangers' forged tickets";
  EXPECT_EQ(counters.dropped_unauthenticated - start_counters.dropped_unauthenticated,
            12 * kAttackers)
      << "the strangers' CONNECTs";
  EXPECT_EQ(counters.dropped_stale - start_counters.dropped_stale, 12 * kAttackers)
      << "the strangers' datagrams for a slot not theirs";
  EXPECT_EQ(counters.dropped_forged, 0u) << "every held peer's datagram carried its own tag";
  EXPECT_EQ(counters.dropped_replayed, 0u);
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 0u);
  EXPECT_TRUE(honest_log_.disconnected.empty());
  EXPECT_EQ(server_log_.connected.size(), 1u) << "no attacker was admitted";
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(EnetPreadmissionTest, admitted_player_sending_fragment_bombs_is_disconnected) {
  start_ticket_server();
  connect_honest_player();
  auto attackers = join_raw_peers(1, false);
  ASSERT_TRUE(pump_until(endpoints(), [&] { return server_log_.connected.size() == 2; }));
  const net::PeerId attacker_id = server_log_.connected.back();
  RawEnetPeer& attacker = *attackers[0];
  const Attack attack = plan_attack(attacker);

  const std::uint32_t budget = net::EnetCommonConfig{}.max_malformed_per_peer;
  for (std::uint32_t i = 0; i <= budget; ++i) {
    attacker.forge(attack.bombs[i % attack.bombs.size()]);
    if (i % 8 == 0) {
      ASSERT_TRUE(honest_player_gets_a_message());
    }
  }
  // The attacker's ENet answers the server's disconnect, so it ends without a timeout.
  ASSERT_TRUE(pump_until(
      endpoints(),
      [&] {
        attacker.service();
        return !server_log_.disconnected.empty();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].first, attacker_id);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::protocol_error);
  const auto counters = server_->counters();
  EXPECT_GE(counters.dropped_malformed, budget + 1u);
  EXPECT_EQ(counters.dropped_forged, 0u) << "the bombs carried the attacker's own tag";
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
  auto attackers = join_raw_peers(1, false);
  ASSERT_TRUE(pump_until(endpoints(), [&] { return server_log_.connected.size() == 2; }));
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
    attacker.forge(attacker.datagram().fragment_of(1, start, total, 2, payload).bytes());
    if (i % 16 == 0) {
      ASSERT_TRUE(honest_player_gets_a_message());
    }
  }
  // The attacker's ENet answers the server's disconnect, so it ends without a timeout.
  ASSERT_TRUE(pump_until(
      endpoints(),
      [&] {
        attacker.service();
        return !server_log_.disconnected.empty();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(server_log_.disconnected[0].first, attacker_id);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::protocol_error);
  const auto counters = server_->counters();
  EXPECT_EQ(counters.dropped_reassembly_limit, budget + 1u);
  EXPECT_EQ(counters.dropped_malformed, 0u);
  EXPECT_EQ(counters.dropped_forged, 0u) << "the fragments carried the attacker's own tag";
  EXPECT_EQ(counters.peers_disconnected_for_abuse, 1u);
  EXPECT_TRUE(server_log_.messages.empty()) << "no unfinished message was delivered";
  ASSERT_TRUE(honest_player_gets_a_message());
  EXPECT_TRUE(honest_log_.disconnected.empty());
  EXPECT_EQ(server_->connected_peers(), 1u);
}

}  // namespace
}  // namespace tickwire::test
