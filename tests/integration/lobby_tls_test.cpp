// TLS on the lobby's port and on the WebSocket gameplay transport, with certificates the test
// makes: a client that trusts the CA chats; one that does not (no CA file, another CA, another
// host name) fails with tls_failed; a plaintext client on a TLS port is told in plain HTTP; and
// honest TLS clients keep chatting through all of it.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/honest_chatters.hpp"
#include "../support/pump.hpp"
#include "../support/raw_tcp_client.hpp"
#include "../support/test_certificates.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/lobby_client.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

// How a LobbyClient's connection ended, or nothing if it was still open after `timeout`.
std::optional<net::DisconnectReason> outcome(net::LobbyClient& client,
                                             std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  net::LobbyEvent event;
  while (std::chrono::steady_clock::now() < deadline) {
    while (client.poll(event, 5ms)) {
      if (event.type == net::LobbyEventType::disconnected) return event.reason;
      if (event.type == net::LobbyEventType::connected) return std::nullopt;
    }
  }
  return std::nullopt;
}

class LobbyTlsTest : public ::testing::Test {
 protected:
  void start(net::WebSocketSecurity security = net::WebSocketSecurity::tls) {
    net::LobbyConfig config;
    config.websocket.port = 0;
    config.websocket.transport_security = security;
    config.websocket.tls.certificate_chain_file = certificates_.chain_file();
    config.websocket.tls.private_key_file = certificates_.key_file();
    config.websocket.common.shutdown_timeout_ms = 300;
    lobby_ = std::make_unique<net::LobbyServer>(config, net::JoinTicketIssuer::generate());
    const net::Status started = lobby_->start();
    ASSERT_TRUE(started.ok()) << started.message();
  }

  // A client of the TLS lobby that trusts the test's CA.
  net::WebSocketClientConfig trusting() const {
    net::WebSocketClientConfig config = net::LobbyClientConfig::default_websocket();
    config.server_port = lobby_->port();
    config.tls.ca_file = certificates_.ca_file();
    config.common.shutdown_timeout_ms = 200;
    return config;
  }

