// The contract every transport keeps, whichever one a game gets: loopback, ENet, WebSocket (plain
// and TLS), a combined ENet + WebSocket server, and gameplay clients over ENet or falling back to
// WebSocket. One typed suite, one harness per transport (transport_harness.hpp); where a transport
// legitimately differs its harness says so with a flag and the test skips with the reason.
// Transport-specific behaviour (ENet's handshake attacks, WebSocket close codes, TLS, network
// simulation) stays in the transport's own tests.

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <initializer_list>
#include <optional>
#include <thread>
#include <tuple>

#include "../support/pump.hpp"
#include "transport_harness.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::Delivery;
using net::DisconnectReason;
using net::SendResult;

// Generous: tests run two at a time under sanitizers on a loaded 2-core machine.
constexpr auto kPatience = 20s;

template <typename Harness>
class TransportContract : public ::testing::Test {
 protected:
  struct Player {
    std::unique_ptr<net::ClientTransport> client;
    EventLog log;
    net::PeerId peer = net::kInvalidPeer;  // on the server, once connected
  };

  void start(ServerLimits limits = {}) {
    limits_ = limits;
    harness_.start_server(limits);
  }
  net::ServerTransport& server() { return harness_.server(); }

  std::vector<Endpoint> endpoints(std::initializer_list<Player*> players, bool with_server = true) {
    std::vector<Endpoint> out;
    if (with_server) out.push_back({&server(), &server_log_});
    for (Player* player : players)
      out.push_back({player->client.get(), &player->log});
    return out;
  }
  bool pump(std::initializer_list<Player*> players, const std::function<bool()>& done) {
    return pump_until(endpoints(players), done, kPatience);
  }

  // A client that has not connected yet.
  std::unique_ptr<Player> attempt(const ClientOptions& options = {}) {
    auto player = std::make_unique<Player>();
    player->client = harness_.make_client(options);
    return player;
  }
  // A client connected on both sides.
  std::unique_ptr<Player> join(const ClientOptions& options = {}) {
    auto player = attempt(options);
    const std::size_t before = server_log_.connected.size();
    EXPECT_TRUE(pump({player.get()}, [&] {
      return !player->log.connected.empty() && server_log_.connected.size() > before;
    })) << "the client did not get in";
    if (server_log_.connected.size() > before) player->peer = server_log_.connected.back();
    return player;
  }
  // One message each way; both must arrive.
  void exchange(Player& player, std::string_view up, std::string_view down) {
    const std::size_t server_before = server_log_.messages.size();
    const std::size_t client_before = player.log.messages.size();
    ASSERT_EQ(player.client->send(0, Delivery::reliable_ordered, bytes_of(up)), SendResult::ok);
    ASSERT_EQ(server().send(player.peer, 1, Delivery::reliable_ordered, bytes_of(down)),
              SendResult::ok);
    ASSERT_TRUE(pump({&player}, [&] {
      return server_log_.messages.size() > server_before &&
             player.log.messages.size() > client_before;
    }));
    EXPECT_EQ(server_log_.messages.back().bytes, bytes_of(up));
    EXPECT_EQ(server_log_.messages.back().peer, player.peer);
    EXPECT_EQ(player.log.messages.back().bytes, bytes_of(down));
    EXPECT_EQ(player.log.messages.back().channel, 1);
  }

  Harness harness_;
  ServerLimits limits_;
  EventLog server_log_;
};

TYPED_TEST_SUITE(TransportContract, EveryTransport, HarnessName);

TYPED_TEST(TransportContract, messages_flow_both_ways_on_every_channel) {
  this->start();
  auto player = this->join();
  ASSERT_NE(player->peer, net::kInvalidPeer);
  EXPECT_EQ(player->client->state(), net::ClientState::connected);
  EXPECT_EQ(this->server().connected_peers(), 1u);
  this->exchange(*player, "input", "snapshot");
  ASSERT_EQ(player->client->send(1, Delivery::unreliable, bytes_of("up on 1")), SendResult::ok);
  ASSERT_TRUE(this->pump({player.get()}, [&] { return this->server_log_.messages.size() == 2; }));
  EXPECT_EQ(this->server_log_.messages[1].channel, 1);
  EXPECT_EQ(this->server_log_.messages[1].bytes, bytes_of("up on 1"));
  EXPECT_EQ(player->client->send(2, Delivery::reliable_ordered, bytes_of("x")),
            SendResult::invalid_channel);
  EXPECT_EQ(this->server().send(player->peer + 12345, 0, Delivery::reliable_ordered, bytes_of("x")),
            SendResult::unknown_peer);
}

