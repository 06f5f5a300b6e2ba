// The metrics endpoint as a scraper and a health checker see it, over real TCP on 127.0.0.1:
// GET /metrics serves the page, /healthz turns to 503 with the reason while the caller says it
// is unhealthy, and anything else (other paths, other methods, a WebSocket upgrade) is refused.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "../support/raw_tcp_client.hpp"
#include "tickwire/net/metrics.hpp"

namespace tickwire::net {
namespace {

using namespace std::chrono_literals;

struct Answer {
  std::string head;
  std::string body;
};

// One request on a fresh connection, read until the server closes it.
Answer request(std::uint16_t port, const std::string& text) {
  test::RawTcpClient client(port);
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.send_bytes(text));
  client.read_until([](const std::string&) { return false; }, 5s);
  const std::string& received = client.received();
  const std::size_t split = received.find("\r\n\r\n");
  if (split == std::string::npos) return {received, ""};
  return {received.substr(0, split), received.substr(split + 4)};
}

Answer get(std::uint16_t port, const std::string& path) {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = MetricsEndpoint::start(
        {},
        [this] {
          ++renders_;
          PrometheusText out;
          out.counter("test_renders_total", "Pages rendered.", renders_.load());
          return out.text();
        },
        [this]() -> std::optional<std::string> {
          if (healthy_.load()) return std::nullopt;
          return "tick loop stalled";
        });
    ASSERT_TRUE(started.ok()) << started.error();
    endpoint_ = std::move(started.value());
  }

  std::atomic<std::uint64_t> renders_{0};
  std::atomic<bool> healthy_{true};
  std::unique_ptr<MetricsEndpoint> endpoint_;
};

TEST_F(MetricsEndpointTest, metrics_are_rendered_afresh_for_every_scrape) {
  const Answer first = get(endpoint_->port(), "/metrics");
  EXPECT_EQ(first.head.rfind("HTTP/1.1 200", 0), 0u) << first.head;
  EXPECT_NE(first.head.find("text/plain; version=0.0.4"), std::string::npos) << first.head;
  EXPECT_NE(first.body.find("\ntest_renders_total 1\n"), std::string::npos) << first.body;
  const Answer second = get(endpoint_->port(), "/metrics?x=1");
  EXPECT_NE(second.body.find("\ntest_renders_total 2\n"), std::string::npos) << second.body;
}

TEST_F(MetricsEndpointTest, healthz_fails_with_the_reason_while_unhealthy_and_recovers) {
  Answer answer = get(endpoint_->port(), "/healthz");
  EXPECT_EQ(answer.head.rfind("HTTP/1.1 200", 0), 0u) << answer.head;
  EXPECT_EQ(answer.body, "ok\n");
  healthy_ = false;
  answer = get(endpoint_->port(), "/healthz");
  EXPECT_EQ(answer.head.rfind("HTTP/1.1 503", 0), 0u) << answer.head;
  EXPECT_EQ(answer.body, "tick loop stalled\n");
  healthy_ = true;
  answer = get(endpoint_->port(), "/healthz");
  EXPECT_EQ(answer.head.rfind("HTTP/1.1 200", 0), 0u) << answer.head;
}

TEST_F(MetricsEndpointTest, other_paths_methods_and_websocket_upgrades_are_refused) {
  EXPECT_EQ(get(endpoint_->port(), "/").head.rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(get(endpoint_->port(), "/metricsx").head.rfind("HTTP/1.1 404", 0), 0u);
  const Answer post = request(
      endpoint_->port(),
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post.head.rfind("HTTP/1.1 405", 0), 0u) << post.head;
  {
    // Kept alive after its answer, as any keep-alive request: read the answer's head only.
    test::RawTcpClient client(endpoint_->port());
    ASSERT_TRUE(
        client.send_bytes("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
    const std::string head = client.take_until("\r\n\r\n", 5s);
    EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;  // the page, not 101 Switching
  }
  // The endpoint still serves after all that.
  EXPECT_EQ(get(endpoint_->port(), "/metrics").head.rfind("HTTP/1.1 200", 0), 0u);
}

TEST(MetricsEndpoint, refuses_a_config_it_cannot_serve) {
  const auto bad_address = MetricsEndpoint::start(
      {.bind_address = "not an address"}, [] { return std::string(); },
      [] { return std::optional<std::string>(); });
  ASSERT_FALSE(bad_address.ok());
  EXPECT_NE(bad_address.error().find("not an address"), std::string::npos) << bad_address.error();
  const auto no_callbacks = MetricsEndpoint::start({}, nullptr, nullptr);
  EXPECT_FALSE(no_callbacks.ok());
}

}  // namespace
}  // namespace tickwire::net
