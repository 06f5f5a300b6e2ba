#pragma once
// Snapshot replication, bytes in and bytes out: the server side turns the world into one
// delta-compressed snapshot per client, each against the newest snapshot that client has
// acknowledged; the client side decodes them and acknowledges. Neither knows about sockets: the
// game hands the server's messages to its transport (unreliable-sequenced) and passes what
// arrives to on_message().
//
// Snapshots are deltas against the newest acknowledged baseline, or full when there is none.
// A per-client bit budget keeps each snapshot within one datagram by default; entities that do
// not fit gain priority (a priority accumulator) until they are sent, so nothing starves.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "tickwire/sim/entity_schema.hpp"
#include "tickwire/sim/world_state.hpp"
#include "tickwire/status.hpp"

namespace tickwire::sim {

using ClientId = std::uint32_t;
// How much an entity matters to one client this snapshot (> 0; higher is sent first when the
// budget is tight).
using EntityPriority = std::function<float(const WorldState::Entity&)>;
// Ticks on the wire are 32 bits and start at 1; 0 means "none".
using WireTick = std::uint32_t;

// What a client does with the world: play it (its updates carry inputs), or only watch it (a
// spectator: its updates acknowledge snapshots, and inputs in them are dropped and counted).
enum class ClientRole : std::uint8_t { player, watcher };

struct ReplicatorConfig {
  // Simulation ticks per second: snapshot ticks are simulation ticks, and rates (velocities)
  // predict positions over the ticks between a baseline and a snapshot. Both ends must agree.
  // Default 60.
  double tick_rate_hz = 60;
  // Snapshots per second each client gets (snapshot_due() says on which ticks). Default 30.
  double snapshot_rate_hz = 30;
  // Snapshots remembered per client, as baselines for deltas. At 30 snapshots per second the
  // default covers about two seconds of lost acknowledgements. 2..1024. Default 64.
  std::size_t history = 64;
  // Largest snapshot body in bytes; changes beyond it wait for a later snapshot. 0 = no limit.
  // Default 1100, so that a snapshot with its envelope fits one 1400-byte datagram.
  std::size_t max_snapshot_bytes = 1100;
  // Entities one snapshot may describe at most; a decoder refuses more. Default 16384.
  std::size_t max_entities = 16384;
  // Inputs repeated in each client update until the server acknowledges them. Default 8.
  std::size_t input_redundancy = 8;
  // Largest input payload of one tick in bytes. Default 256.
  std::size_t max_input_bytes = 256;
  // How far ahead of the server's tick a client input may be, in ticks. Default 64.
  std::uint32_t max_input_lead = 64;
  // Threads that encode one tick's snapshots in snapshots_for(), the calling thread included
  // (each client's snapshot is encoded by one of them; the bytes are the same with any number).
  // 1..64. Default 1: a tick's encoding is short (tens of microseconds per client), so waking
  // workers pays off only with hundreds of clients on a machine with a core to spare for them
  // (docs/tuning.md).
  std::size_t encode_threads = 1;

  // Fine, or which field is wrong, its value and what to use.
  Status validate() const;
};

// Why the replicator dropped a message. Counted, never thrown or logged per message.
struct ReplicatorCounters {
  std::uint64_t messages = 0;
  std::uint64_t malformed = 0;             // failed FlatBuffers verification or bit decoding
  std::uint64_t stale = 0;                 // a snapshot older than one already applied
  std::uint64_t missing_baseline = 0;      // delta against a snapshot no longer remembered
  std::uint64_t inputs_rejected = 0;       // too far ahead or behind, or too large
  std::uint64_t inputs_from_watchers = 0;  // inputs a watcher sent (a watcher has no say)
};

class ServerReplicator {
 public:
  // The only way to get one: refuses an invalid config or schema, naming the field, in every
  // build.
  static Result<std::unique_ptr<ServerReplicator>> create(EntitySchema schema,
                                                          ReplicatorConfig config = {});
  ~ServerReplicator();
  ServerReplicator(const ServerReplicator&) = delete;
  ServerReplicator& operator=(const ServerReplicator&) = delete;

  void add_client(ClientId client, ClientRole role = ClientRole::player);
  void remove_client(ClientId client);

  // Which entities a client sees (interest management), asked once per snapshot of that client:
  // it appends to `indices` the positions in `world` of the entities the client sees, in any
  // order (duplicates and positions past the end are ignored). The others are not sent: one the
  // client held is removed from its view, and one that becomes relevant again arrives whole.
  // Unset: every entity, to every client. A SpatialGrid answers "within r of the client" in time
  // proportional to what is near, so that a snapshot's cost does not grow with the world.
  std::function<void(ClientId, const WorldState& world, std::vector<std::uint32_t>& indices)>
      interest;
  // How entities matter to a client, asked once per snapshot of that client (so it can look up
  // where the client is once), then called for each changed entity when the budget cannot take
  // every change (when it can, the order changes nothing and it is not called). Default: 1 for
  // all.
  // With encode_threads > 1, `interest`, `priority` and the functions it returns are called
  // from several threads at once: they must only read.
  std::function<EntityPriority(ClientId)> priority;

