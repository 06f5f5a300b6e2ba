#include "log/log_limiter.hpp"

#include <algorithm>
#include <chrono>

namespace tickwire::net::detail {

LogLimiter::LogLimiter(Limits limits) : limits_(limits), tokens_(limits.burst) {}

LogLimiter::Admission LogLimiter::admit(std::uint64_t now_ms) {
  if (!started_) {
    started_ = true;
    last_ms_ = now_ms;
  }
  if (now_ms > last_ms_) {
    const double refill = static_cast<double>(now_ms - last_ms_) * limits_.per_second / 1000.0;
    tokens_ = std::min<double>(limits_.burst, tokens_ + refill);
    last_ms_ = now_ms;
  }
  if (tokens_ < 1.0) {
    ++suppressed_;
    return {};
  }
  tokens_ -= 1.0;
  Admission admission{true, suppressed_};
  suppressed_ = 0;
  return admission;
}

std::uint64_t steady_now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace tickwire::net::detail
