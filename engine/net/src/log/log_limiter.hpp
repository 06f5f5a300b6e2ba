#pragma once
// Holds back log lines that an attacker can trigger at will (a bad ticket per handshake, a
// connection per second): a token bucket of `burst` lines refilled at `per_second` lines a second.
// The lines held back are counted, and the next line let through is preceded by one
// "suppressed N similar messages" line. Use one limiter per kind of line (per category and
// reason), owned by what logs it, on one thread. Pure: the caller gives the time.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "tickwire/net/log.hpp"

namespace tickwire::net::detail {

class LogLimiter {
 public:
  struct Limits {
    std::uint32_t burst = 5;       // lines written at once before the limit applies
    std::uint32_t per_second = 1;  // lines a second after that
  };

  LogLimiter() : LogLimiter(Limits{}) {}
  explicit LogLimiter(Limits limits);

  struct Admission {
    bool write = false;            // the line may be written
    std::uint64_t suppressed = 0;  // when it may: lines held back since the last one written
  };
  // Takes a token at `now_ms` (a steady clock in milliseconds), or counts the line as held back.
  Admission admit(std::uint64_t now_ms);

  // Lines held back and not yet reported.
  std::uint64_t pending_suppressed() const { return suppressed_; }

 private:
  Limits limits_;
  double tokens_;
  std::uint64_t last_ms_ = 0;
  bool started_ = false;
  std::uint64_t suppressed_ = 0;
};

// Logs the message `make()` builds, unless the level is filtered out (then `make` is not called
// and nothing is counted) or `limiter` holds it back.
template <class MakeMessage>
void log_limited(LogLimiter& limiter, std::uint64_t now_ms, LogLevel level,
                 std::string_view category, MakeMessage&& make) {
  if (!log_enabled(level)) return;
  const LogLimiter::Admission admission = limiter.admit(now_ms);
  if (!admission.write) return;
  if (admission.suppressed > 0) {
    log(level, category,
        "suppressed " + std::to_string(admission.suppressed) + " similar messages");
  }
  const std::string message = std::forward<MakeMessage>(make)();
  log(level, category, message);
}

// Milliseconds of a steady clock, for limiters whose owner keeps no clock of its own.
std::uint64_t steady_now_ms();

}  // namespace tickwire::net::detail
