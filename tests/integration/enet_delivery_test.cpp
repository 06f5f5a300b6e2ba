// What ENet's delivery adds to the transport contract (transport_contract_test), over real sockets
// with and without a simulated bad network beneath ENet: sequencing under reordering, fragments
// and the MTU, RTT and loss, wire bytes per connection, the exact send-queue accounting, and
// channel counts that disagree.

#include <cstring>

#include "enet_fixture.hpp"
#include "session/session_crypto.hpp"

namespace tickwire::test {
namespace {

using net::Delivery;
using net::DisconnectReason;
using net::SendResult;

TEST_F(EnetTest, unreliable_sequenced_never_goes_backwards_under_reordering) {
  start_server();
  simulate(net::NetworkConditions::symmetric(
      {.latency_ms = 20, .jitter_ms = 15, .loss = 0.05, .duplicate = 0.1, .reorder = 0.3},
      test_seed(21)));
  EventLog client_log;
  auto client = connect_client(client_log);
  constexpr std::uint32_t kMessages = 2000;
  for (std::uint32_t i = 1; i <= kMessages; ++i) {
    ASSERT_EQ(client->send(1, Delivery::unreliable_sequenced, numbered(i, 32)), SendResult::ok);
    if (i % 20 == 0)
      pump_for({{server_.get(), &server_log_}, {client.get(), &client_log}},
               std::chrono::milliseconds(2));
  }
  pump_for({{server_.get(), &server_log_}, {client.get(), &client_log}},
           std::chrono::milliseconds(300));

  // Under this much reordering many messages arrive after a newer one and are dropped as stale.
  ASSERT_GT(server_log_.messages.size(), kMessages / 10);
  const auto counters = link_->counters();
  EXPECT_GT(counters.reordered, 0u) << "the link must really have reordered datagrams";
  std::uint32_t last = 0;
  for (const auto& message : server_log_.messages) {
    const std::uint32_t number = number_of(message.bytes);
    EXPECT_GT(number, last) << "message " << number << " delivered after " << last;
    last = number;
  }
}

TEST_F(EnetTest, reliable_stream_at_a_game_rate_arrives_once_in_order_through_20_percent_loss) {
  // The default config: resends one RTO apart (resends_without_backoff 4), which must not
  // cost a message, deliver one twice or out of order, even with duplicates on the link.
  start_server();
  const std::uint64_t seed = test_seed(27);
  simulate(net::NetworkConditions::symmetric(
      {.latency_ms = 25, .jitter_ms = 5, .loss = 0.2, .duplicate = 0.05}, seed));
  EventLog client_log;
  auto client = connect_client(client_log);
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->state(), net::ClientState::connected);
  const std::vector endpoints = {Endpoint{server_.get(), &server_log_},
                                 Endpoint{client.get(), &client_log}};

  // A few messages per frame of about 16 ms, as a game sends events.
  constexpr std::uint32_t kMessages = 300;
  std::vector<std::vector<std::byte>> sent;
  for (std::uint32_t i = 0; i < kMessages; ++i) {
    sent.push_back(pattern(static_cast<std::uint32_t>(seed) + i, 1 + (i * 37u) % 64));
    ASSERT_EQ(client->send(0, Delivery::reliable_ordered, sent.back()), SendResult::ok);
    if (i % 3 == 2) pump_for(endpoints, std::chrono::milliseconds(16));
  }
  const bool all_arrived = pump_until(
      endpoints, [&] { return server_log_.messages.size() >= kMessages; },
      std::chrono::seconds(30));
  // Duplicates and late resends still in flight must not be delivered again.
  pump_for(endpoints, std::chrono::milliseconds(300));