TYPED_TEST(TransportContract, a_client_that_closes_or_goes_away_is_reported_closed) {
  this->start();
  auto closing = this->join();
  auto vanishing = this->join();
  closing->client->disconnect(closing->client->server(), DisconnectReason::closed);
  vanishing->client.reset();
  ASSERT_TRUE(this->pump({closing.get()}, [&] {
    return this->server_log_.disconnected.size() == 2 && !closing->log.disconnected.empty();
  }));
  EXPECT_EQ(closing->log.disconnected[0].second, DisconnectReason::closed);
  EXPECT_EQ(closing->client->state(), net::ClientState::disconnected);
  for (const auto& [peer, reason] : this->server_log_.disconnected) {
    EXPECT_EQ(reason, DisconnectReason::closed) << "peer " << peer;
  }
  EXPECT_EQ(this->server().connected_peers(), 0u);
}

TYPED_TEST(TransportContract, a_kicked_client_learns_the_reason_after_the_messages_before_it) {
  this->start();
  auto player = this->join();
  ASSERT_EQ(this->server().send(player->peer, 0, Delivery::reliable_ordered, bytes_of("goodbye")),
            SendResult::ok);
  this->server().disconnect(player->peer, DisconnectReason::kicked);
  EXPECT_EQ(this->server().send(player->peer, 0, Delivery::reliable_ordered, bytes_of("x")),
            SendResult::unknown_peer);
  ASSERT_TRUE(this->pump({player.get()}, [&] {
    return !player->log.disconnected.empty() && !this->server_log_.disconnected.empty();
  }));
  ASSERT_EQ(player->log.messages.size(), 1u);
  EXPECT_EQ(player->log.messages[0].bytes, bytes_of("goodbye"));
  EXPECT_EQ(player->log.disconnected[0].second, DisconnectReason::kicked);
  EXPECT_EQ(this->server_log_.disconnected[0],
            std::make_pair(player->peer, DisconnectReason::kicked));
}

TYPED_TEST(TransportContract, destroying_the_server_tells_clients_it_shut_down) {
  this->start();
  auto player = this->join();
  this->harness_.stop_server();
  ASSERT_TRUE(pump_until(
      this->endpoints({player.get()}, false), [&] { return !player->log.disconnected.empty(); },
      kPatience));
  EXPECT_EQ(player->log.disconnected[0].second, DisconnectReason::shutdown);
}

TYPED_TEST(TransportContract, connecting_to_nothing_fails_with_connect_failed) {
  this->start();
  this->harness_.stop_server();
  auto player = this->attempt();
  ASSERT_TRUE(pump_until(
      this->endpoints({player.get()}, false), [&] { return !player->log.disconnected.empty(); },
      kPatience));
  EXPECT_EQ(player->log.disconnected[0].second, DisconnectReason::connect_failed);
  EXPECT_TRUE(player->log.connected.empty());
  EXPECT_EQ(player->client->state(), net::ClientState::disconnected);
}

TYPED_TEST(TransportContract, a_full_server_refuses_with_server_full_and_keeps_its_players) {
  this->start({.max_peers = 2});
  auto a = this->join();
  auto b = this->join();
  auto c = this->attempt();
  ASSERT_TRUE(
      this->pump({a.get(), b.get(), c.get()}, [&] { return !c->log.disconnected.empty(); }));
  EXPECT_TRUE(c->log.connected.empty()) << "a refused client must not see a brief connection";
  EXPECT_EQ(c->log.disconnected[0].second, DisconnectReason::server_full);
  EXPECT_EQ(this->server().connected_peers(), 2u);
  EXPECT_EQ(this->server().counters().refused_connections, 1u);
  EXPECT_TRUE(a->log.disconnected.empty());
  EXPECT_TRUE(b->log.disconnected.empty());
}

