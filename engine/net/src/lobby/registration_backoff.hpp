#pragma once
// Per source address, failed game-server registrations lock the address out for a time that
// doubles with each failure (first_lockout, 2x, 4x ... up to max_lockout). An address that stays
// quiet for forget_after once its lockout ends starts afresh, and a success forgets it at once.
// Guessing is then hopeless (the key is not guessable anyway; this stops the cheap tries and the
// signature checks they cost), and it costs only the failing address: every other address
// registers as before. Time comes in as arguments, so tests drive it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace tickwire::net::lobby_detail {

class RegistrationBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::chrono::milliseconds first_lockout{1000};
    std::chrono::milliseconds max_lockout{600'000};
    std::chrono::milliseconds forget_after{3'600'000};
    // Addresses remembered at most: when full, the forgotten ones go, then the one whose
    // lockout ends first, so that many addresses cannot grow the table without bound.
    std::size_t max_addresses = 10'000;
  };

  explicit RegistrationBackoff(Limits limits) : limits_(limits) {}

  // How much longer `address` is locked out at `now`; zero when it may try.
  std::chrono::milliseconds locked_for(const std::string& address, Clock::time_point now) const;
  // Counts a failure from `address` at `now`; returns the lockout it starts.
  std::chrono::milliseconds fail(const std::string& address, Clock::time_point now);
  // A registration from `address` succeeded: its failures are forgotten.
  void succeed(const std::string& address) { records_.erase(address); }
  // Failures counted for `address` (0 once forgotten).
  std::uint32_t failures(const std::string& address, Clock::time_point now) const;
  std::size_t remembered() const { return records_.size(); }

 private:
  struct Record {
    std::uint32_t failures = 0;
    Clock::time_point locked_until;
  };
  bool forgotten(const Record& record, Clock::time_point now) const {
    return now >= record.locked_until + limits_.forget_after;
  }
  void make_room(Clock::time_point now);

  Limits limits_;
  std::unordered_map<std::string, Record> records_;
};

}  // namespace tickwire::net::lobby_detail
