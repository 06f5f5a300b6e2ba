// The log sink (tickwire/net/log.hpp) and the limiter that holds back lines a peer can trigger,
// and the refusal detail's encoding in both handshakes.

#include "tickwire/net/log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "../support/log_capture.hpp"
#include "log/log_limiter.hpp"
#include "session/handshake.hpp"
#include "session/stream_handshake.hpp"

namespace tickwire::net {
namespace {

using test::LogCapture;

TEST(Log, by_default_warnings_and_errors_go_to_stderr_and_the_rest_is_filtered) {
  reset_log_sink();
  EXPECT_TRUE(log_enabled(LogLevel::warning));
  EXPECT_TRUE(log_enabled(LogLevel::error));
  EXPECT_FALSE(log_enabled(LogLevel::info));
  EXPECT_FALSE(log_enabled(LogLevel::debug));
  testing::internal::CaptureStderr();
  log(LogLevel::warning, "tickets", "ticket refused: expired");
  log(LogLevel::info, "tickets", "not shown");
  const std::string written = testing::internal::GetCapturedStderr();
  EXPECT_EQ(written, "tickwire [warning] tickets: ticket refused: expired\n");
}

TEST(Log, a_sink_gets_level_category_and_message_at_and_above_its_level) {
  LogCapture capture(LogLevel::info);
  log(LogLevel::debug, "enet", "filtered");
  log(LogLevel::info, "enet", "hello");
  log(LogLevel::error, "lobby", "bad");
  const auto records = capture.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].level, LogLevel::info);
  EXPECT_EQ(records[0].category, "enet");
  EXPECT_EQ(records[0].message, "hello");
  EXPECT_EQ(records[1].level, LogLevel::error);
  EXPECT_EQ(records[1].category, "lobby");
}

TEST(Log, a_null_sink_silences_everything) {
  set_log_sink(nullptr);
  EXPECT_FALSE(log_enabled(LogLevel::error));
  testing::internal::CaptureStderr();
  log(LogLevel::error, "config", "nobody hears this");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  reset_log_sink();
}

TEST(Log, a_filtered_line_is_never_built) {
  LogCapture capture(LogLevel::error);
  detail::LogLimiter limiter;
  int built = 0;
  detail::log_limited(limiter, 0, LogLevel::warning, "enet", [&] {
    ++built;
    return std::string("costly");
  });
  EXPECT_EQ(built, 0);
  EXPECT_TRUE(capture.records().empty());
  EXPECT_EQ(limiter.pending_suppressed(), 0u) << "a filtered line is not counted either";
}

TEST(Log, the_sink_can_be_replaced_while_other_threads_log) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::thread> loggers;
  for (int i = 0; i < 3; ++i) {
    loggers.emplace_back([&] {
      while (!stop)
        log(LogLevel::warning, "websocket", "line");
    });
  }
  for (int i = 0; i < 200; ++i) {
    set_log_sink([&](const LogRecord& record) {
      if (record.category == "websocket") ++delivered;
    });
  }
  stop = true;
  for (std::thread& thread : loggers)
    thread.join();
  set_log_sink([&](const LogRecord&) { ++delivered; });
  const std::uint64_t before = delivered;
  log(LogLevel::warning, "websocket", "last");
  EXPECT_EQ(delivered, before + 1) << "the last sink installed gets the next line";
  reset_log_sink();
}

TEST(LogLimiter, lets_a_burst_through_then_holds_lines_back_and_counts_them) {
  detail::LogLimiter limiter({.burst = 3, .per_second = 2});
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.admit(1000).write);
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(limiter.admit(1000).write);
  EXPECT_EQ(limiter.pending_suppressed(), 100u);
  // Half a second later one token is back: the line goes out with the count of those held back.
  const auto next = limiter.admit(1500);
  EXPECT_TRUE(next.write);
  EXPECT_EQ(next.suppressed, 100u);
  EXPECT_EQ(limiter.pending_suppressed(), 0u);
  EXPECT_FALSE(limiter.admit(1500).write);
  // A long quiet spell refills the burst, no more.
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(limiter.admit(60'000).write);
  EXPECT_FALSE(limiter.admit(60'000).write);
}

TEST(LogLimiter, a_flood_logs_a_bounded_number_of_lines_and_a_suppressed_count) {
  LogCapture capture;
  detail::LogLimiter limiter({.burst = 5, .per_second = 1});
  // 10 000 refusals over ten seconds of a fake clock.
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    detail::log_limited(limiter, i, LogLevel::warning, "tickets",
                        [] { return std::string("ticket refused: expired"); });
  }
  const auto lines = capture.matching("tickets", "refused");
  const auto suppressed = capture.matching("tickets", "suppressed");
  EXPECT_EQ(lines.size(), 5u + 9u);  // the burst, then one a second
  ASSERT_FALSE(suppressed.empty());
  std::uint64_t held_back = 0;
  for (const auto& record : suppressed) {
    held_back += std::stoull(record.message.substr(record.message.find(' ') + 1));
  }
  EXPECT_EQ(lines.size() + held_back + limiter.pending_suppressed(), 10'000u);
}

TEST(RefusalDetail, an_enet_deny_carries_why_a_ticket_was_refused) {
  using namespace session;
  const auto deny = encode_deny(DenyReason::ticket_rejected, TicketRefusal::expired);
  const auto decoded = decode_handshake(deny);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->deny, DenyReason::ticket_rejected);
  EXPECT_EQ(decoded->refusal, TicketRefusal::expired);
  // Other reasons carry no detail, and a detail on them is not a DENY.
  EXPECT_EQ(encode_deny(DenyReason::server_full, TicketRefusal::expired).size(),
            encode_deny(DenyReason::server_full).size());
  auto full = encode_deny(DenyReason::server_full);
  full.push_back(static_cast<std::uint8_t>(TicketRefusal::expired));
  EXPECT_FALSE(decode_handshake(full));
  // A detail this side does not know reads as none; the DENY still counts.
  auto unknown = encode_deny(DenyReason::ticket_rejected);
  unknown.push_back(200);
  const auto lenient = decode_handshake(unknown);
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->refusal, TicketRefusal::none);
}

TEST(RefusalDetail, a_stream_refusal_round_trips_and_nothing_else_reads_as_one) {
  namespace stream = session::stream;
  for (auto refusal : {TicketRefusal::missing, TicketRefusal::reused, TicketRefusal::bad_proof}) {
    EXPECT_EQ(stream::decode_refusal(stream::encode_refusal(refusal)), refusal);
  }
  EXPECT_FALSE(stream::decode_refusal(stream::encode_accept(std::nullopt)));
  auto longer = stream::encode_refusal(TicketRefusal::expired);
  longer.push_back(0);
  EXPECT_FALSE(stream::decode_refusal(longer));
}

}  // namespace
}  // namespace tickwire::net
