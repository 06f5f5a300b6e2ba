#include "tickwire/sim/fixed_tick.hpp"

#include "config_error.hpp"

namespace tickwire::sim {

Status FixedTickConfig::validate() const {
  if (!(tick_rate_hz >= 1.0 && tick_rate_hz <= 1000.0))
    return detail::invalid_field("tick_rate_hz", tick_rate_hz, "1..1000");
  if (max_ticks_per_frame < 1)
    return detail::invalid_field("max_ticks_per_frame", max_ticks_per_frame, ">= 1");
  return {};
}

Result<FixedTickClock> FixedTickClock::create(const FixedTickConfig& config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  return FixedTickClock(config);
}

FixedTickClock::FixedTickClock(const FixedTickConfig& config)
    : tick_duration_(std::chrono::nanoseconds(
          static_cast<std::int64_t>(1'000'000'000.0 / config.tick_rate_hz))),
      max_ticks_per_frame_(config.max_ticks_per_frame) {}

std::uint32_t FixedTickClock::advance(std::chrono::nanoseconds frame_time) {
  if (frame_time.count() > 0) accumulator_ += frame_time;
  const auto due = accumulator_ / tick_duration_;
  std::uint32_t ticks = static_cast<std::uint32_t>(
      due > static_cast<std::int64_t>(max_ticks_per_frame_) ? max_ticks_per_frame_ : due);
  accumulator_ -= ticks * tick_duration_;
  if (accumulator_ >= tick_duration_) {
    // Past the cap: keep less than one tick of debt so the next frame starts fresh.
    const auto excess = accumulator_ - accumulator_ % tick_duration_;
    dropped_ += excess;
    accumulator_ -= excess;
  }
  return ticks;
}

double FixedTickClock::alpha() const {
  return static_cast<double>(accumulator_.count()) / static_cast<double>(tick_duration_.count());
}

}  // namespace tickwire::sim
