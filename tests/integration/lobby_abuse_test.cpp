// The lobby against clients that misbehave, over raw TCP sockets on loopback: garbage and
// truncated frames, invalid JSON, unknown message types, oversize frames and frames that claim a
// huge length, handshakes that never finish, clients that never read. Each gets its error or its
// close code; the well-behaved player next to them carries on. Also the HTTP routes on the port.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../support/pump.hpp"
#include "../support/raw_tcp_client.hpp"
#include "../support/raw_websocket.hpp"
#include "../support/temp_directory.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/websocket_transport.hpp"
#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
namespace wire = tickwire::schemas::lobby;

std::string hello_bytes(std::string_view nickname) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateHelloDirect(fbb, std::string(nickname).c_str());
  fbb.Finish(wire::CreateLobbyMessage(fbb, 1, 0, wire::LobbyBody::Hello, body.Union()));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

class LobbyAbuseTest : public ::testing::Test {
 protected:
  void SetUp() override { start(config()); }
  static net::LobbyConfig config() {
    net::LobbyConfig config;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.port = 0;
    config.websocket.common.handshake_timeout_ms = 500;
    config.websocket.common.shutdown_timeout_ms = 300;
    config.websocket.common.max_queued_bytes_per_peer = 64 * 1024;
    return config;
  }
  void start(const net::LobbyConfig& lobby_config) {
    lobby_.reset();
    lobby_ = std::make_unique<net::LobbyServer>(lobby_config, net::JoinTicketIssuer::generate());
    const net::Status status = lobby_->start();
    ASSERT_TRUE(status.ok()) << status.message();
    // A well-behaved player who must not notice any of the abuse.
    net::WebSocketClientConfig client;
    client.transport_security = net::WebSocketSecurity::insecure_plaintext;
    client.server_port = lobby_->port();
    client.common.framing = net::WebSocketFraming::raw;
    client.common.shutdown_timeout_ms = 200;
    auto made = net::make_websocket_client(client);
    ASSERT_TRUE(made.ok()) << made.error();
    good_ = std::move(made.value());
    ASSERT_TRUE(pump_until({{good_.get(), &good_log_}},
                           [&] { return good_->state() == net::ClientState::connected; }));
  }
  // The good player is still served: a Hello gets its reply.
  void expect_good_player_served(std::string_view nickname) {
    const std::size_t before = good_log_.messages.size();
    const std::string hello = hello_bytes(nickname);
    ASSERT_EQ(good_->send(0, net::Delivery::reliable_ordered, bytes_of(hello)),
              net::SendResult::ok);
    ASSERT_TRUE(pump_until({{good_.get(), &good_log_}},
                           [&] { return good_log_.messages.size() > before; }));
    EXPECT_TRUE(good_log_.disconnected.empty());
  }
  // Upgrades a raw client to WebSocket.
  std::unique_ptr<RawTcpClient> upgraded(int receive_buffer = 0) {
    auto raw = std::make_unique<RawTcpClient>(lobby_->port(), receive_buffer);
    EXPECT_TRUE(raw->connected());
    EXPECT_TRUE(raw->send_bytes(upgrade_request()));
    EXPECT_TRUE(raw->read_until(
        [](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; }));
    EXPECT_EQ(raw->received().rfind("HTTP/1.1 101", 0), 0u) << raw->received();
    raw->consume(raw->received().find("\r\n\r\n") + 4);
    return raw;
  }
  std::optional<std::uint16_t> close_code_after(RawTcpClient& raw, std::string_view bytes) {
    // The server may close before a large frame is all sent: the close frame is what counts.
    (void)raw.send_bytes(bytes);
    raw.read_until([](const std::string& r) { return close_code_in(r).has_value(); });
    return close_code_in(raw.received());
  }
  std::string http(std::string_view request) {
    RawTcpClient raw(lobby_->port());
    EXPECT_TRUE(raw.send_bytes(request));
    raw.read_until([](const std::string&) { return false; }, 1s);
    return raw.received();
  }

  std::unique_ptr<net::LobbyServer> lobby_;
  std::unique_ptr<net::ClientTransport> good_;
  EventLog good_log_;
};

