#include "tickwire/sim/clock_sync.hpp"

#include <algorithm>
#include <cmath>

#include "config_error.hpp"

namespace tickwire::sim {
namespace {

constexpr double kOffsetGain = 0.02;  // how fast the offset creeps up after a slow period
constexpr double kJitterGain = 0.1;
constexpr double kRttGain = 0.1;
// Speed correction per tick of error (before the max_speed_adjust cap).
constexpr double kSpeedPerTickOfError = 0.02;

}  // namespace

Status ClockSyncConfig::validate() const {
  using detail::invalid_field;
  if (!(tick_rate_hz > 0)) return invalid_field("tick_rate_hz", tick_rate_hz, "> 0");
  if (!(safety_ticks >= 0)) return invalid_field("safety_ticks", safety_ticks, ">= 0");
  if (!(jitter_margin >= 0)) return invalid_field("jitter_margin", jitter_margin, ">= 0");
  if (!(max_speed_adjust > 0 && max_speed_adjust < 1))
    return invalid_field("max_speed_adjust", max_speed_adjust, "more than 0 and less than 1");
  if (!(jump_ticks > 1)) return invalid_field("jump_ticks", jump_ticks, "> 1");
  return {};
}

ClockSync::ClockSync(ClockSyncConfig config) : config_(config) {}

Result<ClockSync> ClockSync::create(ClockSyncConfig config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  return ClockSync(config);
}

void ClockSync::on_snapshot(WireTick tick, double now_seconds, double rtt_seconds) {
  const double sample = now_seconds - tick / config_.tick_rate_hz;
  if (samples_++ == 0) {
    offset_ = sample;
    rtt_ = rtt_seconds;
    return;
  }
  rtt_ += kRttGain * (rtt_seconds - rtt_);
  const double deviation = sample - offset_;
  jitter_ += kJitterGain * (std::abs(deviation) - jitter_);
  // The fastest arrivals show the true offset; slower ones are jitter. Follow faster ones at
  // once, slower ones slowly (the path may really have become slower).
  offset_ = deviation < 0 ? sample : offset_ + kOffsetGain * deviation;
}

double ClockSync::server_tick(double now_seconds) const {
  // A snapshot left the server about half a round trip before it arrived.
  return (now_seconds - offset_ + rtt_ / 2) * config_.tick_rate_hz;
}

double ClockSync::lead_ticks() const {
  return (rtt_ / 2 + config_.jitter_margin * jitter_) * config_.tick_rate_hz + config_.safety_ticks;
}

double ClockSync::time_scale(double now_seconds, double client_tick) const {
  if (!synced()) return 1.0;
  const double error = target_tick(now_seconds) - client_tick;
  return 1.0 + std::clamp(error * kSpeedPerTickOfError, -config_.max_speed_adjust,
                          config_.max_speed_adjust);
}

bool ClockSync::needs_jump(double now_seconds, double client_tick) const {
  return synced() && std::abs(target_tick(now_seconds) - client_tick) > config_.jump_ticks;
}

}  // namespace tickwire::sim
