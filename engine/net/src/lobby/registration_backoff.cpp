#include "lobby/registration_backoff.hpp"

#include <algorithm>

namespace tickwire::net::lobby_detail {

std::chrono::milliseconds RegistrationBackoff::locked_for(const std::string& address,
                                                          Clock::time_point now) const {
  const auto found = records_.find(address);
  if (found == records_.end() || now >= found->second.locked_until) {
    return std::chrono::milliseconds(0);
  }
  // Rounded up: "locked for 0 ms" would read as a lie to the one refused.
  return std::chrono::ceil<std::chrono::milliseconds>(found->second.locked_until - now);
}

std::uint32_t RegistrationBackoff::failures(const std::string& address,
                                            Clock::time_point now) const {
  const auto found = records_.find(address);
  if (found == records_.end() || forgotten(found->second, now)) return 0;
  return found->second.failures;
}

std::chrono::milliseconds RegistrationBackoff::fail(const std::string& address,
                                                    Clock::time_point now) {
  auto found = records_.find(address);
  if (found == records_.end()) {
    make_room(now);
    found = records_.emplace(address, Record{}).first;
  } else if (forgotten(found->second, now)) {
    found->second = Record{};
  }
  Record& record = found->second;
  ++record.failures;
  // first_lockout * 2^(failures - 1), without overflow: doubling stops at the cap.
  std::chrono::milliseconds lockout = limits_.first_lockout;
  for (std::uint32_t i = 1; i < record.failures && lockout < limits_.max_lockout; ++i)
    lockout *= 2;
  lockout = std::min(lockout, limits_.max_lockout);
  record.locked_until = now + lockout;
  return lockout;
}

void RegistrationBackoff::make_room(Clock::time_point now) {
  if (records_.size() < limits_.max_addresses) return;
  std::erase_if(records_, [&](const auto& entry) { return forgotten(entry.second, now); });
  if (records_.size() < limits_.max_addresses || records_.empty()) return;
  const auto first_free = std::min_element(
      records_.begin(), records_.end(),
      [](const auto& a, const auto& b) { return a.second.locked_until < b.second.locked_until; });
  records_.erase(first_free);
}

}  // namespace tickwire::net::lobby_detail