TEST_F(LobbyAbuseTest, garbage_and_truncated_binary_frames_close_with_1007) {
  auto garbage = upgraded();
  EXPECT_EQ(
      close_code_after(*garbage, frame(kBinary, "\xff\xff\xff\x7f garbage, not a flatbuffer")),
      1007);
  auto truncated = upgraded();
  const std::string hello = hello_bytes("cut_short");
  EXPECT_EQ(close_code_after(*truncated, frame(kBinary, hello.substr(0, hello.size() / 2))), 1007);
  auto empty = upgraded();
  EXPECT_EQ(close_code_after(*empty, frame(kBinary, "")), 1007);
  EXPECT_EQ(lobby_->counters().dropped_malformed, 3u);
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, a_body_type_without_its_body_closes_with_1007) {
  // The verifier lets it through; every request handler would read the body through null.
  flatbuffers::FlatBufferBuilder fbb;
  wire::LobbyMessageBuilder message(fbb);
  message.add_request_id(1);
  message.add_body_type(wire::LobbyBody::Hello);
  fbb.Finish(message.Finish());
  auto binary = upgraded();
  EXPECT_EQ(close_code_after(*binary,
                             frame(kBinary, {reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                                             fbb.GetSize()})),
            1007);
  auto json = upgraded();
  EXPECT_EQ(close_code_after(*json, frame(kText, R"({"request_id": 1, "body_type": "JoinRoom"})")),
            1007);
  EXPECT_EQ(lobby_->counters().dropped_malformed, 2u);
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, invalid_json_and_schema_text_close_with_1007) {
  auto bad_json = upgraded();
  EXPECT_EQ(close_code_after(*bad_json, frame(kText, R"({"request_id": 1, "body_type": )")), 1007);
  // Before the close, the reply says what the parser found, for a person typing JSON by hand.
  EXPECT_NE(bad_json->received().find(R"("code": "malformed")"), std::string::npos)
      << bad_json->received();
  EXPECT_NE(bad_json->received().find("end of file"), std::string::npos) << bad_json->received();
  auto wrong_field = upgraded();
  EXPECT_EQ(close_code_after(*wrong_field, frame(kText, R"({"no_such_field": 1})")), 1007);
  // Schema text must never reach the parser as schema: it would let a client change it.
  auto schema = upgraded();
  EXPECT_EQ(close_code_after(*schema, frame(kText, "table Evil { x:int; }")), 1007);
  auto bad_utf8 = upgraded();
  EXPECT_EQ(close_code_after(*bad_utf8, frame(kText, "{\"x\": \"\xc3\x28\"}")), 1007);
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, unknown_message_types_close_with_1003) {
  // A well-formed message with a body only the lobby sends.
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateRoomList(fbb);
  fbb.Finish(wire::CreateLobbyMessage(fbb, 1, 0, wire::LobbyBody::RoomList, body.Union()));
  auto reply_body = upgraded();
  EXPECT_EQ(close_code_after(*reply_body,
                             frame(kBinary, {reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                                             fbb.GetSize()})),
            1003);
  // The same as JSON.
  auto reply_json = upgraded();
  EXPECT_EQ(
      close_code_after(*reply_json,
                       frame(kText, R"({"request_id": 1, "body_type": "RoomList", "body": {}})")),
      1003);
  // A body type from a newer schema than ours (the verifier lets unknown union types through).
  flatbuffers::FlatBufferBuilder future_fbb;
  const auto future_body = wire::CreateLeaveRoom(future_fbb);
  future_fbb.Finish(wire::CreateLobbyMessage(future_fbb, 1, 0, static_cast<wire::LobbyBody>(200),
                                             future_body.Union()));
  auto future = upgraded();
  EXPECT_EQ(
      close_code_after(*future,
                       frame(kBinary, {reinterpret_cast<const char*>(future_fbb.GetBufferPointer()),
                                       future_fbb.GetSize()})),
      1003);
  EXPECT_EQ(lobby_->counters().dropped_unsupported, 3u);
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, two_mebibyte_frame_and_huge_claimed_length_close_with_1009) {
  auto big = upgraded();
  EXPECT_EQ(close_code_after(*big, frame(kBinary, std::string(2 * 1024 * 1024, 'x'))), 1009);
  auto liar = upgraded();
  // Claims 2^62 bytes and sends none: refused from the header alone, nothing allocated for it.
  EXPECT_EQ(close_code_after(*liar, frame(kBinary, "", std::uint64_t{1} << 62)), 1009);
  expect_good_player_served("good");
  // At least one is counted: when the client resets the connection right after the close frame
  // the transport sees a TCP error instead of Beast's message_too_big and cannot tell.
  EXPECT_TRUE(pump_until(
      {{good_.get(), &good_log_}},
      [&] { return lobby_->counters().transport_dropped_oversize >= 1; }, 2s));
}

