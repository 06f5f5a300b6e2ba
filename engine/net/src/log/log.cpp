// The installed log sink: a shared pointer swapped under a mutex, so that set_log_sink() may run
// while other threads log. The threshold beside it is an atomic, read before a message is built.

#include "tickwire/net/log.hpp"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace tickwire::net {
namespace detail {
std::atomic<std::uint8_t> g_log_threshold{static_cast<std::uint8_t>(LogLevel::warning)};
}  // namespace detail

namespace {

std::mutex& sink_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<const LogSink>& installed_sink() {
  static std::shared_ptr<const LogSink> sink =
      std::make_shared<const LogSink>(&write_log_to_stderr);
  return sink;
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "unknown";
}

void set_log_sink(LogSink sink, LogLevel min_level) {
  std::shared_ptr<const LogSink> next;
  if (sink && min_level != LogLevel::off) next = std::make_shared<const LogSink>(std::move(sink));
  const LogLevel threshold = next ? min_level : LogLevel::off;
  std::lock_guard lock(sink_mutex());
  installed_sink() = std::move(next);
  detail::g_log_threshold.store(static_cast<std::uint8_t>(threshold), std::memory_order_relaxed);
}

void reset_log_sink() {
  set_log_sink(&write_log_to_stderr, LogLevel::warning);
}

void write_log_to_stderr(const LogRecord& record) {
  // One fprintf per line: stdio locks the stream, so lines from several threads do not interleave.
  const std::string level(to_string(record.level));
  std::fprintf(stderr, "tickwire [%s] %.*s: %.*s\n", level.c_str(),
               static_cast<int>(record.category.size()), record.category.data(),
               static_cast<int>(record.message.size()), record.message.data());
}

void log(LogLevel level, std::string_view category, std::string_view message) {
  if (!log_enabled(level) || level == LogLevel::off) return;
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard lock(sink_mutex());
    sink = installed_sink();
  }
  // The threshold may have changed since the check above: the sink's own level decides.
  if (!sink ||
      static_cast<std::uint8_t>(level) < detail::g_log_threshold.load(std::memory_order_relaxed)) {
    return;
  }
  (*sink)(LogRecord{level, category, message});
}

}  // namespace tickwire::net
