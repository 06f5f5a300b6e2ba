#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {

std::string ReplicatorConfig::validate() const {
  if (!(tick_rate_hz >= 1 && tick_rate_hz <= 1000)) {
    return "tick_rate_hz = " + std::to_string(tick_rate_hz) + " is invalid: use 1..1000";
  }
  if (!(snapshot_rate_hz > 0 && snapshot_rate_hz <= tick_rate_hz)) {
    return "snapshot_rate_hz = " + std::to_string(snapshot_rate_hz) +
           " is invalid: use more than 0 and at most tick_rate_hz";
  }
  if (history < 2 || history > 1024) {
    return "history = " + std::to_string(history) + " is invalid: use 2..1024";
  }
  if (max_snapshot_bytes != 0 && max_snapshot_bytes < 64) {
    return "max_snapshot_bytes = " + std::to_string(max_snapshot_bytes) +
           " is invalid: use 0 (no limit) or >= 64";
  }
  if (max_entities < 1) return "max_entities = 0 is invalid: use >= 1";
  if (input_redundancy < 1 || input_redundancy > 64) {
    return "input_redundancy = " + std::to_string(input_redundancy) + " is invalid: use 1..64";
  }
  if (max_input_bytes < 1 || max_input_bytes > 4096) {
    return "max_input_bytes = " + std::to_string(max_input_bytes) + " is invalid: use 1..4096";
  }
  if (max_input_lead < 1) return "max_input_lead = 0 is invalid: use >= 1";
  if (encode_threads < 1 || encode_threads > 64) {
    return "encode_threads = " + std::to_string(encode_threads) + " is invalid: use 1..64";
  }
  return {};
}

}  // namespace tickwire::sim