  EXPECT_TRUE(all_arrived) << server_log_.messages.size() << " of " << kMessages << " arrived";
  ASSERT_LE(server_log_.messages.size(), sent.size()) << "a message was delivered twice";
  for (std::size_t i = 0; i < server_log_.messages.size(); ++i) {
    ASSERT_EQ(server_log_.messages[i].bytes, sent[i])
        << "message " << i << " wrong or out of order";
  }
  EXPECT_TRUE(client_log.disconnected.empty());
  EXPECT_TRUE(server_log_.disconnected.empty());
  // The link really lost datagrams, so reliable ones were really resent.
  const auto counters = link_->counters();
  EXPECT_GT(counters.dropped, (counters.forwarded_to_server + counters.forwarded_to_clients) / 10)
      << "seed " << seed;
}

TEST_F(EnetTest, fragments_cut_for_the_mtu_both_ends_settled_on_pass_the_inspector_both_ways) {
  // The inspector demands fragments cut exactly for the MTU a peer settled on; ends configured
  // with different MTUs settle on one in the handshake, and every message still arrives intact.
  const std::uint32_t pairs[][2] = {{576, 1400}, {4096, 576}, {4096, 4096}, {1400, 1401}};
  const Delivery kinds[] = {Delivery::reliable_ordered, Delivery::unreliable_sequenced,
                            Delivery::unreliable};
  for (const auto& [server_mtu, client_mtu] : pairs) {
    net::EnetServerConfig server_config;
    server_config.common.mtu = server_mtu;
    start_server(server_config);
    server_log_ = {};
    EventLog client_log;
    net::EnetClientConfig client_config;
    client_config.common.mtu = client_mtu;
    auto client = connect_client(client_log, client_config);
    ASSERT_EQ(client->state(), net::ClientState::connected);
    const net::PeerId peer = server_log_.connected.back();
    for (std::uint32_t i = 0; i < 3; ++i) {
      const auto message = pattern(server_mtu + i, 20'000 + i * 999);
      ASSERT_EQ(client->send(0, kinds[i], message), SendResult::ok);
      ASSERT_EQ(server_->send(peer, 0, kinds[i], message), SendResult::ok);
      ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                             [&] {
                               return server_log_.messages.size() == i + 1 &&
                                      client_log.messages.size() == i + 1;
                             }))
          << "mtus " << server_mtu << "/" << client_mtu << ", " << net::to_string(kinds[i]);
      EXPECT_EQ(server_log_.messages[i].bytes, message);
      EXPECT_EQ(client_log.messages[i].bytes, message);
    }
    EXPECT_EQ(server_->counters().dropped_malformed, 0u);
    EXPECT_EQ(client->counters().dropped_malformed, 0u);
    // What the inspector relies on: both ends cut with the same MTU.
    EXPECT_EQ(server_->stats(peer)->mtu, client->stats(client->server())->mtu);
  }
}

// The reported RTT holds the 100 ms the link adds. A loaded machine can only add to it (late
// polls delay acknowledgements), so the bound above is loose: it tells a learnt RTT from ENet's
// starting guess (500 ms) and from garbage, not how fast this machine is.
TEST_F(EnetTest, reported_rtt_includes_the_100_ms_added_latency) {
  start_server();
  simulate(net::NetworkConditions::symmetric({.latency_ms = 50}));
  EventLog client_log;
  auto client = connect_client(client_log);
  // RTT is learnt from acknowledgements, so keep some reliable traffic flowing.
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(
        client->send(0, Delivery::reliable_ordered, numbered(static_cast<std::uint32_t>(i), 16)),
        SendResult::ok);
    pump_for({{server_.get(), &server_log_}, {client.get(), &client_log}},
             std::chrono::milliseconds(20));
  }
  const auto stats = client->stats(client->server());
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->rtt_ms, 80.0);
  EXPECT_LE(stats->rtt_ms, 300.0);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return server_log_.messages.size() == 150; }));
  EXPECT_EQ(stats->messages_sent, 150u);
  EXPECT_GT(stats->datagrams_received, 0u);
  const auto server_side = server_->stats(server_log_.connected[0]);
  ASSERT_TRUE(server_side);
  EXPECT_EQ(server_side->messages_received, 150u);
  EXPECT_EQ(server_side->bytes_received, 150u * 16);
}

