#include "tickwire/sim/lag_compensation.hpp"

#include <algorithm>
#include <cmath>

#include "config_error.hpp"

namespace tickwire::sim {

Status HitHistoryConfig::validate() const {
  using detail::invalid_field;
  // Negated comparisons: NaN fails them all.
  if (!(tick_rate_hz >= 1 && tick_rate_hz <= 1000))
    return invalid_field("tick_rate_hz", tick_rate_hz, "1..1000");
  if (!(max_rewind_seconds >= 0 && max_rewind_seconds <= 1))
    return invalid_field("max_rewind_seconds", max_rewind_seconds, "0..1 (seconds)");
  return {};
}

Result<HitHistory> HitHistory::create(const HitHistoryConfig& config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  return HitHistory(config);
}

HitHistory::HitHistory(const HitHistoryConfig& config)
    : max_rewind_ticks_(config.max_rewind_seconds * config.tick_rate_hz) {}

void HitHistory::record(std::uint64_t tick, std::vector<HitCircle> volumes) {
  std::sort(volumes.begin(), volumes.end(),
            [](const HitCircle& a, const HitCircle& b) { return a.id < b.id; });
  frames_.push_back({tick, std::move(volumes)});
  // Keep what the cap can reach, and one frame before it to interpolate from.
  while (frames_.size() > 2 &&
         static_cast<double>(frames_[1].tick) + max_rewind_ticks_ < static_cast<double>(tick)) {
    spare_ = std::move(frames_.front().volumes);
    frames_.pop_front();
  }
}

std::vector<HitCircle> HitHistory::recycled() {
  std::vector<HitCircle> volumes = std::move(spare_);
  spare_ = {};
  volumes.clear();
  return volumes;
}

double HitHistory::rewind_tick(double view_tick, std::uint64_t now_tick) const {
  const double now = static_cast<double>(now_tick);
  return std::clamp(view_tick, now - max_rewind_ticks_, now);
}

template <typename Visit>
void HitHistory::for_each_volume_at(double tick, Visit&& visit) const {
  if (frames_.empty()) return;
  const auto visit_all = [&](const Frame& frame) {
    for (const HitCircle& c : frame.volumes)
      visit(c);
  };
  if (tick <= static_cast<double>(frames_.front().tick)) return visit_all(frames_.front());
  if (tick >= static_cast<double>(frames_.back().tick)) return visit_all(frames_.back());
  const auto after =
      std::upper_bound(frames_.begin(), frames_.end(), tick,
                       [](double t, const Frame& f) { return t < static_cast<double>(f.tick); });
  const Frame& to = *after;
  const Frame& from = *(after - 1);
  const double t =
      (tick - static_cast<double>(from.tick)) / static_cast<double>(to.tick - from.tick);
  // Both frames are sorted by id: one walk pairs them. Every shot asks, so nothing is copied.
  auto b = to.volumes.begin();
  for (const HitCircle& a : from.volumes) {
    while (b != to.volumes.end() && b->id < a.id)
      ++b;
    // Only entities present at both ends are interpolated; one that appears or vanishes in
    // between counts from the frame it is in.
    if (b == to.volumes.end() || b->id != a.id) {
      if (t < 0.5) visit(a);
      continue;
    }
    visit(HitCircle{a.id, a.x + (b->x - a.x) * t, a.y + (b->y - a.y) * t,
                    a.radius + (b->radius - a.radius) * t});
  }
}

std::optional<RayHit> HitHistory::raycast(double view_tick, std::uint64_t now_tick, double x,
                                          double y, double dx, double dy, double range,
                                          EntityId shooter) const {
  const double length = std::hypot(dx, dy);
  if (!(length > 0)) return std::nullopt;
  dx /= length;
  dy /= length;
  const double tick = rewind_tick(view_tick, now_tick);
  std::optional<RayHit> best;
  for_each_volume_at(tick, [&](const HitCircle& c) {
    if (c.id == shooter) return;
    // Solve |o + s d - c| = r for the smallest s >= 0.
    const double ox = x - c.x, oy = y - c.y;
    const double b = ox * dx + oy * dy;
    const double q = ox * ox + oy * oy - c.radius * c.radius;
    const double disc = b * b - q;
    if (disc < 0) return;
    double s = -b - std::sqrt(disc);
    if (s < 0) s = q <= 0 ? 0 : -b + std::sqrt(disc);  // starting inside the circle
    if (s < 0 || s > range) return;
    if (!best || s < best->distance) best = RayHit{c.id, s, tick};
  });
  return best;
}

}  // namespace tickwire::sim
