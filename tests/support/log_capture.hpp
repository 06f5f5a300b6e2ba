#pragma once
// A log sink for tests: installed for the capture's lifetime, it keeps every record (from any
// thread) for the test to look at, and puts the default sink back when it goes.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tickwire/net/log.hpp"

namespace tickwire::test {

class LogCapture {
 public:
  struct Record {
    net::LogLevel level;
    std::string category;
    std::string message;
  };

  explicit LogCapture(net::LogLevel min_level = net::LogLevel::debug) {
    net::set_log_sink(
        [this](const net::LogRecord& record) {
          std::lock_guard lock(mutex_);
          records_.push_back(
              {record.level, std::string(record.category), std::string(record.message)});
        },
        min_level);
  }
  ~LogCapture() { net::reset_log_sink(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  // The records of `category` whose message contains `text`.
  std::vector<Record> matching(std::string_view category, std::string_view text = {}) const {
    std::vector<Record> found;
    for (Record& record : records()) {
      if (record.category == category && record.message.find(text) != std::string::npos) {
        found.push_back(std::move(record));
      }
    }
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Record> records_;
};

}  // namespace tickwire::test
