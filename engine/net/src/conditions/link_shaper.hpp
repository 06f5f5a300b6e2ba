#pragma once
// Decides the fate of each datagram on one direction of a link: dropped, or delivered once or
// twice, and when. Shared by the in-memory loopback and the UDP relay so both mean the same thing
// by "50 ms ± 10 ms, 5 % loss".

#include <cstdint>
#include <random>

#include "tickwire/net/network_conditions.hpp"

namespace tickwire::net::conditions_detail {

struct Fate {
  bool dropped = false;
  bool reordered = false;
  int copies = 0;                      // 0 when dropped, 2 when duplicated
  std::uint64_t delay_us[2] = {0, 0};  // per copy, from now
};

class LinkShaper {
 public:
  LinkShaper(const LinkConditions& conditions, std::uint64_t seed)
      : conditions_(conditions), random_(seed) {}

  void set_conditions(const LinkConditions& conditions) { conditions_ = conditions; }
  const LinkConditions& conditions() const { return conditions_; }

  // `can_lose` is false for traffic that must not be lost or duplicated (the loopback's reliable
  // messages, which have no retransmission beneath them); such traffic only gets delay.
  Fate decide(bool can_lose = true);

 private:
  std::uint64_t one_delay_us();
  bool chance(double probability);

  LinkConditions conditions_;
  std::mt19937_64 random_;
};

}  // namespace tickwire::net::conditions_detail
