#include "tickwire/sim/interpolation.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "config_error.hpp"

namespace tickwire::sim {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;
// How quickly the arrival-time estimates follow new samples (exponential moving averages).
constexpr double kArrivalOffsetGain = 0.05;
constexpr double kArrivalJitterGain = 0.1;

}  // namespace

Status InterpolationConfig::validate() const {
  using detail::invalid_field;
  if (!(tick_rate_hz > 0)) return invalid_field("tick_rate_hz", tick_rate_hz, "> 0");
  if (!(snapshot_rate_hz > 0) || snapshot_rate_hz > tick_rate_hz) {
    return invalid_field("snapshot_rate_hz", snapshot_rate_hz,
                         "more than 0 and at most tick_rate_hz");
  }
  if (!(delay_intervals >= 1)) return invalid_field("delay_intervals", delay_intervals, ">= 1");
  if (!(jitter_margin >= 0)) return invalid_field("jitter_margin", jitter_margin, ">= 0");
  if (!(max_extrapolation_seconds >= 0))
    return invalid_field("max_extrapolation_seconds", max_extrapolation_seconds, ">= 0");
  if (capacity < 2) return invalid_field("capacity", capacity, ">= 2");
  return {};
}

Interpolator::Interpolator(EntitySchema schema, InterpolationConfig config)
    : schema_(std::move(schema)), config_(config) {}

Result<std::unique_ptr<Interpolator>> Interpolator::create(EntitySchema schema,
                                                           InterpolationConfig config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  if (Status valid = schema.validate(); !valid.ok())
    return Status::error("entity schema: " + valid.message());
  // make_unique cannot reach the private constructor.
  return std::unique_ptr<Interpolator>(new Interpolator(std::move(schema), config));
}

void Interpolator::add(WireTick tick, const WorldState& state, double arrival_seconds) {
  if (!snapshots_.empty() && tick <= snapshots_.back().tick) return;  // late or duplicate
  const double sample = arrival_seconds - tick / config_.tick_rate_hz;
  if (!have_offset_) {
    offset_ = sample;
    have_offset_ = true;
  } else {
    // A snapshot that arrives earlier than expected shows the path is faster than thought:
    // follow it at once; later ones only slowly (they are the jitter the delay absorbs).
    const double deviation = sample - offset_;
    jitter_ += kArrivalJitterGain * (std::abs(deviation) - jitter_);
    offset_ = deviation < 0 ? sample : offset_ + kArrivalOffsetGain * deviation;
  }
  snapshots_.push_back({tick, state});
  while (snapshots_.size() > config_.capacity)
    snapshots_.pop_front();
}

double Interpolator::delay_seconds() const {
  return config_.delay_intervals / config_.snapshot_rate_hz + config_.jitter_margin * jitter_;
}

const std::vector<Interpolator::Entity>& Interpolator::sample(double now_seconds) {
  out_.clear();
  extrapolated_seconds_ = 0;
  if (snapshots_.empty()) return out_;
  const double render_tick = (now_seconds - offset_ - delay_seconds()) * config_.tick_rate_hz;
  const Stored& newest = snapshots_.back();
  buffered_seconds_ = (newest.tick - render_tick) / config_.tick_rate_hz;
  if (render_tick >= newest.tick) {
    extrapolated_seconds_ = std::min((render_tick - newest.tick) / config_.tick_rate_hz,
                                     config_.max_extrapolation_seconds);
    extrapolate(newest, extrapolated_seconds_);
    return out_;
  }
  if (render_tick <= snapshots_.front().tick) {
    extrapolate(snapshots_.front(), 0);
    return out_;
  }
  // The two snapshots around the render time.
  const auto after = std::upper_bound(
      snapshots_.begin(), snapshots_.end(), render_tick,
      [](double tick, const Stored& stored) { return tick < static_cast<double>(stored.tick); });
  const Stored& to = *after;
  const Stored& from = *(after - 1);
  blend(from, to, (render_tick - from.tick) / static_cast<double>(to.tick - from.tick));
  return out_;
}

void Interpolator::blend(const Stored& from, const Stored& to, double t) {
  for (std::size_t i = 0; i < from.state.size(); ++i) {
    const WorldState::Entity a = from.state.at(i);
    const auto b = to.state.find(a.id);
    Entity entity{a.id, a.type, std::vector<double>(a.fields.size())};
    const bool both = b && b->type == a.type;
    for (std::size_t f = 0; f < a.fields.size(); ++f) {
      const double x = schema_.dequantize(a.type, f, a.fields[f]);
      if (!both) {
        entity.values[f] = x;  // leaving: shown as last seen until the later snapshot is reached
        continue;
      }
      const double y = schema_.dequantize(a.type, f, b->fields[f]);
      switch (schema_.type(a.type).fields[f].kind) {
        case FieldKind::real:
          entity.values[f] = x + (y - x) * t;
          break;
        case FieldKind::angle: {
          const double turn = std::remainder(y - x, kTwoPi);  // the short way round
          const double angle = std::fmod(x + turn * t, kTwoPi);
          entity.values[f] = angle < 0 ? angle + kTwoPi : angle;
          break;
        }
        case FieldKind::integer:
        case FieldKind::boolean:
          entity.values[f] = x;  // discrete values change when the later snapshot is reached
          break;
      }
    }
    out_.push_back(std::move(entity));
  }
}

void Interpolator::extrapolate(const Stored& from, double elapsed_seconds) {
  std::uint32_t predicted[EntitySchema::kMaxFields];
  for (std::size_t i = 0; i < from.state.size(); ++i) {
    const WorldState::Entity e = from.state.at(i);
    Entity entity{e.id, e.type, std::vector<double>(e.fields.size())};
    schema_.predict(e.type, e.fields, elapsed_seconds, std::span(predicted, e.fields.size()));
    for (std::size_t f = 0; f < e.fields.size(); ++f) {
      entity.values[f] = schema_.dequantize(e.type, f, predicted[f]);
    }
    out_.push_back(std::move(entity));
  }
}

}  // namespace tickwire::sim
