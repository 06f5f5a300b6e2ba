// The server side of replication: per-client history of what each client was sent, priority
// accumulators, acknowledgements and buffered inputs.

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <iterator>

#include "input_codec.hpp"
#include "sim_messages.hpp"
#include "snapshot_codec.hpp"
#include "tickwire/sim/replicator.hpp"
#include "worker_pool.hpp"

namespace tickwire::sim {

struct ServerReplicator::Client {
  struct Sent {
    WireTick tick = 0;
    WorldState view;  // what the client holds if it received this snapshot
  };
  ClientId id = 0;
  ClientRole role = ClientRole::player;
  // Its snapshots go out this many ticks after snapshot_due()'s (clients_due()).
  std::uint32_t phase = 0;
  std::vector<Sent> history;
  WireTick acknowledged = 0;
  WireTick newest_sent = 0;
  WireTick last_applied_input = 0;
  // Priority of changes still waiting, in id order (the order priorities are asked for).
  std::vector<detail::EncodedSnapshot::Deferred> accumulated;
  // The last snapshot encoded, kept for its buffers (its view moves into the history).
  detail::EncodedSnapshot encoded;
  // Inputs not yet taken, in tick order. A sorted vector: there are a few at a time, they
  // arrive mostly in order and leave from the front, and a map allocated a node for each.
  struct PendingInput {
    WireTick tick = 0;
    std::vector<std::byte> payload;
  };
  std::vector<PendingInput> inputs;
  // Buffers of inputs taken or dropped, for the next ones to arrive.
  std::vector<std::vector<std::byte>> spare_payloads;
  detail::DecodedUpdate decoded;  // the last update read, kept for its buffers
  // The entities `interest` picked for the last snapshot, kept for their buffers.
  std::vector<std::uint32_t> interest_indices;
  std::vector<std::uint64_t> interest_marks;
  ClientStats stats;
};

class ServerReplicator::Workers : public detail::WorkerPool {
  using WorkerPool::WorkerPool;
};

ServerReplicator::ServerReplicator(EntitySchema schema, ReplicatorConfig config)
    : schema_(std::move(schema)), config_(config) {
  if (config_.encode_threads > 1) workers_ = std::make_unique<Workers>(config_.encode_threads);
}

ServerReplicator::~ServerReplicator() = default;

Result<std::unique_ptr<ServerReplicator>> ServerReplicator::create(EntitySchema schema,
                                                                   ReplicatorConfig config) {
  if (Status valid = config.validate(); !valid.ok()) return valid;
  if (Status valid = schema.validate(); !valid.ok())
    return Status::error("entity schema: " + valid.message());
  // make_unique cannot reach the private constructor.
  return std::unique_ptr<ServerReplicator>(new ServerReplicator(std::move(schema), config));
}

ServerReplicator::Client* ServerReplicator::find(ClientId client) const {
  const auto it = by_id_.find(client);
  return it == by_id_.end() ? nullptr : it->second;
}

void ServerReplicator::add_client(ClientId client, ClientRole role) {
  if (find(client) != nullptr) return;
  auto entry = std::make_unique<Client>();
  entry->id = client;
  entry->role = role;
  // The phase fewest clients have: joins and leaves keep the ticks' shares even.
  std::vector<std::size_t> used(phases(), 0);
  for (const auto& other : clients_)
    ++used[other->phase];
  entry->phase = static_cast<std::uint32_t>(
      std::distance(used.begin(), std::min_element(used.begin(), used.end())));
  entry->history.resize(config_.history);
  by_id_.emplace(client, entry.get());
  clients_.push_back(std::move(entry));
}

void ServerReplicator::remove_client(ClientId client) {
  by_id_.erase(client);
  std::erase_if(clients_, [client](const auto& entry) { return entry->id == client; });
}

std::uint32_t ServerReplicator::phases() const {
  // Whole ticks in a snapshot period: each phase is a tick of it (1 when every tick sends).
  return std::max<std::uint32_t>(
      1, static_cast<std::uint32_t>(std::floor(config_.tick_rate_hz / config_.snapshot_rate_hz)));
}

bool ServerReplicator::due_at(WireTick tick, std::uint32_t phase) const {
  // Tick t is due when it is the first tick at or after a snapshot time, shifted by the phase.
  if (tick <= phase) return false;
  const WireTick shifted = tick - phase;
  const double ticks_per_snapshot = config_.tick_rate_hz / config_.snapshot_rate_hz;
  const auto slot = [&](WireTick t) {
    return static_cast<std::uint64_t>(std::floor(t / ticks_per_snapshot));
  };
  return slot(shifted) != slot(shifted - 1);
}

bool ServerReplicator::snapshot_due(WireTick tick) const {
  return due_at(tick, 0);
}

void ServerReplicator::clients_due(WireTick tick, std::vector<ClientId>& due) const {
  for (const auto& client : clients_) {
    if (due_at(tick, client->phase)) due.push_back(client->id);
  }
}

std::vector<std::byte> ServerReplicator::snapshot_for(ClientId id, WireTick tick,
                                                      const WorldState& world) {
  std::vector<std::byte> message;
  write_snapshot(id, tick, world, message);
  return message;
}

void ServerReplicator::write_snapshot(ClientId id, WireTick tick, const WorldState& world,
                                      std::vector<std::byte>& message) {
  message.clear();
  Client* client = find(id);
  assert(client != nullptr && tick > client->newest_sent);
  if (client == nullptr) return;

  // What this client may see: indices into the world in increasing order, in the client's own
  // buffers (no allocation once they have grown; each client is encoded by one thread at a time).
  detail::EntitySelection target(world);
  if (interest) {
    std::vector<std::uint32_t>& indices = client->interest_indices;
    indices.clear();
    interest(id, world, indices);
    // A bit per entity of the world instead of a sort: marking and reading back a word at a
    // time is cheaper than sorting a hundred indices, and drops duplicates on the way.
    std::vector<std::uint64_t>& marks = client->interest_marks;
    const std::size_t entities = world.size();
    marks.assign((entities + 63) / 64, 0);
    for (const std::uint32_t i : indices) {
      if (i < entities) marks[i / 64] |= std::uint64_t{1} << (i % 64);
    }
    indices.clear();
    for (std::size_t word = 0; word < marks.size(); ++word) {
      for (std::uint64_t bits = marks[word]; bits != 0; bits &= bits - 1)
        indices.push_back(static_cast<std::uint32_t>(word * 64 + std::countr_zero(bits)));
    }
    target = detail::EntitySelection(world, indices);
  }

  // The newest acknowledged snapshot still remembered is the baseline; otherwise a full one.
  static const WorldState kNothing;
  const WorldState* baseline = &kNothing;
  WireTick baseline_tick = tick;  // no baseline: nothing to predict over
  if (client->acknowledged != 0) {
    const Client::Sent& sent = client->history[client->acknowledged % config_.history];
    if (sent.tick == client->acknowledged) {
      baseline = &sent.view;
      baseline_tick = sent.tick;
    }
  }

  // The client's own priorities; the encoder adds what waiting changes accumulated.
  const EntityPriority rank = priority ? priority(id) : EntityPriority{};
  // The view this snapshot replaces in the history lends its buffers to the new one, unless it
  // is the baseline itself (acknowledged exactly `history` snapshots ago).
  Client::Sent& slot = client->history[tick % config_.history];
  detail::EncodedSnapshot& encoded = client->encoded;
  encoded.view = &slot.view != baseline ? std::move(slot.view) : WorldState{};
  detail::encode_snapshot(schema_, *baseline, (tick - baseline_tick) / config_.tick_rate_hz, target,
                          config_.max_snapshot_bytes * 8, rank, encoded, client->accumulated);

  // Changes that waited gain their priority again; sent ones start over. The old list's buffer
  // is the next snapshot's deferred list.
  client->accumulated.swap(encoded.deferred);

  if (baseline == &kNothing) baseline_tick = 0;
  client->stats.last_baseline = baseline_tick;
  client->stats.last_snapshot_bits = encoded.bits;
  client->stats.last_deferred = client->accumulated.size();
  slot = {tick, std::move(encoded.view)};
  client->newest_sent = tick;

  // One builder per thread, cleared rather than freed: its buffer is reused by every snapshot
  // the thread encodes.
  thread_local flatbuffers::FlatBufferBuilder builder(1024);
  builder.Clear();
  const auto body = builder.CreateVector(encoded.bytes);
  const auto snapshot =
      schemas::CreateSnapshot(builder, tick, baseline_tick, client->last_applied_input, body);
  detail::finish_message(
      builder, schemas::CreateSimMessage(builder, schemas::SimBody::Snapshot, snapshot.Union()),
      message);
}

double ServerReplicator::worker_cpu_seconds() const {
  return workers_ ? workers_->worker_cpu_seconds() : 0.0;
}

std::vector<std::vector<std::byte>> ServerReplicator::snapshots_for(
    std::span<const ClientId> clients, WireTick tick, const WorldState& world) {
  std::vector<std::vector<std::byte>> messages;
  snapshots_for(clients, tick, world, messages);
  return messages;
}

void ServerReplicator::snapshots_for(std::span<const ClientId> clients, WireTick tick,
                                     const WorldState& world,
                                     std::vector<std::vector<std::byte>>& messages) {
  messages.resize(clients.size());
  const auto encode = [&](std::size_t i) { write_snapshot(clients[i], tick, world, messages[i]); };
  if (workers_) {
    workers_->run(clients.size(), encode);
  } else {
    for (std::size_t i = 0; i < clients.size(); ++i)
      encode(i);
  }
}

void ServerReplicator::on_message(ClientId id, std::span<const std::byte> message) {
  ++counters_.messages;
  Client* client = find(id);
  if (client == nullptr) return;
  const detail::UpdateDecode decoded =
      detail::decode_client_update(message,
                                   {.max_inputs = config_.input_redundancy,
                                    .max_input_bytes = config_.max_input_bytes,
                                    .newest_sent = client->newest_sent},
                                   client->decoded);
  if (decoded == detail::UpdateDecode::malformed) {
    ++counters_.malformed;
    return;
  }
  if (decoded == detail::UpdateDecode::inputs_rejected) {
    // Well formed but beyond the limits: none of its inputs is kept (each later one is coded
    // against the one before), its acknowledgement neither.
    ++counters_.inputs_rejected;
    return;
  }

  const WireTick ack = client->decoded.ack;
  if (ack > client->acknowledged && ack <= client->newest_sent &&
      client->history[ack % config_.history].tick == ack) {
    client->acknowledged = ack;
    client->stats.acknowledged = ack;
  }
  if (client->role == ClientRole::watcher) {
    // Its acknowledgement counts (deltas need it); its inputs never reach take_input().
    counters_.inputs_from_watchers += client->decoded.inputs.size();
    return;
  }

  const std::uint64_t newest_allowed = std::uint64_t{client->newest_sent} + config_.max_input_lead;
  auto& pending = client->inputs;
  for (std::size_t i = 0; i < client->decoded.inputs.size(); ++i) {
    const std::uint64_t tick = std::uint64_t{client->decoded.first_tick} + i;
    if (tick <= client->last_applied_input) continue;  // a repeat of one already applied
    if (tick > newest_allowed || pending.size() >= 2 * std::size_t{config_.max_input_lead}) {
      ++counters_.inputs_rejected;
      continue;
    }
    // Redundant copies of inputs already held are most of what arrives: the first copy stays.
    const auto at = std::lower_bound(
        pending.begin(), pending.end(), tick,
        [](const Client::PendingInput& input, std::uint64_t t) { return input.tick < t; });
    if (at != pending.end() && at->tick == tick) continue;
    const auto& payload = client->decoded.inputs[i];
    std::vector<std::byte> buffer;
    if (!client->spare_payloads.empty()) {
      buffer = std::move(client->spare_payloads.back());
      client->spare_payloads.pop_back();
    }
    buffer.assign(payload.begin(), payload.end());
    pending.insert(at, {static_cast<WireTick>(tick), std::move(buffer)});
  }
}

std::optional<std::vector<std::byte>> ServerReplicator::take_input(ClientId id, WireTick tick) {
  std::vector<std::byte> payload;
  if (!take_input(id, tick, payload)) return std::nullopt;
  return payload;
}

bool ServerReplicator::take_input(ClientId id, WireTick tick, std::vector<std::byte>& payload) {
  Client* client = find(id);
  if (client == nullptr) return false;
  auto& pending = client->inputs;
  // Inputs for earlier ticks come too late to be applied; with them the one for `tick` leaves.
  const auto past =
      std::find_if(pending.begin(), pending.end(),
                   [tick](const Client::PendingInput& input) { return input.tick > tick; });
  const bool found = past != pending.begin() && (past - 1)->tick == tick;
  // The taken one swaps buffers with `payload`: the caller's old buffer is spare, like those of
  // the inputs that came too late.
  if (found) payload.swap((past - 1)->payload);
  // No more spares than inputs a client may have waiting (on_message()'s limit).
  const std::size_t keep = 2 * std::size_t{config_.max_input_lead};
  for (auto it = pending.begin(); it != past && client->spare_payloads.size() < keep; ++it)
    client->spare_payloads.push_back(std::move(it->payload));
  pending.erase(pending.begin(), past);
  if (!found) return false;
  client->last_applied_input = tick;
  return true;
}

std::optional<ServerReplicator::ClientStats> ServerReplicator::client_stats(ClientId id) const {
  const Client* client = find(id);
  if (client == nullptr) return std::nullopt;
  return client->stats;
}

}  // namespace tickwire::sim
