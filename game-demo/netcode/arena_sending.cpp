// What the Arena server sends a match's players each tick: their snapshots, with what is near
// each player first and what is beyond the view radius left out, and the score tables.

#include <cmath>

#include "arena_match_generated.h"
#include "arena_match_state.hpp"
#include "arena_server.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using detail::finish;
using flatbuffers::FlatBufferBuilder;

// A score table reaches a match's players over this many ticks (half a second at 60 Hz), a share
// of them each tick, rather than all in one: with hundreds of players a table is several KiB,
// and sealing and queueing it for every player at once made the longest ticks of a 256-player
// match (docs/benchmarks.md, "Arena"). The final scores still go to everyone at once.
constexpr std::size_t kScoreboardSpreadTicks = 30;

}  // namespace

void ArenaServer::prioritize_nearby(Match& match) {
  // What is near a player matters most to them: it is what they see move and shoot at. Their
  // own entity comes first of all (prediction is reconciled against it).
  // Asked once per player's snapshot, so the viewer is looked up once; the schema, the player
  // type and the position fields are looked up once for all (function statics, each with its
  // guard), since each changed entity of every player's snapshot is asked about.
  static const sim::EntitySchema& kSchema = schema();
  static const sim::TypeId kPlayer = player_type();
  static const PlayerFields kPlayerFields = player_fields();
  static const DroneFields kDroneFields = drone_fields();
  match.replicator->priority = [&match](sim::ClientId client) -> sim::EntityPriority {
    // The viewer by address: `viewers` is not changed while snapshots are encoded, and a pointer
    // fits in std::function's own storage where a copy of the viewer would be allocated.
    static const Match::Viewer kNowhere{};
    const auto found = match.viewers.find(client);
    const Match::Viewer* where = found != match.viewers.end() ? &found->second : &kNowhere;
    return [where](const sim::WorldState::Entity& e) {
      const Match::Viewer& viewer = *where;
      if (e.id == viewer.entity) return 1000.0f;
      const bool player = e.type == kPlayer;
      const std::size_t x = player ? kPlayerFields.x : kDroneFields.x;
      const std::size_t y = player ? kPlayerFields.y : kDroneFields.y;
      const double dx = kSchema.dequantize(e.type, x, e.fields[x]) - viewer.x;
      const double dy = kSchema.dequantize(e.type, y, e.fields[y]) - viewer.y;
      const double distance = std::sqrt(dx * dx + dy * dy);
      return static_cast<float>(1.0 + 10.0 / (1.0 + distance / 5.0));
    };
  };
}

void ArenaServer::limit_to_view(Match& match) {
  // Relevancy: what is beyond the view radius is not sent. The grid is filled once per tick that
  // sends snapshots (send_snapshots), so a player's query costs the entities near them, not the
  // whole match.
  match.replicator->interest = [&match, radius = config_.view_radius_m](
                                   sim::ClientId client, const sim::WorldState& state,
                                   std::vector<std::uint32_t>& indices) {
    const auto found = match.viewers.find(client);
    if (found == match.viewers.end()) return;
    const Match::Viewer& viewer = found->second;
    match.grid.within(viewer.x, viewer.y, radius, indices);
    // Their own entity always, even a quantization step past the centre: the client reconciles
    // its prediction against it.
    if (const auto own = state.index_of(viewer.entity))
      indices.push_back(static_cast<std::uint32_t>(*own));
  };
}

void ArenaServer::index_positions(Match& match, const sim::WorldState& state) {
  match.grid.clear();
  for (std::uint32_t i = 0; i < state.size(); ++i) {
    const sim::WorldState::Entity e = state.at(i);
    const bool player = e.type == player_type();
    const std::size_t x = player ? player_fields().x : drone_fields().x;
    const std::size_t y = player ? player_fields().y : drone_fields().y;
    match.grid.insert(i, schema().dequantize(e.type, x, e.fields[x]),
                      schema().dequantize(e.type, y, e.fields[y]));
  }
  match.grid.build();
}