TYPED_TEST(TransportContract, reliable_messages_arrive_once_in_order_on_each_channel) {
  this->start();
  auto player = this->join();
  constexpr std::uint32_t kCount = 200;
  const auto size_of = [](std::uint32_t i) { return 4 + (i * 37) % 1500; };
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto channel = static_cast<net::Channel>(i % 2);
    ASSERT_EQ(player->client->send(channel, Delivery::reliable_ordered, numbered(i, size_of(i))),
              SendResult::ok);
    ASSERT_EQ(this->server().send(player->peer, channel, Delivery::reliable_ordered,
                                  numbered(i, size_of(i))),
              SendResult::ok);
  }
  ASSERT_TRUE(this->pump({player.get()}, [&] {
    return this->server_log_.messages.size() == kCount && player->log.messages.size() == kCount;
  }));
  for (const EventLog* log : {&this->server_log_, &player->log}) {
    std::uint32_t next[2] = {0, 1};  // channel c carries the numbers ≡ c (mod 2)
    for (const auto& message : log->messages) {
      ASSERT_LT(message.channel, 2);
      const std::uint32_t number = number_of(message.bytes);
      ASSERT_EQ(number, next[message.channel]) << "out of order on channel " << +message.channel;
      EXPECT_EQ(message.bytes, numbered(number, size_of(number)));
      next[message.channel] += 2;
    }
  }
  pump_for(this->endpoints({player.get()}), 200ms);  // nothing more arrives
  EXPECT_EQ(this->server_log_.messages.size(), kCount) << "a message arrived twice";
}

TYPED_TEST(TransportContract, unreliable_sequenced_messages_never_go_backwards) {
  this->start();
  auto player = this->join();
  constexpr std::uint32_t kCount = 300;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(player->client->send(1, Delivery::unreliable_sequenced, numbered(i, 64)),
              SendResult::ok);
    ASSERT_EQ(this->server().send(player->peer, 1, Delivery::unreliable_sequenced, numbered(i, 64)),
              SendResult::ok);
    if (i % 10 == 0) pump_for(this->endpoints({player.get()}), 1ms);
  }
  // Unreliable: the last one may be lost, so wait for it without requiring it.
  const auto got_last = [&](const EventLog& log) {
    return !log.messages.empty() && number_of(log.messages.back().bytes) == kCount - 1;
  };
  pump_until(
      this->endpoints({player.get()}),
      [&] { return got_last(this->server_log_) && got_last(player->log); }, 5s);
  for (const EventLog* log : {&this->server_log_, &player->log}) {
    ASSERT_FALSE(log->messages.empty());
    for (std::size_t i = 1; i < log->messages.size(); ++i) {
      EXPECT_LT(number_of(log->messages[i - 1].bytes), number_of(log->messages[i].bytes))
          << "sequenced delivery went backwards at message " << i;
    }
  }
}

TYPED_TEST(TransportContract, a_message_at_the_limit_arrives_in_every_delivery_kind) {
  this->start();
  auto player = this->join();
  const std::size_t limit = this->limits_.max_message_size;
  const Delivery kinds[] = {Delivery::reliable_ordered, Delivery::unreliable_sequenced,
                            Delivery::unreliable};
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_EQ(player->client->send(0, kinds[i], pattern(i, limit)), SendResult::ok);
    ASSERT_TRUE(this->pump({player.get()}, [&] { return this->server_log_.messages.size() > i; }))
        << "no " << net::to_string(kinds[i]) << " message at the limit arrived";
    EXPECT_EQ(this->server_log_.messages[i].bytes, pattern(i, limit));
  }
  EXPECT_EQ(player->client->send(0, Delivery::reliable_ordered, pattern(9, limit + 1)),
            SendResult::too_large);
  EXPECT_EQ(this->server().send(player->peer, 0, Delivery::unreliable, pattern(9, limit + 1)),
            SendResult::too_large);
}

