#pragma once
// A token bucket per source address for connection attempts. Its table is bounded: when full, the
// entries that have refilled completely (and so carry no information) are forgotten first, and if
// none has, new addresses are refused until one does, so a flood from spoofed addresses can grow
// neither memory nor the number of handshakes it starts.

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace tickwire::net::enet_detail {

class ConnectRateLimiter {
 public:
  ConnectRateLimiter(std::uint32_t burst, double rate_per_second, std::size_t max_addresses);

  // True if `address` may start a connection attempt at `now_ms`; takes one token if so.
  bool allow(std::uint32_t address, std::uint64_t now_ms);

  std::size_t tracked_addresses() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    std::uint64_t updated_ms;
  };
  void refill(Bucket& bucket, std::uint64_t now_ms) const;
  void forget_full_buckets(std::uint64_t now_ms);

  // Sweeping the table is linear, so a flood of new addresses may trigger it only this often.
  static constexpr std::uint64_t kSweepIntervalMs = 100;

  double burst_;
  double rate_per_ms_;
  std::size_t max_addresses_;
  std::uint64_t last_sweep_ms_ = 0;
  std::unordered_map<std::uint32_t, Bucket> buckets_;
};

}  // namespace tickwire::net::enet_detail