void ArenaServer::send_snapshots(Match& match, sim::WireTick tick, const sim::WorldState& state) {
  if (config_.view_radius_m > 0) index_positions(match, state);
  for (const net::PeerId peer : match.snapshot_peers) {
    const PlayerId entity = player_in(match, peer)->entity;
    const PlayerState* self = match.world.player(entity);
    match.viewers[peer] = {entity, self != nullptr ? self->x : 0.0,
                           self != nullptr ? self->y : 0.0};
  }
  const auto encode_start = std::chrono::steady_clock::now();
  std::vector<std::vector<std::byte>>& snapshots = match.snapshots;
  match.replicator->snapshots_for(match.snapshot_peers, tick, state, snapshots);
  const auto now = std::chrono::steady_clock::now();
  stats_.snapshot_encode_wall_us +=
      std::chrono::duration<double, std::micro>(now - encode_start).count();
  // Late: a player of this round had their previous snapshot more than half a period late.
  const auto late_after = std::chrono::duration<double>(1.5 / config_.snapshot_rate_hz);
  ++stats_.snapshot_rounds;
  bool late = false;
  for (std::size_t i = 0; i < snapshots.size(); ++i) {
    Player& player = *player_in(match, match.snapshot_peers[i]);
    if (player.last_snapshot_at && now - *player.last_snapshot_at > late_after) late = true;
    player.last_snapshot_at = now;
    if (net_->send(match.snapshot_peers[i], kSnapshotChannel, net::Delivery::unreliable_sequenced,
                   snapshots[i]) == net::SendResult::ok) {
      stats_.bytes_sent += snapshots[i].size();
      stats_.snapshot_bytes += snapshots[i].size();
      ++stats_.snapshots_sent;
    }
  }
  if (late) ++stats_.late_snapshot_rounds;
}

void ArenaServer::send_scores(Match& match, bool final_scores) {
  match.ticks_since_scores = 0;
  match.scores_changed = false;
  FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<match::Score>> scores;
  for (const auto& [lobby_id, entry] : match.by_lobby_player) {
    const PlayerState* state = match.world.player(entry.entity);
    scores.push_back(match::CreateScore(fbb, entry.entity, lobby_id,
                                        static_cast<std::uint16_t>(state ? state->score : 0),
                                        entry.deaths, entry.connected));
  }
  const auto vector = fbb.CreateVector(scores);
  if (final_scores) {
    match.scoreboard_due.clear();  // the final scores supersede a table still going out
    send_match_message(match, finish(fbb, match::MatchBody::MatchOver,
                                     match::CreateMatchOver(fbb, vector).Union()));
    return;
  }
  const auto ticks = static_cast<std::uint32_t>(match.world.tick());
  match.scoreboard = finish(
      fbb, match::MatchBody::Scoreboard,
      match::CreateScoreboard(fbb, ticks, match_ticks_ > ticks ? match_ticks_ - ticks : 0, vector)
          .Union());
  // Spectators get it a delay later, in one piece; players from this tick on, a share a tick.
  match.delayed_messages.push_back({static_cast<sim::WireTick>(ticks), match.scoreboard});
  match.scoreboard_due.clear();
  for (const auto& [peer, player] : match.players)
    match.scoreboard_due.push_back(peer);
}

void ArenaServer::send_due_scoreboards(Match& match) {
  std::size_t share = (match.players.size() + kScoreboardSpreadTicks - 1) / kScoreboardSpreadTicks;
  while (share > 0 && !match.scoreboard_due.empty()) {
    const net::PeerId peer = match.scoreboard_due.back();
    match.scoreboard_due.pop_back();
    if (!match.players.contains(peer)) continue;  // gone since the table was made
    --share;
    if (net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered, match.scoreboard) ==
        net::SendResult::ok) {
      stats_.bytes_sent += match.scoreboard.size();
    }
  }
}

void ArenaServer::send_match_message(Match& match, const std::vector<std::byte>& message) {
  match.delayed_messages.push_back({static_cast<sim::WireTick>(match.world.tick()), message});
  for (const auto& [peer, player] : match.players) {
    if (net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered, message) ==
        net::SendResult::ok) {
      stats_.bytes_sent += message.size();
    }
  }
}

}  // namespace arena