TYPED_TEST(TransportContract, a_peer_sending_over_the_limit_is_disconnected_and_others_play_on) {
  if (!TypeParam::kChecksReceivedSize) {
    GTEST_SKIP() << "one size limit for the whole in-memory network: nothing oversize is sent";
  }
  this->start();
  auto honest = this->join();
  auto abuser = this->join({.max_message_size = 2 * this->limits_.max_message_size});
  const net::PeerId abuser_peer = abuser->peer;
  ASSERT_EQ(abuser->client->send(0, Delivery::reliable_ordered,
                                 pattern(1, this->limits_.max_message_size + 1)),
            SendResult::ok);
  ASSERT_TRUE(this->pump({honest.get(), abuser.get()}, [&] {
    return !abuser->log.disconnected.empty() && !this->server_log_.disconnected.empty();
  }));
  EXPECT_EQ(abuser->log.disconnected[0].second, DisconnectReason::message_too_large);
  EXPECT_EQ(this->server_log_.disconnected[0],
            std::make_pair(abuser_peer, DisconnectReason::message_too_large));
  EXPECT_TRUE(this->server_log_.messages.empty()) << "no part of it reached the game";
  EXPECT_GE(this->server().counters().dropped_oversize, 1u);
  EXPECT_EQ(this->server().counters().peers_disconnected_for_abuse, 1u);
  this->exchange(*honest, "still here", "still playing");
  EXPECT_TRUE(honest->log.disconnected.empty());
}

TYPED_TEST(TransportContract, sends_to_a_peer_that_cannot_keep_up_stop_at_queue_full_then_drain) {
  if (!TypeParam::kCapsSendQueue) {
    GTEST_SKIP() << "loopback hands messages over in memory: there is no send queue to cap";
  }
  this->start();
  auto player = this->join({.max_unpolled_bytes = 64 * 1024});
  // The client is not polled now: the server's queue to it must fill up and stay full.
  constexpr std::size_t kSize = 16 * 1024;
  std::uint32_t sent = 0;
  int full_in_a_row = 0;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (full_in_a_row < 3 && std::chrono::steady_clock::now() < deadline) {
    const SendResult result =
        this->server().send(player->peer, 0, Delivery::reliable_ordered, numbered(sent, kSize));
    if (result == SendResult::ok) {
      ++sent;
      full_in_a_row = 0;
      continue;
    }
    ASSERT_EQ(result, SendResult::queue_full);
    ++full_in_a_row;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(full_in_a_row, 3) << "the queue never stayed full";
  const auto stats = this->server().stats(player->peer);
  ASSERT_TRUE(stats);
  EXPECT_GT(stats->messages_queued, 0u);
  EXPECT_LE(stats->bytes_queued, this->limits_.max_queued_bytes_per_peer);

  ASSERT_TRUE(this->pump({player.get()}, [&] { return player->log.messages.size() == sent; }));
  for (std::uint32_t i = 0; i < sent; ++i) {
    ASSERT_EQ(player->log.messages[i].bytes, numbered(i, kSize)) << "message " << i;
  }
  ASSERT_TRUE(this->pump({player.get()},
                         [&] { return this->server().stats(player->peer)->messages_queued == 0; }));
  EXPECT_EQ(this->server().stats(player->peer)->bytes_queued, 0u);
  EXPECT_EQ(this->server().send(player->peer, 0, Delivery::reliable_ordered, bytes_of("again")),
            SendResult::ok);
  EXPECT_TRUE(player->log.disconnected.empty());
}

TYPED_TEST(TransportContract, stats_count_messages_and_bytes_both_ways) {
  this->start();
  auto player = this->join();
  constexpr std::uint32_t kCount = 20;
  std::uint64_t payload = 0;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto message = numbered(i, 100 + 10 * i);
    payload += message.size();
    ASSERT_EQ(player->client->send(0, Delivery::reliable_ordered, message), SendResult::ok);
    ASSERT_EQ(this->server().send(player->peer, 1, Delivery::reliable_ordered, message),
              SendResult::ok);
  }
  ASSERT_TRUE(this->pump({player.get()}, [&] {
    return this->server_log_.messages.size() == kCount && player->log.messages.size() == kCount;
  }));
  const auto on_server = [&] { return *this->server().stats(player->peer); };
  const auto on_client = [&] { return *player->client->stats(player->client->server()); };
  for (const net::ConnectionStats& stats : {on_server(), on_client()}) {
    EXPECT_EQ(stats.messages_sent, kCount);
    EXPECT_EQ(stats.messages_received, kCount);
    EXPECT_EQ(stats.bytes_sent, payload);
    EXPECT_EQ(stats.bytes_received, payload);
  }
  if (TypeParam::kHasWire) {
    // What crossed the wire holds the payload and more (framing, headers, seals). The sender
    // counts a write once it completes, which may be just after the receiver has the message.
    const auto wire_holds_payload = [&](const net::ConnectionStats& stats) {
      return stats.wire_bytes_sent >= payload && stats.wire_bytes_received >= payload &&
             stats.datagrams_sent > 0 && stats.datagrams_received > 0;
    };
    EXPECT_TRUE(this->pump(
        {player.get()},
        [&] { return wire_holds_payload(on_server()) && wire_holds_payload(on_client()); }))
        << "server sent " << on_server().wire_bytes_sent << " received "
        << on_server().wire_bytes_received << ", client sent " << on_client().wire_bytes_sent
        << " received " << on_client().wire_bytes_received << " wire bytes for " << payload;
    // The transport's totals hold each connection's (read after it: both only grow).
    const net::ConnectionStats connection = on_server();
    const net::TransportCounters counters = this->server().counters();
    EXPECT_GE(counters.wire_bytes_sent, connection.wire_bytes_sent);
    EXPECT_GE(counters.wire_bytes_received, connection.wire_bytes_received);
    EXPECT_GE(counters.datagrams_sent, connection.datagrams_sent);
    EXPECT_GE(counters.datagrams_received, connection.datagrams_received);
  }
  if (TypeParam::kMeasuresRtt) {
    EXPECT_TRUE(this->pump({player.get()},
                           [&] { return on_server().rtt_ms > 0 && on_client().rtt_ms > 0; }));
  }
  player->client->disconnect(player->client->server(), DisconnectReason::closed);
  ASSERT_TRUE(this->pump({player.get()}, [&] { return !this->server_log_.disconnected.empty(); }));
  EXPECT_FALSE(this->server().stats(player->peer)) << "stats of a peer that is gone";
}

