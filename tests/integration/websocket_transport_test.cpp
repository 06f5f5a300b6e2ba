// What only the WebSocket transport does, over real sockets on loopback: raw framing, one order
// across channels, close codes, the limits a server enforces (per-address caps, Origin, upgrade
// timeouts, a peer that never reads), ping timeouts, and IPv6. The lifecycle, delivery, sizes,
// queues and stats every transport shares are transport_contract_test's.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/pump.hpp"
#include "../support/raw_tcp_client.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::ClientState;
using net::Delivery;
using net::DisconnectReason;
using net::SendResult;

// A valid upgrade request, as a browser or any WebSocket library would send it.
std::string upgrade_request(std::string_view extra_headers = {}) {
  return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         std::string(extra_headers) + "\r\n";
}

class WebSocketTest : public ::testing::Test {
 protected:
  // Short timeouts so that tests about timeouts, and teardown with stalled peers, end quickly.
  static net::WebSocketCommonConfig fast_common() {
    net::WebSocketCommonConfig common;
    common.handshake_timeout_ms = 1000;
    common.idle_timeout_ms = 2000;
    common.ping_interval_ms = 100;
    common.shutdown_timeout_ms = 500;
    return common;
  }
  // The plain transport: gameplay sessions (tickets, sealing) are websocket_session_test's.
  static net::WebSocketServerConfig server_config() {
    net::WebSocketServerConfig config;
    config.security = net::SessionSecurity::plaintext_for_development;
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.common = fast_common();
    return config;
  }
  static net::WebSocketClientConfig client_config() {
    net::WebSocketClientConfig config;
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.common = fast_common();
    return config;
  }

  void start_server(net::WebSocketServerConfig config = server_config()) {
    config.port = 0;
    auto made = net::make_websocket_server(config);
    ASSERT_TRUE(made.ok()) << made.error();
    server_ = std::move(made.value());
  }

  std::unique_ptr<net::ClientTransport> make_client(
      net::WebSocketClientConfig config = client_config()) {
    config.server_port = server_->port();
    auto made = net::make_websocket_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  // Connects a client and waits until both sides report it.
  std::unique_ptr<net::ClientTransport> connect_client(
      EventLog& client_log, net::WebSocketClientConfig config = client_config()) {
    auto client = make_client(std::move(config));
    const std::size_t before = server_log_.connected.size();
    EXPECT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
      return !client_log.connected.empty() && server_log_.connected.size() > before;
    }));
    return client;
  }

  // Sends `size`-byte messages to `peer` until send() keeps returning queue_full even after the io
  // thread had time to write: then the peer really is not taking anything. Returns the number of
  // messages queued, or -1 if the queue never stayed full.
  int fill_until_stalled(net::PeerId peer, std::size_t size) {
    int sent = 0;
    int full_in_a_row = 0;
    const auto deadline = std::chrono::steady_clock::now() + 4s;
    while (full_in_a_row < 3 && std::chrono::steady_clock::now() < deadline) {
      const SendResult result = server_->send(peer, 0, Delivery::reliable_ordered,
                                              pattern(static_cast<std::uint32_t>(sent), size));
      if (result == SendResult::ok) {
        ++sent;
        full_in_a_row = 0;
        continue;
      }
      EXPECT_EQ(result, SendResult::queue_full);
      ++full_in_a_row;
      std::this_thread::sleep_for(50ms);
    }
    return full_in_a_row == 3 ? sent : -1;
  }

  std::unique_ptr<net::ServerTransport> server_;
  EventLog server_log_;
};