// ConnectionStats counts what each connection costs on the wire, both ways: more than its payload
// (headers, seals, acknowledgements), and only its own datagrams, not the whole transport's.
TEST_F(EnetTest, stats_count_wire_bytes_sent_per_connection) {
  start_server();
  EventLog busy_log;
  EventLog idle_log;
  auto busy = connect_client(busy_log);
  auto idle = connect_client(idle_log);
  const net::PeerId busy_peer = server_log_.connected[0];
  const net::PeerId idle_peer = server_log_.connected[1];
  constexpr std::uint32_t kMessages = 100;
  constexpr std::size_t kSize = 200;
  for (std::uint32_t i = 0; i < kMessages; ++i) {
    ASSERT_EQ(busy->send(0, Delivery::reliable_ordered, numbered(i, kSize)), SendResult::ok);
    ASSERT_EQ(server_->send(busy_peer, 0, Delivery::reliable_ordered, numbered(i, kSize)),
              SendResult::ok);
  }
  const std::vector<Endpoint> all = {
      {server_.get(), &server_log_}, {busy.get(), &busy_log}, {idle.get(), &idle_log}};
  ASSERT_TRUE(pump_until(all, [&] {
    return server_log_.messages.size() == kMessages && busy_log.messages.size() == kMessages;
  }));
  const auto busy_client = busy->stats(busy->server());
  const auto busy_server = server_->stats(busy_peer);
  const auto idle_server = server_->stats(idle_peer);
  ASSERT_TRUE(busy_client && busy_server && idle_server);
  EXPECT_GT(busy_client->wire_bytes_sent, kMessages * kSize);
  EXPECT_GT(busy_server->wire_bytes_sent, kMessages * kSize);
  EXPECT_GT(busy_client->datagrams_sent, 0u);
  // The idle client got nothing but the welcome and acknowledgements.
  EXPECT_GT(idle_server->datagrams_sent, 0u);
  EXPECT_LT(idle_server->wire_bytes_sent, kMessages * kSize / 4);
  // What the server received from the busy client, the client sent (nothing is lost on 127.0.0.1).
  EXPECT_GE(busy_client->wire_bytes_sent, busy_server->wire_bytes_received);
  // Each connection's share is within the transport's total (which adds the handshakes).
  EXPECT_LE(busy_server->wire_bytes_sent + idle_server->wire_bytes_sent,
            server_->counters().wire_bytes_sent);
}

// ConnectionStats::packet_loss is round-trip loss: a reliable datagram counts as lost when it or
// its acknowledgement is. 5 % each way must read 1 - 0.95^2 = 9.75 %, within 1.5 points.
TEST_F(EnetTest, stats_report_round_trip_loss_on_a_lossy_link) {
  start_server();
  simulate(net::NetworkConditions::symmetric({.latency_ms = 10, .loss = 0.05}, test_seed(23)));
  EventLog client_log;
  auto client = connect_client(client_log);
  // Thousands of reliable datagrams, one batch per round, for a figure within a fraction of a
  // point of the truth (the meter fades over 5 s, so it keeps several thousand of them).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  std::uint32_t sent = 0;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(client->send(0, Delivery::reliable_ordered, numbered(sent++, 16)), SendResult::ok);
    pump_for({{server_.get(), &server_log_}, {client.get(), &client_log}},
             std::chrono::milliseconds(1));
  }
  const auto stats = client->stats(client->server());
  ASSERT_TRUE(stats);
  EXPECT_NEAR(stats->packet_loss, 1 - 0.95 * 0.95, 0.015) << "after " << sent << " messages";
  EXPECT_TRUE(client_log.disconnected.empty());
}

