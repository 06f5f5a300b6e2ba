#include "lobby/rate_limiter.hpp"

#include <algorithm>

namespace tickwire::net::lobby_detail {

bool TokenBucket::try_take(Clock::time_point now) {
  const std::chrono::duration<double> elapsed = now - last_;
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed.count()) * per_second_);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
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
