// The lobby under a long stream of malformed frames of every kind, in this process so that its
// memory can be read: a rejected frame must cost nothing once it is answered, and two honest
// players chatting meanwhile must lose nothing.

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../support/honest_chatters.hpp"
#include "../support/pump.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

constexpr net::Channel kBinary = 0;
constexpr net::Channel kText = 1;

struct BadFrame {
  net::Channel channel;
  std::string bytes;
};

// Every kind of frame that is not a LobbyMessage and still a valid WebSocket text (or binary)
// message, so that the lobby and not the WebSocket layer has to reject it.
std::vector<BadFrame> malformed_frames() {
  const std::string long_digits(4000, '9');
  std::string deep_array(2000, '[');
  std::string deep_object = R"({"request_id": 1, "body_type": "Hello", "body": )";
  for (int i = 0; i < 500; ++i)
    deep_object += R"({"nickname": )";
  return {
      // truncated
      {kText, R"({"request_id": 1, "body_type": "Hello", "body": {"nickname": "ann")"},
      {kText, R"({"request_id": 1, "body_type": "Hel)"},
      // deep
      {kText, deep_array},
      {kText, deep_object},
      // huge literals (a long number literal is what flatbuffers' parser kept for ever)
      {kText, R"({"request_id": )" + long_digits + "}"},
      {kText, R"({"request_id": -)" + long_digits + "}"},
      {kText, R"({"request_id": 1, "body_type": "JoinRoom", "body": {"room_id": 0x)" +
                  std::string(3000, 'f') + "}}"},
      {kText, R"({"request_id": 1, "body_type": "SendChat", "body": {"text": ")" +
                  std::string(4000, 'x') + R"(", "scope": )" + long_digits + "}}"},
      // wrong types
      {kText, R"({"request_id": "one"})"},
      {kText, R"({"request_id": 1, "body_type": "SendChat", "body": {"scope": "shout"}})"},
      {kText, R"({"request_id": 1, "body_type": "JoinRoom", "body": {"room_id": [1, 2]}})"},
      // unknown fields
      {kText, R"({")" + std::string(4000, 'n') + R"(": 1})"},
      {kText, R"({"request_id": 1, "body_type": "Hello", "body": {"nickname": "a", "pw": 1}})"},
      // a body type without its body, a NUL inside, and binary garbage
      {kText, R"({"request_id": 1, "body_type": "Hello"})"},
      {kText, std::string("{\"request_id\": 1}\0{}", 20)},
      {kBinary, "\xff\xff\xff\x7f not a flatbuffer at all"},
  };
}

// AddressSanitizer keeps freed memory in quarantine (hundreds of MiB) before reusing it, so
// under it the resident size grows with any churn, leak or not: the comparison is only made
// without it (the Release suite runs this test).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentSizeMeasuresUse = false;
#else
constexpr bool kResidentSizeMeasuresUse = true;
#endif

// Resident memory of this process, after returning what malloc holds free to the system, so
// that two readings differ only by what is still in use.
std::size_t resident_bytes() {
  malloc_trim(0);
  long pages_total = 0;
  long pages_resident = 0;
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  const int read = std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<std::size_t>(pages_resident) *
         static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

TEST(LobbySoak, a_hundred_thousand_malformed_frames_cost_no_memory_and_honest_chat_goes_on) {
  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.port = 0;
  config.websocket.common.shutdown_timeout_ms = 300;
  // One connection sends them all, as a person fixing their JSON by hand would (each frame gets
  // its error reply); without Hello, for as long as the test takes.
  config.max_malformed_frames = 1'000'000;
  config.hello_timeout_ms = 600'000;
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  ASSERT_TRUE(lobby.start().ok());
  HonestChatters honest(lobby.port());
  ASSERT_TRUE(honest.ready());

  net::WebSocketClientConfig client;
  client.transport_security = net::WebSocketSecurity::insecure_plaintext;
  client.server_port = lobby.port();
  client.common.framing = net::WebSocketFraming::raw;
  client.common.shutdown_timeout_ms = 200;
  auto made = net::make_websocket_client(client);
  ASSERT_TRUE(made.ok()) << made.error();
  std::unique_ptr<net::ClientTransport> attacker = std::move(made.value());
  EventLog attacker_log;
  ASSERT_TRUE(pump_until({{attacker.get(), &attacker_log}},
                         [&] { return attacker->state() == net::ClientState::connected; }));

  const std::vector<BadFrame> frames = malformed_frames();
  std::size_t sent = 0;
  std::size_t answered = 0;
  std::string sample_reply;
  // Sends `count` frames, the kinds in turn, in batches whose error replies it waits for.
  const auto attack = [&](std::size_t count) {
    constexpr std::size_t kBatch = 320;
    for (std::size_t done = 0; done < count;) {
      const std::size_t batch = std::min(kBatch, count - done);
      for (std::size_t i = 0; i < batch; ++i, ++sent) {
        const BadFrame& frame = frames[sent % frames.size()];
        if (attacker->send(frame.channel, net::Delivery::reliable_ordered, bytes_of(frame.bytes)) !=
            net::SendResult::ok) {
          return false;
        }
      }
      done += batch;
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      net::Event event;
      while (answered < sent && std::chrono::steady_clock::now() < deadline) {
        honest.poll();
        while (attacker->poll(event, 1ms)) {
          if (event.type == net::EventType::message) {
            ++answered;
            if (sample_reply.empty() && event.channel == kText) {
              const auto bytes = event.payload.bytes();
              sample_reply.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            }
          } else if (event.type == net::EventType::disconnected) {
            return false;
          }
        }
      }
      if (answered < sent) return false;
    }
    return true;
  };

  // The same warm-up before the first reading as the attack has before the second: buffers and
  // allocator arenas grown to their working size.
  ASSERT_TRUE(attack(8'000)) << "answered " << answered << " of " << sent;
  const std::size_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  ASSERT_TRUE(attack(100'000)) << "answered " << answered << " of " << sent;
  const std::size_t after = resident_bytes();
  std::printf("resident memory: %zu KiB after the warm-up, %zu KiB after 100000 more frames\n",
              before / 1024, after / 1024);
  if (kResidentSizeMeasuresUse) {
    EXPECT_LE(after, before + 2 * 1024 * 1024)
        << "resident memory grew from " << before << " to " << after << " bytes";
  }

  // Every frame was rejected, counted and answered with what the parser found.
  EXPECT_EQ(lobby.counters().dropped_malformed, sent);
  EXPECT_NE(sample_reply.find(R"("code": "malformed")"), std::string::npos) << sample_reply;
  EXPECT_NE(sample_reply.find("error: "), std::string::npos) << sample_reply;
  // The parser is as good as new: the same connection now says Hello and is welcomed.
  ASSERT_EQ(attacker->send(kText, net::Delivery::reliable_ordered,
                           bytes_of(R"({"request_id": 7, "body_type": "Hello",)"
                                    R"( "body": {"nickname": "fixed_it"}})")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until({{attacker.get(), &attacker_log}},
                         [&] { return !attacker_log.messages.empty(); }));
  const auto& welcome = attacker_log.messages.back().bytes;
  const std::string welcome_text(reinterpret_cast<const char*>(welcome.data()), welcome.size());
  EXPECT_NE(welcome_text.find(R"("body_type": "Welcome")"), std::string::npos) << welcome_text;

  EXPECT_EQ(honest.check_nothing_lost(), "");
  EXPECT_GE(honest.lines_sent(), 4u);
}

}  // namespace
}  // namespace tickwire::test