  std::unique_ptr<net::LobbyClient> connect(const net::WebSocketClientConfig& websocket) {
    net::LobbyClientConfig config;
    config.websocket = websocket;
    auto made = net::LobbyClient::connect(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  // Keeps `honest` chatting for a few rounds, then checks that nothing they said was lost.
  static void expect_honest_chat(HonestChatters& honest) {
    for (int round = 0; round < 3; ++round) {
      const auto until = std::chrono::steady_clock::now() + 750ms;
      while (std::chrono::steady_clock::now() < until) {
        honest.poll();
        std::this_thread::sleep_for(2ms);
      }
    }
    EXPECT_EQ(honest.check_nothing_lost(), "");
  }

  TestCertificates certificates_;
  std::unique_ptr<net::LobbyServer> lobby_;
};

TEST_F(LobbyTlsTest, a_client_that_trusts_the_lobbys_ca_chats_over_tls) {
  start();
  HonestChatters honest(trusting(), "tls");
  ASSERT_TRUE(honest.ready());
  expect_honest_chat(honest);
  EXPECT_EQ(lobby_->counters().connections, 2u);
}

TEST_F(LobbyTlsTest, a_client_that_cannot_verify_the_certificate_fails_with_tls_failed) {
  start();
  HonestChatters honest(trusting(), "honest");
  ASSERT_TRUE(honest.ready());

  // The system's CA store does not know the test's CA.
  net::WebSocketClientConfig system_store = trusting();
  system_store.tls.ca_file.clear();
  // A CA file of another CA, with the same name even.
  TestCertificates other({"localhost"}, {"127.0.0.1"});
  net::WebSocketClientConfig other_ca = trusting();
  other_ca.tls.ca_file = other.ca_file();
  // The right CA, but the certificate does not name this host.
  net::WebSocketClientConfig wrong_name = trusting();
  wrong_name.tls.server_name = "lobby.example";

  for (const auto* config : {&system_store, &other_ca, &wrong_name}) {
    auto client = connect(*config);
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(outcome(*client), net::DisconnectReason::tls_failed)
        << "ca_file '" << config->tls.ca_file << "', server_name '" << config->tls.server_name
        << "', host " << config->server_host;
    honest.poll();
  }
  // The certificate names localhost too: a client that dials that name gets in.
  net::WebSocketClientConfig by_name = trusting();
  by_name.server_host = "localhost";
  auto named = connect(by_name);
  ASSERT_NE(named, nullptr);
  net::LobbyEvent event;
  bool connected = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!connected && std::chrono::steady_clock::now() < deadline) {
    while (named->poll(event, 5ms)) {
      connected = connected || event.type == net::LobbyEventType::connected;
      ASSERT_NE(event.type, net::LobbyEventType::disconnected) << to_string(event.reason);
    }
  }
  EXPECT_TRUE(connected);
  expect_honest_chat(honest);
}

TEST_F(LobbyTlsTest, a_plaintext_client_on_the_tls_port_is_refused_in_words_it_can_read) {
  start();
  HonestChatters honest(trusting(), "honest");
  ASSERT_TRUE(honest.ready());

  net::WebSocketClientConfig plaintext = trusting();
  plaintext.transport_security = net::WebSocketSecurity::insecure_plaintext;
  auto client = connect(plaintext);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(outcome(*client), net::DisconnectReason::refused);

  // What curl http:// or a browser would see: a 400 that says to use TLS.
  RawTcpClient http(lobby_->port());
  ASSERT_TRUE(http.connected());
  ASSERT_TRUE(http.send_bytes("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  http.read_until([](const std::string& got) { return got.find("TLS only") != std::string::npos; });
  EXPECT_EQ(http.received().rfind("HTTP/1.1 400", 0), 0u) << http.received();
  EXPECT_NE(http.received().find("https://"), std::string::npos) << http.received();
  expect_honest_chat(honest);
}

TEST_F(LobbyTlsTest, a_tls_client_on_a_plaintext_port_fails_with_tls_failed) {
  start(net::WebSocketSecurity::insecure_plaintext);
  HonestChatters honest(lobby_->port(), "plain");
  ASSERT_TRUE(honest.ready());
  auto client = connect(trusting());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(outcome(*client), net::DisconnectReason::tls_failed);
  expect_honest_chat(honest);
}

TEST(LobbyTlsConfig, unreadable_or_mismatched_files_make_no_server_and_say_which) {
  TestCertificates certificates;
  TestCertificates other;
  net::LobbyConfig config;
  config.websocket.port = 0;
  config.websocket.tls.certificate_chain_file = certificates.directory() + "/missing.pem";
  config.websocket.tls.private_key_file = certificates.key_file();
  net::LobbyServer missing(config, net::JoinTicketIssuer::generate());
  EXPECT_NE(missing.start().message().find("missing.pem"), std::string::npos);

  config.websocket.tls.certificate_chain_file = certificates.chain_file();
  config.websocket.tls.private_key_file = other.key_file();  // another certificate's key
  net::LobbyServer mismatched(config, net::JoinTicketIssuer::generate());
  const net::Status status = mismatched.start();
  EXPECT_NE(status.message().find("is not the key"), std::string::npos) << status.message();

  net::WebSocketClientConfig client;
  client.tls.ca_file = certificates.directory() + "/no-such-ca.pem";
  const auto made = net::make_websocket_client(client);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("no-such-ca.pem"), std::string::npos) << made.error();
}

TEST(WebSocketTls, the_gameplay_transport_delivers_messages_both_ways_over_tls) {
  TestCertificates certificates;
  net::WebSocketServerConfig server_config;
  server_config.port = 0;
  server_config.tls.certificate_chain_file = certificates.chain_file();
  server_config.tls.private_key_file = certificates.key_file();
  server_config.common.shutdown_timeout_ms = 300;
  // TLS alone here; gameplay sessions over it are websocket_session_test's.
  server_config.security = net::SessionSecurity::plaintext_for_development;
  auto server = net::make_websocket_server(server_config);
  ASSERT_TRUE(server.ok()) << server.error();

  net::WebSocketClientConfig client_config;
  client_config.server_port = server.value()->port();
  client_config.tls.ca_file = certificates.ca_file();
  client_config.common.shutdown_timeout_ms = 300;
  auto client = net::make_websocket_client(client_config);
  ASSERT_TRUE(client.ok()) << client.error();
  // A client that does not trust the CA, at the same time: it fails, the other goes on.
  net::WebSocketClientConfig untrusting = client_config;
  untrusting.tls.ca_file.clear();
  auto stranger = net::make_websocket_client(untrusting);
  ASSERT_TRUE(stranger.ok()) << stranger.error();

  EventLog server_log, client_log, stranger_log;
  std::vector<Endpoint> all{{server.value().get(), &server_log},
                            {client.value().get(), &client_log},
                            {stranger.value().get(), &stranger_log}};
  ASSERT_TRUE(pump_until(
      all,
      [&] {
        // The server counts the stranger's failed handshake as a refused connection.
        return !client_log.connected.empty() && !server_log.connected.empty() &&
               !stranger_log.disconnected.empty() &&
               server.value()->counters().refused_connections == 1;
      },
      10s));
  EXPECT_EQ(stranger_log.disconnected.front().second, net::DisconnectReason::tls_failed);
  ASSERT_EQ(server_log.connected.size(), 1u);

  // Small messages and one that spans many TLS records (16 KiB each), both ways.
  const std::vector<std::byte> small = bytes_of("input 1");
  const std::vector<std::byte> large = pattern(7, 200 * 1024);
  const net::PeerId peer = server_log.connected.front();
  ASSERT_EQ(client.value()->send(0, net::Delivery::reliable_ordered, small), net::SendResult::ok);
  ASSERT_EQ(client.value()->send(1, net::Delivery::reliable_ordered, large), net::SendResult::ok);
  ASSERT_EQ(server.value()->send(peer, 1, net::Delivery::reliable_ordered, large),
            net::SendResult::ok);
  ASSERT_EQ(server.value()->send(peer, 0, net::Delivery::unreliable, small), net::SendResult::ok);
  ASSERT_TRUE(pump_until(
      all, [&] { return server_log.messages.size() == 2 && client_log.messages.size() == 2; },
      10s));
  EXPECT_EQ(server_log.messages[0].bytes, small);
  EXPECT_EQ(server_log.messages[1].bytes, large);
  EXPECT_EQ(client_log.messages[0].bytes, large);
  EXPECT_EQ(client_log.messages[1].bytes, small);
}

}  // namespace
}  // namespace tickwire::test