TEST_F(WebSocketTest, raw_framing_sends_channel_0_as_binary_and_channel_1_as_text_frames) {
  auto config = server_config();
  config.common.framing = net::WebSocketFraming::raw;
  start_server(config);
  auto client_cfg = client_config();
  client_cfg.common.framing = net::WebSocketFraming::raw;
  EventLog client_log;
  auto client = connect_client(client_log, client_cfg);
  const net::PeerId peer = server_log_.connected[0];
  ASSERT_EQ(client->send(0, Delivery::reliable_ordered, pattern(1, 300)), SendResult::ok);
  ASSERT_EQ(client->send(1, Delivery::reliable_ordered, bytes_of("{\"hello\": 1}")),
            SendResult::ok);
  ASSERT_EQ(server_->send(peer, 1, Delivery::reliable_ordered, bytes_of("text down")),
            SendResult::ok);
  ASSERT_EQ(server_->send(peer, 0, Delivery::reliable_ordered, pattern(2, 20)), SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
    return server_log_.messages.size() == 2 && client_log.messages.size() == 2;
  }));
  // No channel byte: the payload is the whole frame.
  EXPECT_EQ(server_log_.messages[0].channel, 0);
  EXPECT_EQ(server_log_.messages[0].bytes, pattern(1, 300));
  EXPECT_EQ(server_log_.messages[1].channel, 1);
  EXPECT_EQ(server_log_.messages[1].bytes, bytes_of("{\"hello\": 1}"));
  EXPECT_EQ(client_log.messages[0].channel, 1);
  EXPECT_EQ(client_log.messages[0].bytes, bytes_of("text down"));
  EXPECT_EQ(client_log.messages[1].channel, 0);
  EXPECT_EQ(client_log.messages[1].bytes, pattern(2, 20));
}

TEST_F(WebSocketTest, raw_framing_frames_are_plain_websocket_on_the_wire) {
  auto config = server_config();
  config.common.framing = net::WebSocketFraming::raw;
  start_server(config);
  RawTcpClient raw(server_->port());
  ASSERT_TRUE(raw.send_bytes(upgrade_request()));
  ASSERT_EQ(raw.take_until("\r\n\r\n", 2s).rfind("HTTP/1.1 101", 0), 0u);
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}}, [&] { return !server_log_.connected.empty(); }));
  // A masked text frame "hi" (zero mask key), as a browser's socket.send("hi") would be.
  ASSERT_TRUE(raw.send_bytes(std::string("\x81\x82\0\0\0\0hi", 8)));
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}}, [&] { return !server_log_.messages.empty(); }));
  EXPECT_EQ(server_log_.messages[0].channel, 1);
  EXPECT_EQ(server_log_.messages[0].bytes, bytes_of("hi"));
  ASSERT_EQ(server_->send(server_log_.connected[0], 1, Delivery::reliable_ordered, bytes_of("ok")),
            SendResult::ok);
  // The server's text frame: FIN + opcode 1, length 2, unmasked, "ok".
  EXPECT_EQ(raw.take_until("ok", 2s), std::string("\x81\x02ok", 4));
}

TEST(WebSocketConfig, raw_framing_needs_exactly_two_channels) {
  net::WebSocketCommonConfig common;
  common.framing = net::WebSocketFraming::raw;
  EXPECT_TRUE(common.validate().ok());
  common.channel_count = 3;
  EXPECT_NE(common.validate().message().find("channel_count"), std::string::npos);
}

TEST_F(WebSocketTest, two_hundred_messages_arrive_in_send_order_whatever_their_delivery) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  const net::PeerId peer = server_log_.connected[0];
  constexpr Delivery kKinds[] = {Delivery::reliable_ordered, Delivery::unreliable_sequenced,
                                 Delivery::unreliable};
  for (std::uint32_t i = 0; i < 200; ++i) {
    const auto message = pattern(i, 1 + (i * 37) % 3000);
    const auto channel = static_cast<net::Channel>(i % 2);
    ASSERT_EQ(client->send(channel, kKinds[i % 3], message), SendResult::ok);
    ASSERT_EQ(server_->send(peer, channel, kKinds[i % 3], message), SendResult::ok);
  }
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
    return server_log_.messages.size() == 200 && client_log.messages.size() == 200;
  }));
  for (std::uint32_t i = 0; i < 200; ++i) {
    EXPECT_EQ(server_log_.messages[i].bytes, pattern(i, 1 + (i * 37) % 3000)) << "message " << i;
    EXPECT_EQ(client_log.messages[i].bytes, pattern(i, 1 + (i * 37) % 3000)) << "message " << i;
  }
}