// The close frame must reach a client still busy sending: the lobby stops reading the message,
// sends 1009, drains what keeps coming for a bounded time and only then closes (closing at once
// would reset the connection and lose the close frame: the client would see 1006).
TEST_F(LobbyAbuseTest, sixteen_mebibyte_frames_get_1009_while_still_being_sent) {
  for (const std::uint8_t opcode : {kBinary, kText}) {
    auto big = upgraded();
    // All of it goes out: the lobby keeps taking (and dropping) the bytes instead of resetting.
    EXPECT_TRUE(big->send_bytes(frame(opcode, std::string(16 * 1024 * 1024, 'x'))));
    big->read_until([](const std::string& r) { return close_code_in(r).has_value(); });
    EXPECT_EQ(close_code_in(big->received()), 1009);
    EXPECT_TRUE(big->closed_by_server_within(3s));
    EXPECT_FALSE(big->reset());
  }
  expect_good_player_served("good");
  EXPECT_TRUE(pump_until(
      {{good_.get(), &good_log_}},
      [&] { return lobby_->counters().transport_dropped_oversize == 2; }, 2s));
}

TEST_F(LobbyAbuseTest, client_that_never_finishes_the_handshake_is_closed) {
  RawTcpClient stalled(lobby_->port());
  ASSERT_TRUE(stalled.send_bytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"));
  EXPECT_FALSE(stalled.read_until([](const std::string&) { return false; }, 2s));
  EXPECT_TRUE(stalled.closed());
  expect_good_player_served("good");
}

// Slowloris: connections that send nothing, or drip a header a byte at a time, are closed (by the
// first-byte deadline and the header deadline) while a visitor who speaks normally is served.
TEST_F(LobbyAbuseTest, slowloris_connections_are_closed_by_the_first_byte_and_header_deadlines) {
  net::LobbyConfig config = LobbyAbuseTest::config();
  config.websocket.first_byte_timeout_ms = 200;
  config.websocket.common.handshake_timeout_ms = 1000;
  start(config);
  std::vector<std::unique_ptr<RawTcpClient>> silent;
  for (int i = 0; i < 4; ++i)
    silent.push_back(std::make_unique<RawTcpClient>(lobby_->port()));
  RawTcpClient drip(lobby_->port());
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ";
  ASSERT_TRUE(drip.send_bytes(header.substr(0, 1)));
  // The dripper keeps sending (one byte each 50 ms) and is closed all the same.
  bool drip_closed = false;
  for (int i = 0; i < 100 && !drip_closed; ++i) {
    if (!drip.send_bytes("x")) break;
    drip_closed = drip.closed_by_server_within(50ms);
  }
  EXPECT_TRUE(drip_closed || drip.closed());
  for (const auto& client : silent)
    EXPECT_TRUE(client->closed_by_server_within(3s));
  EXPECT_EQ(http("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 200", 0),
            0u);
  expect_good_player_served("good");
}

// Input that is not HTTP gets 400 and a header over the limit 431, each followed by the close.
TEST_F(LobbyAbuseTest, non_http_input_gets_400_and_an_oversize_header_431_then_the_close) {
  RawTcpClient tls_hello(lobby_->port());
  ASSERT_TRUE(tls_hello.send_bytes(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) +
                                   "\r\n\r\n"));
  EXPECT_TRUE(tls_hello.closed_by_server_within(3s));
  EXPECT_EQ(tls_hello.received().rfind("HTTP/1.1 400", 0), 0u) << tls_hello.received();
  EXPECT_FALSE(tls_hello.reset());

  RawTcpClient garbage(lobby_->port());
  ASSERT_TRUE(garbage.send_bytes("hello lobby, are you there?\r\n\r\n"));
  EXPECT_TRUE(garbage.closed_by_server_within(3s));
  EXPECT_EQ(garbage.received().rfind("HTTP/1.1 400", 0), 0u) << garbage.received();

  RawTcpClient huge(lobby_->port());
  ASSERT_TRUE(huge.send_bytes("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                              "\r\n\r\n"));
  EXPECT_TRUE(huge.closed_by_server_within(3s));
  EXPECT_EQ(huge.received().rfind("HTTP/1.1 431", 0), 0u) << huge.received().substr(0, 100);
  EXPECT_FALSE(huge.reset());
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, connection_that_never_says_hello_is_closed_with_1008) {
  net::LobbyConfig quick = config();
  quick.hello_timeout_ms = 300;
  start(quick);
  expect_good_player_served("good");  // says Hello in time: stays
  auto silent = upgraded();
  ASSERT_TRUE(
      silent->read_until([](const std::string& r) { return close_code_in(r).has_value(); }, 3s));
  EXPECT_EQ(close_code_in(silent->received()), 1008);
  EXPECT_EQ(lobby_->counters().disconnected_no_hello, 1u);
  pump_for({{good_.get(), &good_log_}}, std::chrono::milliseconds(100));
  EXPECT_TRUE(good_log_.disconnected.empty());
}

TEST_F(LobbyAbuseTest, client_that_never_reads_is_dropped_and_costs_bounded_memory) {
  net::LobbyConfig chatty = config();
  chatty.chat_burst = 2000;
  chatty.chat_lines_per_second = 2000;
  chatty.max_chat_length = 4000;
  chatty.global_chat_bytes_per_second = 1024 * 1024 * 1024;
  chatty.websocket.common.max_queued_bytes_per_peer = 256 * 1024;
  start(chatty);
  auto deaf = upgraded(/*receive_buffer=*/4096);
  ASSERT_TRUE(deaf->send_bytes(frame(kBinary, hello_bytes("deaf"))));
  const std::string hello = hello_bytes("talker");
  ASSERT_EQ(good_->send(0, net::Delivery::reliable_ordered, bytes_of(hello)), net::SendResult::ok);
  // Global chat reaches the deaf client too, until its queue (256 KiB) is full; the talker reads
  // all along, so only the deaf one falls behind. 5.6 MB: more than the queue and the kernel's
  // socket buffers on loopback (which grow to 4 MiB) hold together.
  constexpr std::uint64_t kLines = 1400;
  for (std::uint64_t i = 0; i < kLines; ++i) {
    flatbuffers::FlatBufferBuilder fbb;
    const auto body = wire::CreateSendChatDirect(fbb, wire::ChatScope::global, nullptr,
                                                 std::string(4000, 'x').c_str());
    fbb.Finish(wire::CreateLobbyMessage(fbb, 10 + i, 0, wire::LobbyBody::SendChat, body.Union()));
    const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
    ASSERT_EQ(good_->send(0, net::Delivery::reliable_ordered, {data, fbb.GetSize()}),
              net::SendResult::ok);
    // A polite talker: it lets each batch's replies and echoes arrive before the next.
    if (i % 50 == 49) {
      ASSERT_TRUE(pump_until({{good_.get(), &good_log_}},
                             [&] { return good_log_.messages.size() >= 1 + (i + 1) * 2; }));
    }
  }
  EXPECT_TRUE(pump_until(
      {{good_.get(), &good_log_}}, [&] { return lobby_->counters().disconnected_slow == 1; }, 4s));
  // The talker got an answer to every line and every line back, and is still connected.
  EXPECT_TRUE(pump_until(
      {{good_.get(), &good_log_}}, [&] { return good_log_.messages.size() >= 1 + kLines * 2; }, 4s))
      << good_log_.messages.size();
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, http_routes_answer_with_the_right_status) {
  EXPECT_EQ(http("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 200", 0),
            0u);
  const std::string rooms =
      http("GET /api/rooms?free=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(rooms.rfind("HTTP/1.1 200", 0), 0u) << rooms;
  EXPECT_NE(rooms.find("{\"rooms\":[],\"next_after_room_id\":0}"), std::string::npos) << rooms;
  const std::string metrics = http("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(metrics.find("# TYPE tickwire_lobby_connections gauge\ntickwire_lobby_connections "),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tickwire_lobby_drops_total{reason=\"malformed\"} 0"), std::string::npos);
  EXPECT_EQ(http("GET /api/rooms?free=maybe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(http("GET /api/rooms?limit=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(http("GET /api/rooms?after=-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(http("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 403", 0),
            0u);
  EXPECT_EQ(http("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(http("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 404", 0),
            0u);
  const std::string post = http(
      "POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET"), std::string::npos);
  const std::string huge =
      http("POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
           std::string(20000, 'x'));
  EXPECT_EQ(huge.rfind("HTTP/1.1 413", 0), 0u) << huge;
  std::string last;
  for (int i = 0; i < 40 && last.rfind("HTTP/1.1 429", 0) != 0; ++i)
    last = http("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(last.rfind("HTTP/1.1 429", 0), 0u);
  EXPECT_GE(lobby_->counters().http_rate_limited, 1u);
}

// Set while the lobby's thread is to stay stuck in stall_lobby_thread().
std::atomic<bool> g_lobby_stalled{false};
void stall_lobby_thread(int /*signal*/) {
  while (g_lobby_stalled.load()) {
    const timespec pause{0, 1'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

// The id of this process's thread named `name`, or 0.
pid_t thread_named(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    std::getline(comm, line);
    if (line == name) return static_cast<pid_t>(std::stoi(task.path().filename().string()));
  }
  return 0;
}

// /healthz tells whether the lobby itself is alive, not only its io thread: with the lobby's
// thread stuck (here in a signal handler) it answers 503, and 200 again once the thread turns.
TEST_F(LobbyAbuseTest, healthz_fails_while_the_lobby_thread_is_stuck) {
  net::LobbyConfig config = LobbyAbuseTest::config();
  // Well above a loaded machine's scheduling delays, so that only the stall below trips it.
  config.stall_ms = 500;
  config.http_burst = 1000;
  start(config);
  const auto healthz = [&] {
    return http("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").substr(0, 12);
  };
  // Asks until the answer is `expected`, for 10 s at most.
  const auto answers = [&](const std::string& expected) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string answer = healthz();
    while (answer != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      answer = healthz();
    }
    return answer;
  };
  EXPECT_EQ(answers("HTTP/1.1 200"), "HTTP/1.1 200");
  const pid_t lobby_thread = thread_named("tickwire-lobby");
  ASSERT_NE(lobby_thread, 0);
  struct sigaction action {};
  action.sa_handler = &stall_lobby_thread;
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  g_lobby_stalled = true;
  ASSERT_EQ(::syscall(SYS_tgkill, ::getpid(), lobby_thread, SIGUSR1), 0);
  EXPECT_EQ(answers("HTTP/1.1 503"), "HTTP/1.1 503");
  g_lobby_stalled = false;
  EXPECT_EQ(answers("HTTP/1.1 200"), "HTTP/1.1 200");
  ::sigaction(SIGUSR1, &previous, nullptr);
  expect_good_player_served("good");
}

TEST_F(LobbyAbuseTest, web_page_is_served_from_the_configured_directory) {
  const TempDirectory root("tickwire-lobby-web");
  std::ofstream(root / "index.html") << "<!doctype html><title>Lobby</title>";
  net::LobbyConfig with_page = config();
  with_page.web_root = root.string();
  start(with_page);
  const std::string page = http("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(page.rfind("HTTP/1.1 200", 0), 0u) << page;
  EXPECT_NE(page.find("<title>Lobby</title>"), std::string::npos);
}

TEST(LobbyConfig, defaults_are_valid_and_validate_names_the_bad_field) {
  // TLS is the default, and it needs the certificate's files (or plaintext asked for by name).
  EXPECT_NE(net::LobbyConfig{}.validate().message().find("websocket.tls.certificate_chain_file"),
            std::string::npos);
  net::LobbyConfig plaintext;
  plaintext.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  net::LobbyConfig config = plaintext;
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  EXPECT_EQ(config.resume_grace_ms, 30'000u);
  EXPECT_EQ(config.chat_history_length, 50u);
  config.max_players_per_room = 1;
  EXPECT_NE(config.validate().message().find("max_players_per_room"), std::string::npos);
  config = plaintext;
  config.max_chat_length = config.websocket.common.max_message_size;
  EXPECT_NE(config.validate().message().find("max_chat_length"), std::string::npos);
  // A full room's reply to JoinRoom must fit in one message: validate() says how many players do.
  config = plaintext;
  config.max_players_per_room = 1000;
  EXPECT_NE(config.validate().message().find("max_players_per_room = 1000"), std::string::npos);
  EXPECT_NE(config.validate().message().find("use at most"), std::string::npos);
  config.websocket.common.max_message_size = 256 * 1024;
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  config = plaintext;
  config.chat_history_bytes = config.websocket.common.max_message_size + 1;
  EXPECT_NE(config.validate().message().find("chat_history_bytes"), std::string::npos);
  config = plaintext;
  config.max_rooms_per_page = 0;
  EXPECT_NE(config.validate().message().find("max_rooms_per_page"), std::string::npos);
  // The operator's files: a folder that is not there (or is a file) is refused by name.
  config = plaintext;
  config.files_directory = "/nonexistent/tickwire-files";
  EXPECT_NE(config.validate().message().find("files_directory = /nonexistent/tickwire-files"),
            std::string::npos)
      << config.validate().message();
  config.files_directory = "/proc/self/status";
  EXPECT_NE(config.validate().message().find("files_directory"), std::string::npos);
  config.files_directory = "/tmp";
  EXPECT_TRUE(config.validate().ok()) << config.validate().message();
  config.max_files_listed = 0;
  EXPECT_NE(config.validate().message().find("max_files_listed"), std::string::npos);
  config = plaintext;
  config.websocket.max_connections = 0;
  EXPECT_NE(config.validate().message().find("websocket.max_connections"), std::string::npos);
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  EXPECT_FALSE(lobby.start().ok());
}

}  // namespace
}  // namespace tickwire::test
