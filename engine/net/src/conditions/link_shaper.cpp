#include "conditions/link_shaper.hpp"

#include <algorithm>
#include <string>

namespace tickwire::net {
namespace conditions_detail {

bool LinkShaper::chance(double probability) {
  if (probability <= 0) return false;
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_) < probability;
}

std::uint64_t LinkShaper::one_delay_us() {
  double delay_ms = conditions_.latency_ms;
  if (conditions_.jitter_ms > 0) {
    delay_ms += std::uniform_real_distribution<double>(-conditions_.jitter_ms,
                                                       conditions_.jitter_ms)(random_);
  }
  return static_cast<std::uint64_t>(std::max(0.0, delay_ms) * 1000.0);
}

Fate LinkShaper::decide(bool can_lose) {
  Fate fate;
  if (can_lose && chance(conditions_.loss)) {
    fate.dropped = true;
    return fate;
  }
  fate.copies = can_lose && chance(conditions_.duplicate) ? 2 : 1;
  for (int i = 0; i < fate.copies; ++i)
    fate.delay_us[i] = one_delay_us();
  if (can_lose && chance(conditions_.reorder)) {
    // Held back by up to one more latency (at least 5 ms), so datagrams sent after it overtake.
    const double hold_ms = std::max(5.0, conditions_.latency_ms + conditions_.jitter_ms);
    fate.delay_us[0] += static_cast<std::uint64_t>(
        std::uniform_real_distribution<double>(0.5, 1.0)(random_) * hold_ms * 1000.0);
    fate.reordered = true;
  }
  return fate;
}

}  // namespace conditions_detail

namespace {
Status probability_error(const char* field, double value) {
  return Status::error(std::string(field) + " = " + std::to_string(value) +
                       " is invalid: a probability is 0..1");
}
}  // namespace

Status LinkConditions::validate() const {
  if (!(latency_ms >= 0)) {
    return Status::error("latency_ms = " + std::to_string(latency_ms) + " is invalid: use >= 0");
  }
  if (!(jitter_ms >= 0) || jitter_ms > latency_ms) {
    return Status::error(
        "jitter_ms = " + std::to_string(jitter_ms) +
        " is invalid: use 0..latency_ms (a datagram cannot arrive before it is sent)");
  }
  if (!(loss >= 0 && loss <= 1)) return probability_error("loss", loss);
  if (!(duplicate >= 0 && duplicate <= 1)) return probability_error("duplicate", duplicate);
  if (!(reorder >= 0 && reorder <= 1)) return probability_error("reorder", reorder);
  return {};
}

Status NetworkConditions::validate() const {
  if (Status status = client_to_server.validate(); !status.ok()) {
    return Status::error("client_to_server." + status.message());
  }
  if (Status status = server_to_client.validate(); !status.ok()) {
    return Status::error("server_to_client." + status.message());
  }
  return {};
}

}  // namespace tickwire::net