TEST_F(WebSocketTest, received_payload_outlives_its_transport) {
  start_server();
  EventLog client_log;
  auto client = connect_client(client_log);
  ASSERT_EQ(
      server_->send(server_log_.connected[0], 0, Delivery::reliable_ordered, bytes_of("kept")),
      SendResult::ok);
  net::Event kept;
  ASSERT_TRUE(
      pump_until({}, [&] { return client->poll(kept) && kept.type == net::EventType::message; }));
  client.reset();
  server_.reset();
  EXPECT_EQ(std::vector<std::byte>(kept.payload.bytes().begin(), kept.payload.bytes().end()),
            bytes_of("kept"));
}

TEST_F(WebSocketTest, connections_per_address_are_capped) {
  auto config = server_config();
  config.max_connections_per_address = 1;
  start_server(config);
  EventLog a_log, b_log;
  auto a = connect_client(a_log);
  auto b = make_client();
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {a.get(), &a_log}, {b.get(), &b_log}},
                         [&] { return !b_log.disconnected.empty(); }));
  EXPECT_EQ(b_log.disconnected[0].second, DisconnectReason::server_full);
  EXPECT_EQ(server_->connected_peers(), 1u);
}

TEST_F(WebSocketTest, browser_origin_not_on_the_allow_list_is_refused_with_403_and_counted) {
  auto config = server_config();
  config.allowed_origins = {"https://game.example"};
  start_server(config);
  auto evil = client_config();
  evil.origin = "https://evil.example";
  EventLog evil_log;
  auto refused = make_client(evil);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {refused.get(), &evil_log}},
                         [&] { return !evil_log.disconnected.empty(); }));
  EXPECT_EQ(evil_log.disconnected[0].second, DisconnectReason::refused);
  EXPECT_TRUE(evil_log.connected.empty());

  RawTcpClient raw(server_->port());
  ASSERT_TRUE(raw.send_bytes(upgrade_request("Origin: https://evil.example\r\n")));
  EXPECT_EQ(raw.take_until("\r\n", 2s).rfind("HTTP/1.1 403", 0), 0u);
  EXPECT_EQ(server_->counters().refused_connections, 2u);

  auto good = client_config();
  good.origin = "https://game.example";
  EventLog good_log, native_log;
  auto allowed = connect_client(good_log, good);
  auto native = connect_client(native_log);  // no Origin: not a browser
  EXPECT_EQ(server_->connected_peers(), 2u);
  EXPECT_TRUE(server_log_.disconnected.empty());
}

TEST_F(WebSocketTest, oversize_message_closes_its_sender_with_1009_and_others_carry_on) {
  auto config = server_config();
  config.common.max_message_size = 1024;
  start_server(config);
  auto big_sender = client_config();
  big_sender.common.max_message_size = 64 * 1024;
  EventLog a_log, b_log;
  auto a = connect_client(a_log, big_sender);
  auto b = connect_client(b_log);
  const net::PeerId a_peer = server_log_.connected[0];
  const net::PeerId b_peer = server_log_.connected[1];

  ASSERT_EQ(a->send(0, Delivery::reliable_ordered, pattern(1, 2048)), SendResult::ok);
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}, {a.get(), &a_log}, {b.get(), &b_log}},
                 [&] { return !a_log.disconnected.empty() && !server_log_.disconnected.empty(); }));
  // The client can only have learnt message_too_large from the close code, 1009: Beast sends no
  // reason text with it.
  EXPECT_EQ(a_log.disconnected[0].second, DisconnectReason::message_too_large);
  EXPECT_EQ(server_log_.disconnected[0],
            std::make_pair(a_peer, DisconnectReason::message_too_large));
  EXPECT_TRUE(server_log_.messages.empty());
  EXPECT_EQ(server_->counters().dropped_oversize, 1u);
  EXPECT_EQ(server_->counters().peers_disconnected_for_abuse, 1u);

  ASSERT_EQ(b->send(0, Delivery::reliable_ordered, pattern(2, 1024)), SendResult::ok);
  ASSERT_EQ(server_->send(b_peer, 0, Delivery::reliable_ordered, bytes_of("still here")),
            SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {b.get(), &b_log}},
                         [&] { return !server_log_.messages.empty() && !b_log.messages.empty(); }));
  EXPECT_EQ(server_log_.messages[0].peer, b_peer);
  EXPECT_TRUE(b_log.disconnected.empty());
}

