#include <algorithm>
#include <charconv>
#include <cmath>

#include "tickwire/net/metrics.hpp"

namespace tickwire::net {
namespace {

// The shortest text that reads back as the same double; +Inf, -Inf and NaN as the format spells
// them.
void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof(text), value);
  out.append(text, error == std::errc() ? end : text);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool in_label) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && in_label) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  std::erase_if(upper_bounds_, [](double bound) { return !std::isfinite(bound); });
  std::sort(upper_bounds_.begin(), upper_bounds_.end());
  upper_bounds_.erase(std::unique(upper_bounds_.begin(), upper_bounds_.end()), upper_bounds_.end());
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
}

void Histogram::observe(double value) {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot out;
  out.upper_bounds = upper_bounds_;
  out.cumulative_counts.reserve(upper_bounds_.size());
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative_counts.push_back(running);
  }
  out.count = running + counts_[upper_bounds_.size()].load(std::memory_order_relaxed);
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

PrometheusText& PrometheusText::family(std::string_view name, MetricType type,
                                       std::string_view help) {
  family_ = name;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_escaped(text_, help, /*in_label=*/false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type_name(type);
  text_ += '\n';
  return *this;
}

void PrometheusText::write_sample(std::string_view suffix, double value,
                                  std::span<const MetricLabel> labels,
                                  std::optional<MetricLabel> extra_label) {
  text_ += family_;
  text_ += suffix;
  if (!labels.empty() || extra_label) {
    text_ += '{';
    bool first = true;
    const auto write_label = [&](const MetricLabel& label) {
      if (!first) text_ += ',';
      first = false;
      text_ += label.first;
      text_ += "=\"";
      append_escaped(text_, label.second, /*in_label=*/true);
      text_ += '"';
    };
    for (const MetricLabel& label : labels)
      write_label(label);
    if (extra_label) write_label(*extra_label);
    text_ += '}';
  }
  text_ += ' ';
  append_number(text_, value);
  text_ += '\n';
}

PrometheusText& PrometheusText::sample(double value, std::span<const MetricLabel> labels) {
  write_sample("", value, labels, std::nullopt);
  return *this;
}

PrometheusText& PrometheusText::samples_by(std::string_view label,
                                           std::span<const LabelledCount> counts) {
  for (const LabelledCount& count : counts) {
    const MetricLabel labels[] = {{label, count.label_value}};
    sample(static_cast<double>(count.value), labels);
  }
  return *this;
}

PrometheusText& PrometheusText::counter(std::string_view name, std::string_view help,
                                        std::uint64_t value) {
  return family(name, MetricType::counter, help).sample(static_cast<double>(value));
}

PrometheusText& PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
  return family(name, MetricType::gauge, help).sample(value);
}

PrometheusText& PrometheusText::histogram(std::string_view name, std::string_view help,
                                          const Histogram::Snapshot& histogram) {
  family(name, MetricType::histogram, help);
  for (std::size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    std::string bound;
    append_number(bound, histogram.upper_bounds[i]);
    write_sample("_bucket", static_cast<double>(histogram.cumulative_counts[i]), {},
                 MetricLabel{"le", bound});
  }
  write_sample("_bucket", static_cast<double>(histogram.count), {}, MetricLabel{"le", "+Inf"});
  write_sample("_sum", histogram.sum, {}, std::nullopt);
  write_sample("_count", static_cast<double>(histogram.count), {}, std::nullopt);
  return *this;
}

}  // namespace tickwire::net
