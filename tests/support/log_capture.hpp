#pragma once
// A log sink for tests: installed for the capture's lifetime, it keeps every record (from any
// thread) for the test to look at, and puts the default sink back when it goes. The records live
// in shared state the sink holds, so that a thread still inside the old sink when the capture
// goes does not write into freed memory.

#include <memory>
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
        [state = state_](const net::LogRecord& record) {
          std::lock_guard lock(state->mutex);
          state->records.push_back(
              {record.level, std::string(record.category), std::string(record.message)});
        },
        min_level);
  }
  ~LogCapture() { net::reset_log_sink(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<Record> records() const {
    std::lock_guard lock(state_->mutex);
    return state_->records;
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
  struct State {
    std::mutex mutex;
    std::vector<Record> records;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace tickwire::test
