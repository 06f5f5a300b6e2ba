#include "config_error.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {

Status ReplicatorConfig::validate() const {
  using detail::invalid_field;
  if (!(tick_rate_hz >= 1 && tick_rate_hz <= 1000))
    return invalid_field("tick_rate_hz", tick_rate_hz, "1..1000");
  if (!(snapshot_rate_hz > 0 && snapshot_rate_hz <= tick_rate_hz)) {
    return invalid_field("snapshot_rate_hz", snapshot_rate_hz,
                         "more than 0 and at most tick_rate_hz");
  }
  if (history < 2 || history > 1024) return invalid_field("history", history, "2..1024");
  if (max_snapshot_bytes != 0 && max_snapshot_bytes < 64)
    return invalid_field("max_snapshot_bytes", max_snapshot_bytes, "0 (no limit) or >= 64");
  if (max_entities < 1) return invalid_field("max_entities", max_entities, ">= 1");
  if (input_redundancy < 1 || input_redundancy > 64)
    return invalid_field("input_redundancy", input_redundancy, "1..64");
  if (max_input_bytes < 1 || max_input_bytes > 4096)
    return invalid_field("max_input_bytes", max_input_bytes, "1..4096");
  if (max_input_lead < 1) return invalid_field("max_input_lead", max_input_lead, ">= 1");
  if (encode_threads < 1 || encode_threads > 64)
    return invalid_field("encode_threads", encode_threads, "1..64");
  return {};
}

}  // namespace tickwire::sim