TYPED_TEST(TransportContract, only_a_valid_unused_ticket_gets_a_player_in) {
  if constexpr (!TypeParam::kAdmitsByTicket) {
    GTEST_SKIP() << "loopback admits every client: it has no tickets";
  } else {
    this->start();
    const net::IssuedTicket valid = this->harness_.issue(42);
    auto honest = this->join({.ticket = ClientOptions::Ticket::given, .given = valid});
    ASSERT_NE(honest->peer, net::kInvalidPeer);
    const auto admitted = this->server().ticket_of(honest->peer);
    ASSERT_TRUE(admitted);
    EXPECT_EQ(admitted->player_id, 42u);

    net::IssuedTicket forged = this->harness_.issue(43);
    forged.ticket[forged.ticket.size() - 10] ^= std::byte{0x40};
    // With the reason the refused client is told (a client without a ticket is not checked:
    // over WebSocket it is a plain client, which hears only the close).
    const std::tuple<const char*, ClientOptions, std::optional<net::TicketRefusal>> refused[] = {
        {"missing", {.ticket = ClientOptions::Ticket::none}, std::nullopt},
        {"forged",
         {.ticket = ClientOptions::Ticket::given, .given = forged},
         net::TicketRefusal::bad_signature},
        {"used before",
         {.ticket = ClientOptions::Ticket::given, .given = valid},
         net::TicketRefusal::reused},
    };
    for (const auto& [name, options, told] : refused) {
      auto intruder = this->attempt(options);
      ASSERT_TRUE(this->pump({intruder.get()}, [&] { return !intruder->log.disconnected.empty(); }))
          << name;
      EXPECT_EQ(intruder->log.disconnected[0].second, DisconnectReason::ticket_rejected) << name;
      if (told) {
        ASSERT_EQ(intruder->log.ticket_refusals.size(), 1u) << name;
        EXPECT_EQ(intruder->log.ticket_refusals[0], *told) << name;
      }
      // A WebSocket client without a ticket is a plain one: it counts itself connected after the
      // upgrade, until the server closes it at the ticket deadline. One with a ticket knows better.
      if (options.ticket != ClientOptions::Ticket::none) {
        EXPECT_TRUE(intruder->log.connected.empty()) << name;
      }
    }
    EXPECT_EQ(this->server().counters().rejected_tickets, 3u);
    EXPECT_EQ(this->server_log_.connected.size(), 1u) << "only the valid ticket got in";
    EXPECT_TRUE(this->server_log_.disconnected.empty()) << "the game heard of an intruder";
    this->exchange(*honest, "input", "snapshot");
    EXPECT_TRUE(honest->log.disconnected.empty());
  }
}

