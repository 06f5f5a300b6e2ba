#include "lobby/rate_limiter.hpp"

#include <algorithm>

namespace tickwire::net::lobby_detail {

bool TokenBucket::try_take(Clock::time_point now, double amount) {
  const std::chrono::duration<double> elapsed = now - last_;
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * per_second_);
  amount = std::min(amount, burst_);
  if (tokens_ < amount) return false;
  tokens_ -= amount;
  return true;
}

FloodGuard::Verdict FloodGuard::check(TokenBucket::Clock::time_point now) {
  if (bucket_.try_take(now)) {
    strikes_ = 0;
    return Verdict::allow;
  }
  ++strikes_;
  return strikes_ >= strikes_to_disconnect_ ? Verdict::disconnect : Verdict::refuse;
}

}  // namespace tickwire::net::lobby_detail
