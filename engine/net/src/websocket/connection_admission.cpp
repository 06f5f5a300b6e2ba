#include "websocket/connection_admission.hpp"

#include <algorithm>

namespace tickwire::net::websocket_detail {

void ConnectionAdmission::forget_if_unused(std::map<std::string, PerAddress>::iterator it) {
  if (it->second.pending == 0 && it->second.open == 0) addresses_.erase(it);
}

bool ConnectionAdmission::take_rate_token(const std::string& address, std::uint64_t now_ms) {
  const double burst = static_cast<double>(limits_.connection_burst_per_address);
  if (rates_.size() >= kMaxRateAddresses && !rates_.contains(address)) rates_.clear();
  const auto [it, added] = rates_.try_emplace(address, RateBucket{burst, now_ms});
  RateBucket& bucket = it->second;
  if (!added && now_ms > bucket.updated_ms) {
    const double elapsed_s = static_cast<double>(now_ms - bucket.updated_ms) / 1000.0;
    bucket.tokens =
        std::min(burst, bucket.tokens + elapsed_s * limits_.connections_per_address_per_second);
    bucket.updated_ms = now_ms;
  }
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

ConnectionAdmission::Arrival ConnectionAdmission::begin_handshake(const std::string& address,
                                                                  std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (shutting_down_ || pending_ >= limits_.max_pending_handshakes) {
    return Arrival::too_many_pending;
  }
  if (!take_rate_token(address, now_ms)) return Arrival::too_fast;
  PerAddress& counts = addresses_[address];
  if (counts.pending >= limits_.max_connections_per_address) {
    forget_if_unused(addresses_.find(address));
    return Arrival::too_many_pending;
  }
  ++counts.pending;
  ++pending_;
  return Arrival::accepted;
}

void ConnectionAdmission::end_handshake(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = addresses_.find(address);
  if (it == addresses_.end() || it->second.pending == 0) return;
  --it->second.pending;
  --pending_;
  forget_if_unused(it);
}

ConnectionAdmission::Verdict ConnectionAdmission::admit_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return Verdict::shutting_down;
  PerAddress& counts = addresses_[address];
  if (open_ >= limits_.max_connections || counts.open >= limits_.max_connections_per_address) {
    forget_if_unused(addresses_.find(address));
    return Verdict::server_full;
  }
  ++counts.open;
  ++open_;
  return Verdict::admitted;
}

void ConnectionAdmission::release_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = addresses_.find(address);
  if (it == addresses_.end() || it->second.open == 0) return;
  --it->second.open;
  --open_;
  forget_if_unused(it);
}

void ConnectionAdmission::shut_down() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
}

}  // namespace tickwire::net::websocket_detail