// A game server on both transports keeps one memory of used tickets (combine_servers): a ticket
// that got a player in over one transport is refused on the other, while its player plays on.
TEST(CombinedServerTickets, a_ticket_used_on_one_transport_is_refused_on_the_other) {
  CombinedHarness</*kUdpBlocked=*/false> harness;
  harness.start_server({});
  EventLog server_log;
  struct Attempt {
    std::unique_ptr<net::GameplayClient> client;
    EventLog log;
  };
  std::vector<std::unique_ptr<Attempt>> players;
  const auto outcome = [&](Attempt& attempt) -> std::optional<DisconnectReason> {
    EXPECT_TRUE(pump_until(
        {{&harness.server(), &server_log}, {attempt.client.get(), &attempt.log}},
        [&] { return !attempt.log.connected.empty() || !attempt.log.disconnected.empty(); },
        kPatience));
    if (!attempt.log.disconnected.empty()) return attempt.log.disconnected.front().second;
    return std::nullopt;
  };
  using net::TransportKind;
  std::uint64_t player_id = 70;
  for (const auto& [used_on, replayed_on] :
       {std::pair{TransportKind::enet, TransportKind::websocket},
        std::pair{TransportKind::websocket, TransportKind::enet}}) {
    const ClientOptions ticket{.ticket = ClientOptions::Ticket::given,
                               .given = harness.issue(++player_id)};
    auto& honest = players.emplace_back(std::make_unique<Attempt>());
    honest->client = harness.make_gameplay_client(ticket, used_on);
    ASSERT_FALSE(outcome(*honest).has_value()) << "the ticket's owner did not get in";
    EXPECT_EQ(honest->client->kind(), used_on);
    Attempt replay;
    replay.client = harness.make_gameplay_client(ticket, replayed_on);
    EXPECT_EQ(outcome(replay), DisconnectReason::ticket_rejected);
    EXPECT_EQ(replay.client->kind(), replayed_on);
    ASSERT_EQ(replay.log.ticket_refusals.size(), 1u);
    EXPECT_EQ(replay.log.ticket_refusals[0], net::TicketRefusal::reused)
        << "the replayed client was not told why";
  }
  EXPECT_EQ(harness.server().counters().rejected_tickets, 2u);
  ASSERT_TRUE(pump_until({{&harness.server(), &server_log}},
                         [&] { return server_log.connected.size() == 2; }));
  EXPECT_EQ(harness.server().connected_peers(), 2u);
  for (const auto& player : players) {
    ASSERT_EQ(player->client->send(0, Delivery::reliable_ordered, bytes_of("still here")),
              SendResult::ok);
    EXPECT_TRUE(player->log.disconnected.empty());
  }
  ASSERT_TRUE(pump_until(
      {{&harness.server(), &server_log},
       {players[0]->client.get(), &players[0]->log},
       {players[1]->client.get(), &players[1]->log}},
      [&] { return server_log.messages.size() == 2; }, kPatience));
}

}  // namespace
}  // namespace tickwire::test