TEST_F(WebSocketTest, message_on_a_channel_the_server_lacks_is_a_protocol_error) {
  start_server();  // two channels
  auto more_channels = client_config();
  more_channels.common.channel_count = 4;
  EventLog client_log;
  auto client = connect_client(client_log, more_channels);
  ASSERT_EQ(client->send(3, Delivery::reliable_ordered, bytes_of("where to?")), SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}}, [&] {
    return !client_log.disconnected.empty() && !server_log_.disconnected.empty();
  }));
  EXPECT_EQ(client_log.disconnected[0].second, DisconnectReason::protocol_error);
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::protocol_error);
  EXPECT_TRUE(server_log_.messages.empty());
  EXPECT_EQ(server_->counters().dropped_malformed, 1u);
}

TEST_F(WebSocketTest, tcp_client_that_never_finishes_the_upgrade_is_closed_after_the_timeout) {
  auto config = server_config();
  config.common.handshake_timeout_ms = 300;
  start_server(config);
  RawTcpClient silent(server_->port());
  RawTcpClient half(server_->port());
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(half.send_bytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"));
  EXPECT_TRUE(silent.closed_by_server_within(3s));
  EXPECT_TRUE(half.closed_by_server_within(3s));
  EXPECT_TRUE(server_log_.connected.empty());
}

TEST_F(WebSocketTest, plain_http_request_is_answered_404) {
  start_server();
  RawTcpClient raw(server_->port());
  ASSERT_TRUE(
      raw.send_bytes("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(raw.take_until("\r\n", 2s).rfind("HTTP/1.1 404", 0), 0u);
}

TEST_F(WebSocketTest, works_over_ipv6_loopback) {
  auto config = server_config();
  config.bind_address = "::1";
  config.port = 0;
  auto made = net::make_websocket_server(config);
  if (!made.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << made.error();
  server_ = std::move(made.value());
  auto v6 = client_config();
  v6.server_host = "::1";
  EventLog client_log;
  auto client = connect_client(client_log, v6);
  ASSERT_EQ(client->state(), ClientState::connected);
  ASSERT_EQ(client->send(1, Delivery::reliable_ordered, bytes_of("over v6")), SendResult::ok);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}, {client.get(), &client_log}},
                         [&] { return !server_log_.messages.empty(); }));
  EXPECT_EQ(server_log_.messages[0].bytes, bytes_of("over v6"));
}

TEST_F(WebSocketTest, peer_that_never_reads_gets_queue_full_and_costs_bounded_memory) {
  auto config = server_config();
  config.common.max_message_size = 64 * 1024;
  config.common.max_queued_bytes_per_peer = 256 * 1024;
  start_server(config);
  RawTcpClient stalled(server_->port(), /*receive_buffer=*/4096);
  ASSERT_TRUE(stalled.send_bytes(upgrade_request()));
  ASSERT_EQ(stalled.take_until("\r\n\r\n", 2s).rfind("HTTP/1.1 101", 0), 0u);
  ASSERT_TRUE(
      pump_until({{server_.get(), &server_log_}}, [&] { return !server_log_.connected.empty(); }));
  const net::PeerId peer = server_log_.connected[0];

  ASSERT_GT(fill_until_stalled(peer, 64 * 1024), 0);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(server_->send(peer, 0, Delivery::reliable_ordered, pattern(0, 64 * 1024)),
              SendResult::queue_full);
  }
  const auto stats = server_->stats(peer);
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->messages_queued, 0u);
  EXPECT_LE(stats->bytes_queued, config.common.max_queued_bytes_per_peer);
}