// A client that stops polling for a while (a long frame, a descheduled thread) finds the server's
// acknowledgements waiting in its socket once it polls again. Its resend timers ran out meanwhile,
// yet what was acknowledged is neither counted lost nor sent again.
TEST_F(EnetTest, a_pause_in_polling_is_not_taken_for_loss) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  const std::vector endpoints = {Endpoint{server_.get(), &server_log_},
                                 Endpoint{client.get(), &client_log}};
  // Round trips enough for ENet's RTT estimate to come down from its initial 500 ms.
  constexpr std::uint32_t kWarmUp = 200;
  for (std::uint32_t i = 0; i < kWarmUp; ++i) {
    ASSERT_EQ(client->send(0, Delivery::reliable_ordered, numbered(i, 16)), SendResult::ok);
    pump_for(endpoints, std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(pump_until(endpoints, [&] { return server_log_.messages.size() == kWarmUp; }));
  const auto before = client->stats(client->server());
  ASSERT_TRUE(before);
  const auto resend_timeout = before->rtt_ms + 4 * before->rtt_variance_ms;

  // Each message in a datagram of its own; then the client pauses, well past its resend timeout,
  // while the server reads them and acknowledges.
  constexpr std::uint32_t kInFlight = 20;
  for (std::uint32_t i = kWarmUp; i < kWarmUp + kInFlight; ++i) {
    ASSERT_EQ(client->send(0, Delivery::reliable_ordered, numbered(i, 16)), SendResult::ok);
    client->flush();
  }
  const auto sent_before_pause = client->stats(client->server())->wire_bytes_sent;
  pump_for({{server_.get(), &server_log_}},
           std::chrono::milliseconds(200 + static_cast<int>(3 * resend_timeout)));
  ASSERT_EQ(server_log_.messages.size(), kWarmUp + kInFlight);
  pump_for(endpoints, std::chrono::milliseconds(20));

  const auto after = client->stats(client->server());
  ASSERT_TRUE(after);
  EXPECT_LE(after->packet_loss, before->packet_loss)
      << "acknowledged datagrams counted lost after a pause of "
      << 200 + static_cast<int>(3 * resend_timeout) << " ms";
  // Nothing sent again (ENet would pack the resends into a datagram or two): fewer bytes went out
  // since than the messages alone would take.
  EXPECT_LT(after->wire_bytes_sent - sent_before_pause, kInFlight * 16u);
  EXPECT_EQ(server_log_.messages.size(), kWarmUp + kInFlight);
}

}  // namespace
}  // namespace tickwire::test

namespace tickwire::test {
namespace {

TEST_F(EnetTest, send_queue_to_a_peer_that_cannot_keep_up_is_capped) {
  net::EnetServerConfig config;
  config.common.max_message_size = 16 * 1024;
  config.common.max_queued_bytes_per_peer = 64 * 1024;
  start_server(config);
  simulate({});
  EventLog client_log;
  net::EnetClientConfig client_config;
  client_config.common.max_message_size = 16 * 1024;
  auto client = connect_client(client_log, client_config);
  // Nothing reaches the client any more, so nothing the server sends is acknowledged.
  link_->set_conditions(net::NetworkConditions::symmetric({.loss = 1.0}));
  const net::PeerId peer = server_log_.connected[0];
  int accepted = 0;
  net::SendResult result = net::SendResult::ok;
  while (accepted < 100 && (result = server_->send(peer, 0, Delivery::reliable_ordered,
                                                   pattern(1, 10000))) == SendResult::ok) {
    ++accepted;
    pump_for({{server_.get(), &server_log_}}, std::chrono::milliseconds(1));
  }
  EXPECT_EQ(result, SendResult::queue_full);
  EXPECT_EQ(accepted, 6);  // 6 × 10,000 bytes fit in 64 KiB, a seventh does not
  const auto stats = server_->stats(peer);
  ASSERT_TRUE(stats);
  // Each message is too large to share a batch, so each goes alone with its seal.
  EXPECT_EQ(stats->bytes_queued, 6u * (10000u + net::session::kSealOverhead));
  EXPECT_EQ(stats->messages_queued, 6u);
}

TEST_F(EnetTest, client_with_more_channels_than_the_server_is_refused) {
  start_server();  // 2 channels
  net::EnetClientConfig config;
  config.common.channel_count = 4;
  EventLog client_log;
  auto client = make_client(config);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::refused);
  EXPECT_TRUE(client_log.connected.empty());
  EXPECT_EQ(client->state(), net::ClientState::disconnected);
}

TEST_F(EnetTest, client_with_fewer_channels_than_the_server_is_refused) {
  net::EnetServerConfig server_config;
  server_config.common.channel_count = 4;
  start_server(server_config);
  net::EnetClientConfig config;
  config.common.channel_count = 2;
  EventLog client_log;
  auto client = make_client(config);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return !client_log.disconnected.empty(); }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::refused);
  EXPECT_TRUE(client_log.connected.empty());
  EXPECT_TRUE(server_log_.connected.empty());
  EXPECT_EQ(server_->counters().refused_connections, 1u);
}

}  // namespace
}  // namespace tickwire::test
