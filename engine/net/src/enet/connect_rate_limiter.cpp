#include "enet/connect_rate_limiter.hpp"

#include <algorithm>

namespace tickwire::net::enet_detail {

ConnectRateLimiter::ConnectRateLimiter(std::uint32_t burst, double rate_per_second,
                                       std::size_t max_addresses)
    : burst_(burst), rate_per_ms_(rate_per_second / 1000.0), max_addresses_(max_addresses) {}

void ConnectRateLimiter::refill(Bucket& bucket, std::uint64_t now_ms) const {
  if (now_ms > bucket.updated_ms) {
    bucket.tokens = std::min(
        burst_, bucket.tokens + static_cast<double>(now_ms - bucket.updated_ms) * rate_per_ms_);
    bucket.updated_ms = now_ms;
  }
}

void ConnectRateLimiter::forget_full_buckets(std::uint64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now_ms);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
}

bool ConnectRateLimiter::allow(std::uint32_t address, std::uint64_t now_ms) {
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_addresses_) {
      if (now_ms < last_sweep_ms_ + kSweepIntervalMs) return false;
      last_sweep_ms_ = now_ms;
      forget_full_buckets(now_ms);
      if (buckets_.size() >= max_addresses_) return false;
    }
    it = buckets_.emplace(address, Bucket{burst_, now_ms}).first;
  }
  Bucket& bucket = it->second;
  refill(bucket, now_ms);
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

}  // namespace tickwire::net::enet_detail
