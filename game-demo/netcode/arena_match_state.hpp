#pragma once
// What ArenaServer keeps per match, per player and per spectator: shared by arena_server.cpp
// (players, ticks, scores) and arena_spectators.cpp (the delayed stream). Private to the server.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <tickwire/sim/replicator.hpp>
#include <tickwire/sim/spatial_grid.hpp>

#include "arena_match_generated.h"
#include "arena_rules.hpp"
#include "arena_server.hpp"

namespace arena {
namespace detail {

// A MatchMessage of `type` around `body`, as bytes to send.
inline std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& fbb, match::MatchBody type,
                                     flatbuffers::Offset<void> body) {
  fbb.Finish(match::CreateMatchMessage(fbb, type, body));
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return {data, data + fbb.GetSize()};
}

}  // namespace detail

struct ArenaServer::Player {
  tickwire::net::PeerId peer = tickwire::net::kInvalidPeer;
  PlayerId entity = 0;
  std::uint64_t lobby_player_id = 0;
  PlayerInput last_input;       // held for ticks whose input did not arrive in time
  std::uint32_t malformed = 0;  // messages that were not a valid client update
  // When their last snapshot went out: the next is due a snapshot period later.
  std::optional<std::chrono::steady_clock::time_point> last_snapshot_at;
};

struct ArenaServer::Spectator {
  std::uint64_t lobby_player_id = 0;
  std::uint32_t malformed = 0;  // messages that were not a valid client update
};

struct ArenaServer::Match {
  Match(std::uint64_t match_id, const Config& rules,
        std::unique_ptr<tickwire::sim::ServerReplicator> players_replicator,
        std::unique_ptr<tickwire::sim::ServerReplicator> spectators_replicator, double grid_cell_m)
      : id(match_id),
        world(rules),
        replicator(std::move(players_replicator)),
        spectator_replicator(std::move(spectators_replicator)),
        grid(grid_cell_m) {}
  std::uint64_t id;
  World world;
  std::unique_ptr<tickwire::sim::ServerReplicator> replicator;  // never null
  std::map<tickwire::net::PeerId, Player> players;
  // Spectators watch through a replicator of their own: their snapshots are of older ticks
  // than the players', under their own budget, and it takes no input from them.
  std::unique_ptr<tickwire::sim::ServerReplicator> spectator_replicator;  // never null
  std::map<tickwire::net::PeerId, Spectator> spectators;
  std::vector<tickwire::net::PeerId> spectator_peers;  // kept between ticks for its capacity
  // What spectators are yet to see, oldest first: the states of the snapshot ticks and the
  // match messages (score tables, the end) of the last spectator_delay_ms. Kept whether or not
  // anyone watches, so that a spectator who arrives sees the match at once, delayed.
  struct DelayedState {
    tickwire::sim::WireTick tick = 0;
    tickwire::sim::WorldState state;
  };
  struct DelayedMessage {
    tickwire::sim::WireTick tick = 0;
    std::vector<std::byte> message;
  };
  std::deque<DelayedState> delayed_states;
  // A state no longer needed (one the spectators have seen, or a tick's they need not see),
  // whose buffers the next tick's state is built into.
  tickwire::sim::WorldState spare_state;
  std::deque<DelayedMessage> delayed_messages;
  // The spectators' clock once the match is over: it runs on until they have seen the end.
  tickwire::sim::WireTick stream_tick = 0;
  bool spectators_closing = false;
  std::optional<std::chrono::steady_clock::time_point> stream_drained_at;
  // Score table entries outlive connections: a player who drops and comes back (a new ticket for
  // the same match) within the reconnect grace gets the same entity and keeps their score.
  struct Entry {
    PlayerId entity;
    std::uint16_t deaths = 0;
    bool connected = false;
    bool was_alive = true;
    // While disconnected: when they left. Their entity stays in the world until the grace ends.
    std::optional<std::chrono::steady_clock::time_point> left_at;
  };
  std::map<std::uint64_t, Entry> by_lobby_player;
  PlayerId next_entity = 1;
  std::uint64_t ticks_since_scores = 0;
  bool scores_changed = false;
  // The newest score table, and the players yet to be sent it (a share goes each tick).
  std::vector<std::byte> scoreboard;
  std::vector<tickwire::net::PeerId> scoreboard_due;
  std::optional<std::chrono::steady_clock::time_point> over_at;
  bool closing = false;  // its players were told to go
  // Where each player is, for the snapshots of this tick: the replicator's priority hook reads
  // it (from its encoding threads, while nothing writes it).
  struct Viewer {
    PlayerId entity = 0;
    double x = 0, y = 0;
  };
  std::unordered_map<tickwire::net::PeerId, Viewer> viewers;  // looked up per snapshot, twice
  std::vector<tickwire::net::PeerId> snapshot_peers;          // kept between ticks for its capacity
  // Their messages (and the spectators'), kept likewise.
  std::vector<std::vector<std::byte>> snapshots;
  // The connected players' inputs of the tick, by entity. Kept between ticks: each tick
  // overwrites its players' entries (a map would otherwise allocate a node per player per tick)
  // and drops those of players who left.
  std::map<PlayerId, PlayerInput> inputs;
  std::vector<std::byte> input_bytes;  // the input being read, kept for its capacity
  // Every entity of the snapshot tick's state by position (with view_radius_m > 0): the
  // replicator's interest hook reads it like `viewers`.
  tickwire::sim::SpatialGrid grid;
};

}  // namespace arena