  // True on the ticks a snapshot should go out, spreading snapshot_rate_hz evenly over
  // tick_rate_hz (every other tick at the defaults).
  bool snapshot_due(WireTick tick) const;
  // Appends to `due` the clients whose snapshot goes out at `tick`, in the order they were
  // added. Clients are spread over the ticks of a snapshot period, each on the phase fewest had
  // when it was added: at 60 Hz ticks and 30 Hz snapshots half go out on odd ticks and half on
  // even ones, so that a server encodes half of them each tick rather than all of them every
  // other tick (its longest tick is about half as long). Each still gets snapshot_rate_hz,
  // evenly spaced; phase 0 is snapshot_due()'s.
  void clients_due(WireTick tick, std::vector<ClientId>& due) const;

  // The snapshot message for `client` of `world` at `tick` (tick >= 1, increasing).
  std::vector<std::byte> snapshot_for(ClientId client, WireTick tick, const WorldState& world);
  // The same for several clients, encoded on encode_threads threads: messages[i] is for
  // clients[i], byte for byte what snapshot_for() would give.
  std::vector<std::vector<std::byte>> snapshots_for(std::span<const ClientId> clients,
                                                    WireTick tick, const WorldState& world);
  // The same into `messages` (resized to clients.size()), whose vectors keep their capacity: a
  // server that passes the same one every tick allocates nothing for the messages once they
  // have grown.
  void snapshots_for(std::span<const ClientId> clients, WireTick tick, const WorldState& world,
                     std::vector<std::vector<std::byte>>& messages);

  // A ClientUpdate from `client`: records its acknowledgement and buffers its inputs.
  void on_message(ClientId client, std::span<const std::byte> message);
  // The input `client` sent for `tick`, if it arrived; marks it applied (reported back to the
  // client in the next snapshot). Inputs for earlier ticks are discarded.
  std::optional<std::vector<std::byte>> take_input(ClientId client, WireTick tick);
  // The same into `payload` (replaced when the input is there, else left as it is): a server
  // that passes the same one every tick allocates nothing for inputs once the buffers have
  // grown. True if the input was there.
  bool take_input(ClientId client, WireTick tick, std::vector<std::byte>& payload);

  struct ClientStats {
    WireTick acknowledged = 0;   // newest snapshot the client acknowledged
    WireTick last_baseline = 0;  // baseline of the last snapshot sent (0 = full)
    std::size_t last_snapshot_bits = 0;
    std::size_t last_deferred = 0;  // changes that did not fit the last snapshot
  };
  std::optional<ClientStats> client_stats(ClientId client) const;
  const ReplicatorCounters& counters() const { return counters_; }
  const EntitySchema& schema() const { return schema_; }
  // CPU time the encoding threads other than the caller's spent encoding (encode_threads > 1),
  // so that a server can count all of its encoding, not only its own thread's.
  double worker_cpu_seconds() const;

 private:
  struct Client;
  class Workers;
  // Through create() only, which has checked both.
  ServerReplicator(EntitySchema schema, ReplicatorConfig config);
  EntitySchema schema_;
  ReplicatorConfig config_;
  std::vector<std::unique_ptr<Client>> clients_;  // in the order they were added
  // The same clients by id: every message and every tick's input looks its client up, and a
  // walk of the list made that quadratic in the players.
  std::unordered_map<ClientId, Client*> by_id_;
  std::unique_ptr<Workers> workers_;  // with encode_threads > 1
  ReplicatorCounters counters_;
  Client* find(ClientId client) const;
  // snapshot_for() into `message` (overwritten; its capacity kept).
  void write_snapshot(ClientId client, WireTick tick, const WorldState& world,
                      std::vector<std::byte>& message);
  // Ticks of a snapshot period that clients are spread over, and whether a snapshot of phase
  // `phase` is due at `tick`.
  std::uint32_t phases() const;
  bool due_at(WireTick tick, std::uint32_t phase) const;
};

class ClientReplicator {
 public:
  // The only way to get one: refuses an invalid config or schema, naming the field, in every
  // build.
  static Result<std::unique_ptr<ClientReplicator>> create(EntitySchema schema,
                                                          ReplicatorConfig config = {});
  ~ClientReplicator();
  ClientReplicator(const ClientReplicator&) = delete;
  ClientReplicator& operator=(const ClientReplicator&) = delete;

  // A Snapshot from the server. True if it was applied (it is the newest and decoded).
  bool on_message(std::span<const std::byte> message);

  // The newest applied snapshot, and the snapshot applied for an earlier tick if still kept.
  WireTick latest_tick() const { return latest_tick_; }
  const WorldState& latest() const;
  const WorldState* at(WireTick tick) const;
  // The newest of this client's inputs the server has applied (from the latest snapshot).
  WireTick last_applied_input() const { return last_applied_input_; }

  // Records this client's input for `tick` (increasing ticks).
  void add_input(WireTick tick, std::span<const std::byte> payload);
  // The ClientUpdate to send now: the acknowledgement and the inputs not yet applied.
  std::vector<std::byte> update_message() const;

  const ReplicatorCounters& counters() const { return counters_; }

 private:
  struct Received {
    WireTick tick = 0;
    WorldState state;
  };
  // Through create() only, which has checked both.
  ClientReplicator(EntitySchema schema, ReplicatorConfig config);
  EntitySchema schema_;
  ReplicatorConfig config_;
  std::vector<Received> history_;  // ring indexed by tick % history
  WireTick latest_tick_ = 0;
  WireTick last_applied_input_ = 0;
  WorldState empty_;
  std::vector<std::pair<WireTick, std::vector<std::byte>>> pending_inputs_;
  ReplicatorCounters counters_;
};

}  // namespace tickwire::sim
