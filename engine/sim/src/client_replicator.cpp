// The client side of replication: decode snapshots against the baseline the server chose, keep
// a short history of them, acknowledge the newest, and send inputs until they are applied.

#include <cassert>

#include "input_codec.hpp"
#include "sim_messages.hpp"
#include "snapshot_codec.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {

ClientReplicator::ClientReplicator(EntitySchema schema, ReplicatorConfig config)
    : schema_(std::move(schema)), config_(config), history_(config.history) {}

ClientReplicator::~ClientReplicator() = default;

Result<std::unique_ptr<ClientReplicator>> ClientReplicator::create(EntitySchema schema,
                                                                   ReplicatorConfig config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  if (Status valid = schema.validate(); !valid.ok())
    return Status::error("entity schema: " + valid.message());
  // make_unique cannot reach the private constructor.
  return std::unique_ptr<ClientReplicator>(new ClientReplicator(std::move(schema), config));
}

const WorldState& ClientReplicator::latest() const {
  const WorldState* state = at(latest_tick_);
  return state != nullptr ? *state : empty_;
}

const WorldState* ClientReplicator::at(WireTick tick) const {
  if (tick == 0) return nullptr;
  const Received& received = history_[tick % history_.size()];
  return received.tick == tick ? &received.state : nullptr;
}

bool ClientReplicator::on_message(std::span<const std::byte> message) {
  ++counters_.messages;
  // A snapshot body is bounded by the budget; without one, by what a decoder will accept.
  const std::size_t max_size =
      config_.max_snapshot_bytes != 0 ? config_.max_snapshot_bytes + 128 : std::size_t{64} << 20;
  std::optional<schemas::AlignedView> view;
  const schemas::SimMessage* parsed = detail::verified_sim_message(message, max_size, 8, view);
  const schemas::Snapshot* snapshot = parsed != nullptr ? parsed->body_as_Snapshot() : nullptr;
  if (snapshot == nullptr || snapshot->tick() == 0) {
    ++counters_.malformed;
    return false;
  }
  if (snapshot->tick() <= latest_tick_) {
    ++counters_.stale;
    return false;
  }
  const WorldState* baseline = &empty_;
  double elapsed = 0;  // ticks from the baseline to this snapshot
  if (snapshot->baseline_tick() != 0) {
    if (snapshot->baseline_tick() >= snapshot->tick()) {
      ++counters_.malformed;
      return false;
    }
    elapsed = snapshot->tick() - snapshot->baseline_tick();
    baseline = at(snapshot->baseline_tick());
    if (baseline == nullptr) {
      ++counters_.missing_baseline;
      return false;
    }
  }
  const auto* body = snapshot->body();
  const std::span<const std::uint8_t> bits =
      body != nullptr ? std::span(body->data(), body->size()) : std::span<const std::uint8_t>();
  std::optional<WorldState> state = detail::decode_snapshot(
      schema_, *baseline, elapsed / config_.tick_rate_hz, bits, config_.max_entities);
  if (!state) {
    ++counters_.malformed;
    return false;
  }
  history_[snapshot->tick() % history_.size()] = {snapshot->tick(), std::move(*state)};
  latest_tick_ = snapshot->tick();
  if (snapshot->last_input_tick() > last_applied_input_) {
    last_applied_input_ = snapshot->last_input_tick();
    std::erase_if(pending_inputs_,
                  [this](const auto& input) { return input.first <= last_applied_input_; });
  }
  return true;
}

void ClientReplicator::add_input(WireTick tick, std::span<const std::byte> payload) {
  assert(pending_inputs_.empty() || tick > pending_inputs_.back().first);
  assert(payload.size() <= config_.max_input_bytes);
  pending_inputs_.emplace_back(tick, std::vector<std::byte>(payload.begin(), payload.end()));
  // Inputs the server never acknowledges (it is gone, or far behind) are not kept forever.
  const std::size_t keep = 2 * std::size_t{config_.max_input_lead};
  if (pending_inputs_.size() > keep) {
    pending_inputs_.erase(
        pending_inputs_.begin(),
        pending_inputs_.begin() + static_cast<long>(pending_inputs_.size() - keep));
  }
}

std::vector<std::byte> ClientReplicator::update_message() const {
  // The newest run of consecutive ticks, at most input_redundancy of them.
  std::size_t first = pending_inputs_.size();
  while (first > 0 && pending_inputs_.size() - first < config_.input_redundancy &&
         (first == pending_inputs_.size() ||
          pending_inputs_[first - 1].first + 1 == pending_inputs_[first].first)) {
    --first;
  }
  return detail::encode_client_update(
      latest_tick_, std::span(pending_inputs_).subspan(first, pending_inputs_.size() - first));
}

}  // namespace tickwire::sim
