#pragma once
// Per-player limits on how fast requests may come: a token bucket, and the strike count that
// turns a flood into a disconnect (error replies first, so that a well-meaning client can slow
// down; a client that ignores them is closed with 1008).

#include <chrono>
#include <cstddef>

namespace tickwire::net::lobby_detail {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(std::size_t burst, double per_second, Clock::time_point now)
      : burst_(static_cast<double>(burst)), per_second_(per_second), tokens_(burst_), last_(now) {}

  // Takes one token if there is one.
  bool try_take(Clock::time_point now) { return try_take(now, 1.0); }
  // Takes `amount` tokens if there are that many; an amount over the burst takes a full bucket.
  bool try_take(Clock::time_point now, double amount);

 private:
  double burst_;
  double per_second_;
  double tokens_;
  Clock::time_point last_;
};

class FloodGuard {
 public:
  FloodGuard(std::size_t burst, double per_second, std::size_t strikes_to_disconnect,
             TokenBucket::Clock::time_point now)
      : bucket_(burst, per_second, now), strikes_to_disconnect_(strikes_to_disconnect) {}

  enum class Verdict { allow, refuse, disconnect };
  // One more message: allow it, refuse it with an error, or (after too many refusals in a row)
  // disconnect its sender.
  Verdict check(TokenBucket::Clock::time_point now);

 private:
  TokenBucket bucket_;
  std::size_t strikes_to_disconnect_;
  std::size_t strikes_ = 0;
};

}  // namespace tickwire::net::lobby_detail
