// The Arena server's spectators: admitting them by their tickets (or refusing them, saying why),
// the delayed stream (what happened spectator_delay_ms ago, through the spectators' own
// replicator), and what they send (acknowledgements; any input is dropped and counted).

#include <string>

#include "arena_match_generated.h"
#include "arena_match_state.hpp"
#include "arena_server.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using detail::finish;
using flatbuffers::FlatBufferBuilder;

}  // namespace

void ArenaServer::admit_spectator(net::PeerId peer, const net::JoinTicket& ticket) {
  // A spectator never starts a match: it watches one a player has begun. (The lobby issues
  // spectator tickets only once a player has arrived, but this server does not rely on it.)
  const auto found = matches_.find(ticket.match_id);
  if (found == matches_.end()) {
    ++stats_.spectators_refused;
    return refuse(peer, net::DisconnectReason::refused,
                  "the match has not begun on this server yet: try again in a moment");
  }
  Match& match = *found->second;
  if (match.over_at) {
    ++stats_.spectators_refused;
    return refuse(peer, net::DisconnectReason::refused, "the match is over");
  }
  if (match.spectators.size() >= config_.max_spectators_per_match) {
    ++stats_.spectators_refused;
    return refuse(peer, net::DisconnectReason::server_full,
                  "the match has as many spectators as it allows (" +
                      std::to_string(config_.max_spectators_per_match) + ")");
  }
  Spectator& seated =
      match.spectators.try_emplace(peer, Spectator{.lobby_player_id = ticket.player_id})
          .first->second;
  match.spectator_replicator->add_client(peer, sim::ClientRole::watcher);
  seats_[peer] = {.match = &match, .spectator = &seated};

  FlatBufferBuilder fbb;
  const auto joined =
      match::CreateJoined(fbb, 0, match.id, config_.tick_rate_hz, config_.snapshot_rate_hz,
                          match_ticks_, /*spectator=*/true, config_.spectator_delay_ms,
                          /*view_radius_m=*/0.0f);  // spectators are sent the whole arena
  const auto message = finish(fbb, match::MatchBody::Joined, joined.Union());
  if (net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered, message) ==
      net::SendResult::ok) {
    stats_.spectator_bytes += message.size();
  }
}

void ArenaServer::refuse(net::PeerId peer, net::DisconnectReason reason, const std::string& why) {
  // The reason first, on the reliable channel: a graceful disconnect delivers it before the end.
  FlatBufferBuilder fbb;
  const auto refused = match::CreateRefused(fbb, fbb.CreateString(why));
  (void)net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered,
                   finish(fbb, match::MatchBody::Refused, refused.Union()));
  net_->disconnect(peer, reason);
}

void ArenaServer::stream_to_spectators(Match& match, std::uint32_t tick) {
  const auto due = [&](sim::WireTick happened) {
    return std::uint64_t{happened} + delay_ticks_ <= tick;
  };
  // Score tables and the end go out before the snapshots of the same tick, as for the players.
  while (!match.delayed_messages.empty() && due(match.delayed_messages.front().tick)) {
    const std::vector<std::byte>& message = match.delayed_messages.front().message;
    for (const auto& [peer, spectator] : match.spectators) {
      if (net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered, message) ==
          net::SendResult::ok) {
        stats_.spectator_bytes += message.size();
      }
    }
    match.delayed_messages.pop_front();
  }
  while (!match.delayed_states.empty() && due(match.delayed_states.front().tick)) {
    const Match::DelayedState& delayed = match.delayed_states.front();
    if (!match.spectators.empty()) {
      match.spectator_peers.clear();
      for (const auto& [peer, spectator] : match.spectators)
        match.spectator_peers.push_back(peer);
      std::vector<std::vector<std::byte>>& snapshots = match.snapshots;
      match.spectator_replicator->snapshots_for(match.spectator_peers, delayed.tick, delayed.state,
                                                snapshots);
      for (std::size_t i = 0; i < snapshots.size(); ++i) {
        if (net_->send(match.spectator_peers[i], kSnapshotChannel,
                       net::Delivery::unreliable_sequenced, snapshots[i]) == net::SendResult::ok) {
          stats_.spectator_bytes += snapshots[i].size();
        }
      }
    }
    // Its buffers make the state of a later tick (tick_match).
    match.spare_state = std::move(match.delayed_states.front().state);
    match.delayed_states.pop_front();
  }
}

void ArenaServer::close_spectators(Match& match, net::DisconnectReason reason) {
  for (const auto& [peer, spectator] : match.spectators) {
    seats_.erase(peer);
    net_->disconnect(peer, reason);
  }
  match.spectators.clear();
}

void ArenaServer::on_spectator_message(Match& match, Spectator& spectator, net::Event& event) {
  // Acknowledgements only: the spectators' replicator counts and drops any input.
  bool malformed = event.channel != kSnapshotChannel;
  if (!malformed) {
    const auto before = match.spectator_replicator->counters();
    match.spectator_replicator->on_message(event.peer, event.payload.bytes());
    const auto& after = match.spectator_replicator->counters();
    stats_.spectator_inputs_dropped += after.inputs_from_watchers - before.inputs_from_watchers;
    malformed = after.malformed != before.malformed;
  }
  if (malformed) ++stats_.malformed_updates;
  if (malformed && ++spectator.malformed == config_.max_malformed_per_player) {
    ++stats_.players_disconnected_for_abuse;
    net_->disconnect(event.peer, net::DisconnectReason::protocol_error);
  }
}

}  // namespace arena
