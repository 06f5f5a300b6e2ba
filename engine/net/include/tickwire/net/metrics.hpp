#pragma once
// Metrics a game server exports for Prometheus: a histogram that any thread may feed, a writer of
// the text exposition format (version 0.0.4), the transport counters as metric families, and a
// small HTTP endpoint serving /metrics and /healthz.
//
// Names follow Prometheus's conventions: a `tickwire_` prefix, base units in the name (`_seconds`,
// `_bytes`), `_total` on counters, and labels for what varies (transport, reason) rather than
// one name each.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickwire/net/stats.hpp"
#include "tickwire/net/status.hpp"

namespace tickwire::net {

// Counts observations into fixed buckets. observe() is lock-free and may be called from any
// thread while another reads snapshot().
class Histogram {
 public:
  // `upper_bounds`: the buckets' inclusive upper bounds (sorted here; repeated and non-finite
  // ones are dropped); the +Inf bucket is implied.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // observations <= upper_bounds[i]
    std::uint64_t count = 0;                       // all observations (the +Inf bucket)
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, +Inf last
  std::atomic<double> sum_{0};
};

enum class MetricType : std::uint8_t { counter, gauge, histogram };

// One label of a sample: name and value. Values are escaped as the format requires.
using MetricLabel = std::pair<std::string_view, std::string_view>;

// Builds a page in the Prometheus text exposition format. A family (HELP and TYPE lines) is
// followed by its samples; every sample of a family must come before the next family starts.
class PrometheusText {
 public:
  PrometheusText& family(std::string_view name, MetricType type, std::string_view help);
  // A sample of the family last started, under that family's name.
  PrometheusText& sample(double value, std::span<const MetricLabel> labels = {});
  // One sample per value, labelled `label`="its label value" (a counter by reason, say).
  struct LabelledCount {
    std::string_view label_value;
    std::uint64_t value;
  };
  PrometheusText& samples_by(std::string_view label, std::span<const LabelledCount> counts);
  // family() and one sample, for the common case of an unlabelled metric.
  PrometheusText& counter(std::string_view name, std::string_view help, std::uint64_t value);
  PrometheusText& gauge(std::string_view name, std::string_view help, double value);
  // A whole histogram family with one series: _bucket (cumulative, le="..."), _sum and _count.
  PrometheusText& histogram(std::string_view name, std::string_view help,
                            const Histogram::Snapshot& histogram);

  const std::string& text() const { return text_; }

 private:
  void write_sample(std::string_view suffix, double value, std::span<const MetricLabel> labels,
                    std::optional<MetricLabel> extra_label);

  std::string text_;
  std::string family_;
};

// The counters of one transport, with the name its samples carry in their `transport` label.
struct LabelledTransportCounters {
  std::string transport;  // "enet", "websocket"
  TransportCounters counters;
};

// The transports' traffic, connections, rejected tickets and drops by reason, as families named
// `<prefix>_transport_...` with a `transport` label (and `reason` on the drops).
void append_transport_metrics(PrometheusText& out, std::string_view prefix,
                              std::span<const LabelledTransportCounters> transports);

struct MetricsEndpointConfig {
  // Address to listen on. Default "127.0.0.1": metrics tell an outsider how busy the server is,
  // so reaching them from the network is the operator's choice.
  std::string bind_address = "127.0.0.1";
  // TCP port, 0 = any free port (read it back with port()). Default 0.
  std::uint16_t port = 0;

  Status validate() const;
};

// An HTTP server on its own thread answering GET /metrics with what `render_metrics` returns
// (Content-Type text/plain; version=0.0.4) and GET /healthz with 200 "ok", or 503 and the reason
// `check_health` gives. Both callbacks run on the endpoint's thread, so they must be
// thread-safe; they are called once per request. Anything else gets 404. It shares the
// WebSocket server's listener, and with it the per-address limits and the deadlines that close
// idle and slow connections; WebSocket upgrades are refused.
class MetricsEndpoint {
 public:
  using RenderMetrics = std::function<std::string()>;
  // std::nullopt when healthy, else why not.
  using CheckHealth = std::function<std::optional<std::string>()>;

  static Result<std::unique_ptr<MetricsEndpoint>> start(const MetricsEndpointConfig& config,
                                                        RenderMetrics render_metrics,
                                                        CheckHealth check_health);
  virtual ~MetricsEndpoint() = default;
  virtual std::uint16_t port() const = 0;
};

}  // namespace tickwire::net
