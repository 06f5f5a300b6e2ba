// The Prometheus text format as a scraper reads it: HELP/TYPE lines, labels with escaping, and
// histograms whose buckets are cumulative and end in +Inf with _sum and _count.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tickwire/net/metrics.hpp"

namespace tickwire::net {
namespace {

TEST(PrometheusText, counters_gauges_and_labelled_samples_in_the_text_format) {
  PrometheusText out;
  out.counter("demo_requests_total", "Requests answered.", 42);
  out.gauge("demo_temperature_celsius", "Heat.", -1.5);
  out.family("demo_drops_total", MetricType::counter, "Drops, by reason.\nSecond line \\ here.");
  const MetricLabel first[] = {{"transport", "enet"}, {"reason", "say \"hi\"\\\n"}};
  out.sample(3, first);
  EXPECT_EQ(out.text(),
            "# HELP demo_requests_total Requests answered.\n"
            "# TYPE demo_requests_total counter\n"
            "demo_requests_total 42\n"
            "# HELP demo_temperature_celsius Heat.\n"
            "# TYPE demo_temperature_celsius gauge\n"
            "demo_temperature_celsius -1.5\n"
            "# HELP demo_drops_total Drops, by reason.\\nSecond line \\\\ here.\n"
            "# TYPE demo_drops_total counter\n"
            "demo_drops_total{transport=\"enet\",reason=\"say \\\"hi\\\"\\\\\\n\"} 3\n");
}

TEST(PrometheusText, a_histogram_has_cumulative_buckets_ending_in_inf_then_sum_and_count) {
  Histogram histogram({0.01, 0.001, 0.1, 0.01});  // unsorted and repeated: normalised
  // Binary fractions, so that the sum is exact.
  for (const double value : {0.00048828125, 0.0009765625, 0.0078125, 0.03125, 4.0}) {
    histogram.observe(value);
  }
  PrometheusText out;
  out.histogram("demo_tick_seconds", "Tick time.", histogram.snapshot());
  EXPECT_EQ(out.text(),
            "# HELP demo_tick_seconds Tick time.\n"
            "# TYPE demo_tick_seconds histogram\n"
            "demo_tick_seconds_bucket{le=\"0.001\"} 2\n"
            "demo_tick_seconds_bucket{le=\"0.01\"} 3\n"
            "demo_tick_seconds_bucket{le=\"0.1\"} 4\n"
            "demo_tick_seconds_bucket{le=\"+Inf\"} 5\n"
            "demo_tick_seconds_sum 4.04052734375\n"
            "demo_tick_seconds_count 5\n");
}

TEST(Histogram, observations_from_several_threads_are_all_counted) {
  Histogram histogram({1.0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&histogram, t] {
      for (int i = 0; i < 10000; ++i)
        histogram.observe(t % 2 == 0 ? 0.5 : 2.0);
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  const Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 40000u);
  ASSERT_EQ(snapshot.cumulative_counts.size(), 1u);
  EXPECT_EQ(snapshot.cumulative_counts[0], 20000u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 20000 * 0.5 + 20000 * 2.0);
}

TEST(TransportMetrics, each_transport_is_a_labelled_sample_and_drops_carry_their_reason) {
  TransportCounters enet;
  enet.wire_bytes_received = 1234;
  enet.dropped_forged = 7;
  TransportCounters websocket;
  websocket.rejected_tickets = 2;
  const LabelledTransportCounters transports[] = {{"enet", enet}, {"websocket", websocket}};
  PrometheusText out;
  append_transport_metrics(out, "game", transports);
  const std::string& text = out.text();
  EXPECT_NE(text.find("game_transport_received_bytes_total{transport=\"enet\"} 1234\n"),
            std::string::npos);
  EXPECT_NE(text.find("game_transport_received_bytes_total{transport=\"websocket\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("game_transport_rejected_tickets_total{transport=\"websocket\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("game_transport_drops_total{transport=\"enet\",reason=\"forged\"} 7\n"),
            std::string::npos);
  // One TYPE line per family, never repeated per transport.
  std::size_t type_lines = 0;
  for (std::size_t at = text.find("# TYPE game_transport_drops_total"); at != std::string::npos;
       at = text.find("# TYPE game_transport_drops_total", at + 1)) {
    ++type_lines;
  }
  EXPECT_EQ(type_lines, 1u);
}

}  // namespace
}  // namespace tickwire::net