TEST_F(WebSocketTest, peer_that_answers_no_ping_times_out) {
  auto config = server_config();
  config.common.idle_timeout_ms = 400;
  start_server(config);
  RawTcpClient mute(server_->port());
  ASSERT_TRUE(mute.send_bytes(upgrade_request()));
  ASSERT_EQ(mute.take_until("\r\n\r\n", 2s).rfind("HTTP/1.1 101", 0), 0u);
  ASSERT_TRUE(pump_until({{server_.get(), &server_log_}},
                         [&] { return !server_log_.disconnected.empty(); }));
  EXPECT_EQ(server_log_.disconnected[0].second, DisconnectReason::timeout);
}

bool mentions(const net::Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

// A server config valid apart from what a test changes: plain, without gameplay sessions.
net::WebSocketServerConfig plain_server() {
  net::WebSocketServerConfig config;
  config.security = net::SessionSecurity::plaintext_for_development;
  config.transport_security = net::WebSocketSecurity::insecure_plaintext;
  return config;
}

TEST(WebSocketConfig, defaults_are_valid_and_validate_names_the_bad_field) {
  // Secure by default twice over: a server must say which tickets it admits (or opt out of
  // gameplay sessions by name), and needs its certificate (or plaintext asked for by name).
  EXPECT_TRUE(mentions(net::WebSocketServerConfig{}.validate(), "require_ticket"));
  net::WebSocketServerConfig no_sessions;
  no_sessions.security = net::SessionSecurity::plaintext_for_development;
  EXPECT_TRUE(mentions(no_sessions.validate(), "tls.certificate_chain_file"));
  EXPECT_TRUE(plain_server().validate().ok());
  EXPECT_TRUE(net::WebSocketClientConfig{}.validate().ok());
  net::WebSocketServerConfig server = plain_server();
  server.max_connections = 0;
  EXPECT_TRUE(mentions(server.validate(), "max_connections = 0"));
  server = plain_server();
  server.common.channel_count = 256;
  EXPECT_TRUE(mentions(server.validate(), "channel_count = 256"));
  server = plain_server();
  server.common.max_queued_bytes_per_peer = 10;
  EXPECT_TRUE(mentions(server.validate(), "max_queued_bytes_per_peer = 10"));
  server = plain_server();
  server.allowed_origins = {""};
  EXPECT_TRUE(mentions(server.validate(), "allowed_origins"));
  net::WebSocketClientConfig client;
  client.path = "no-slash";
  EXPECT_TRUE(mentions(client.validate(), "path = 'no-slash'"));
  client = {};
  client.origin = "https://a\r\nX-Injected: 1";
  EXPECT_TRUE(mentions(client.validate(), "origin"));
  client = {};
  client.common.idle_timeout_ms = 0;
  EXPECT_TRUE(mentions(client.validate(), "idle_timeout_ms = 0"));
}

TEST(WebSocketConfig, invalid_config_or_address_makes_no_transport_and_says_why) {
  net::WebSocketServerConfig server = plain_server();
  server.port = 0;
  server.common.max_message_size = 0;
  auto made = net::make_websocket_server(server);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("max_message_size"), std::string::npos) << made.error();
  server = plain_server();
  server.port = 0;
  server.bind_address = "not-an-address";
  made = net::make_websocket_server(server);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("not-an-address"), std::string::npos) << made.error();
  net::WebSocketClientConfig client;
  client.server_port = 0;
  auto client_made = net::make_websocket_client(client);
  ASSERT_FALSE(client_made.ok());
  EXPECT_NE(client_made.error().find("server_port"), std::string::npos) << client_made.error();
}

}  // namespace
}  // namespace tickwire::test
