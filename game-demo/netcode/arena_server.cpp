#include "arena_server.hpp"

#include <algorithm>
#include <thread>

#include <tickwire/net/traffic_policy.hpp>
#include <tickwire/sim/spatial_grid.hpp>

#include "arena_match_generated.h"
#include "arena_match_state.hpp"
#include "cpu_timing.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using detail::finish;
using flatbuffers::FlatBufferBuilder;

sim::ReplicatorConfig replicator_config_of(const ServerConfig& config) {
  sim::ReplicatorConfig replication;
  replication.tick_rate_hz = config.tick_rate_hz;
  replication.snapshot_rate_hz = config.snapshot_rate_hz;
  replication.max_snapshot_bytes = config.snapshot_budget_bytes;
  replication.encode_threads = config.snapshot_threads;
  replication.input_redundancy = kInputCopies * kMaxTicksPerUpdate;
  return replication;
}

sim::ReplicatorConfig spectator_replicator_config_of(const ServerConfig& config) {
  sim::ReplicatorConfig replication = replicator_config_of(config);
  replication.max_snapshot_bytes = config.spectator_snapshot_budget_bytes;
  // A tick's spectators are few: their snapshots are encoded on this thread.
  replication.encode_threads = 1;
  return replication;
}

}  // namespace

net::Result<std::unique_ptr<ArenaServer>> ArenaServer::start(const ServerConfig& config) {
  // The engine's own checks, which name the field and value (tick rate, snapshot rate, budget).
  if (config.snapshot_threads < 1 || config.snapshot_threads > 64)
    return net::Status::error("snapshot_threads = " + std::to_string(config.snapshot_threads) +
                              " is invalid: use 1..64");
  if (net::Status valid = replicator_config_of(config).validate(); !valid.ok())
    return net::Status::error("replication: " + valid.message());
  if (config.match_seconds <= 0) return net::Status::error("match length must be above 0 s");
  if (config.max_spectators_per_match > 1024) {
    return net::Status::error(
        "max_spectators_per_match = " + std::to_string(config.max_spectators_per_match) +
        " is invalid: use 0..1024");
  }
  if (config.network_batch_us > 100'000) {
    return net::Status::error("network_batch_us = " + std::to_string(config.network_batch_us) +
                              " is invalid: use 0..100000");
  }
  if (config.spectator_delay_ms > 60'000) {
    return net::Status::error("spectator_delay_ms = " + std::to_string(config.spectator_delay_ms) +
                              " is invalid: use 0..60000");
  }
  if (net::Status valid = spectator_replicator_config_of(config).validate(); !valid.ok())
    return net::Status::error("spectator replication: " + valid.message());
  if (!(config.view_radius_m >= 0) || !std::isfinite(config.view_radius_m))
    return net::Status::error("view_radius_m = " + std::to_string(config.view_radius_m) +
                              " is invalid: use metres >= 0 (0: the whole arena)");
  auto tick_clock = tickwire::sim::FixedTickClock::create({.tick_rate_hz = config.tick_rate_hz});
  if (!tick_clock) return net::Status::error("tick clock: " + tick_clock.error());
  net::EnetServerConfig enet = config.enet;
  enet.common.channel_count = kGameChannels;
  enet.require_ticket = net::TicketRequirement{.lobby_key = config.lobby_key,
                                               .server_address = config.public_address,
                                               .seal_keys = config.seal_keys};
  auto made_enet = net::make_enet_server(enet);
  if (!made_enet) return net::Status::error("UDP: " + made_enet.error());
  const net::ServerTransport* enet_transport = made_enet.value().get();
  std::unique_ptr<net::ServerTransport> transport = std::move(made_enet.value());
  const net::ServerTransport* websocket_transport = nullptr;
  if (config.websocket) {
    // The same game server over TCP: the same tickets (both check them against the ENet
    // address, and use each once across both) and the same session security.
    net::WebSocketServerConfig websocket = *config.websocket;
    websocket.require_ticket = enet.require_ticket;
    websocket.security = enet.security;
    websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    websocket.common.framing = net::WebSocketFraming::channel_prefix;
    websocket.common.channel_count = enet.common.channel_count;
    websocket.common.max_message_size = enet.common.max_message_size;
    auto made_websocket = net::make_websocket_server(websocket);
    if (!made_websocket) return net::Status::error("WebSocket: " + made_websocket.error());
    websocket_transport = made_websocket.value().get();
    std::vector<std::unique_ptr<net::ServerTransport>> both;
    both.push_back(std::move(transport));
    both.push_back(std::move(made_websocket.value()));
    auto combined = net::combine_servers(std::move(both));
    if (!combined) return net::Status::error(combined.error());
    transport = std::move(combined.value());
  }
  auto reports = ArenaServer::make_report_receiver(*transport, config);
  if (!reports) return net::Status::error(reports.error());
  return std::unique_ptr<ArenaServer>(
      new ArenaServer(config, tick_clock.value(), std::move(transport), enet_transport,
                      websocket_transport, std::move(reports.value())));
}

ArenaServer::ArenaServer(const ServerConfig& config, const tickwire::sim::FixedTickClock& clock,
                         std::unique_ptr<net::ServerTransport> net,
                         const net::ServerTransport* enet, const net::ServerTransport* websocket,
                         std::unique_ptr<net::FileTransfer> reports)
    : config_(config),
      net_(std::move(net)),
      enet_(enet),
      websocket_(websocket),
      clock_(clock),
      last_advance_(std::chrono::steady_clock::now()),
      match_ticks_(
          static_cast<std::uint32_t>(std::llround(config.match_seconds * config.tick_rate_hz))),
      delay_ticks_(static_cast<std::uint32_t>(
          std::llround(config.spectator_delay_ms / 1000.0 * config.tick_rate_hz))),
      reports_(std::move(reports)) {}

ArenaServer::~ArenaServer() {
  if (config_.observer) {
    for (const auto& [id, match] : matches_)
      config_.observer->match_closed(id);
  }
  for (const auto& [peer, seat] : seats_)
    net_->disconnect(peer, net::DisconnectReason::shutdown);
  net_->flush();
}

std::uint16_t ArenaServer::port() const {
  return enet_->port();
}

std::uint16_t ArenaServer::websocket_port() const {
  return websocket_ != nullptr ? websocket_->port() : 0;
}
net::TransportCounters ArenaServer::counters() const {
  return net_->counters();
}

std::vector<net::LabelledTransportCounters> ArenaServer::counters_by_transport() const {
  std::vector<net::LabelledTransportCounters> out{{"enet", enet_->counters()}};
  if (websocket_ != nullptr) out.push_back({"websocket", websocket_->counters()});
  return out;
}

sim::ReplicatorConfig ArenaServer::replicator_config() const {
  return replicator_config_of(config_);
}

sim::ReplicatorConfig ArenaServer::spectator_replicator_config() const {
  return spectator_replicator_config_of(config_);
}

void ArenaServer::run_for(std::chrono::milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    // The engine's fixed-tick clock says how many ticks are due. A server that fell far behind
    // (a stall) runs at most max_ticks_per_frame of them and drops the rest of the lost time
    // instead of racing to catch up: players would see a burst of fast-forward.
    const std::uint32_t due = clock_.advance(now - last_advance_);
    last_advance_ = now;
    for (std::uint32_t i = 0; i < due; ++i) {
      handle_events(std::chrono::milliseconds(0));
      tick();
      clock_.tick_done();
    }
    if (due > 0) continue;
    // Nothing due: wait for the network until the next tick (or the end).
    const auto next_tick =
        now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  clock_.tick_duration() - clock_.tick_duration() * clock_.alpha());
    const auto until = std::min(next_tick, end);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
    if (wait.count() == 0) {
      // Under a millisecond left, which the transport's wait cannot time (it takes whole
      // milliseconds): slept out, rather than polled for in a loop until it passes, which took
      // a busy server 4,900 empty receives a second (128 Arena players). What arrives meanwhile
      // is taken right before the tick.
      std::this_thread::sleep_until(until);
      continue;
    }
    const std::size_t handled = handle_events(wait);
    if (handled > 0 && config_.network_batch_us > 0) {
      // Let more gather (ServerConfig::network_batch_us).
      std::this_thread::sleep_until(std::min(
          until,
          std::chrono::steady_clock::now() + std::chrono::microseconds(config_.network_batch_us)));
    }
  }
}

std::size_t ArenaServer::handle_events(std::chrono::milliseconds wait) {
  net::Event event;
  std::size_t handled = 0;
  while (net_->poll(event, wait)) {
    wait = std::chrono::milliseconds(0);
    ++handled;
    switch (event.type) {
      case net::EventType::connected:
        on_connected(event.peer);
        break;
      case net::EventType::disconnected:
        on_disconnected(event.peer);
        break;
      case net::EventType::message:
        on_message(event);
        break;
    }
  }
  reports_->update();
  take_reports();
  return handled;
}

void ArenaServer::on_message(net::Event& event) {
  const auto found = seats_.find(event.peer);
  if (found == seats_.end()) return;  // a player whose disconnect is under way
  if (event.channel == kReportChannel) {
    // Bad transfer messages cost the transfer, never the connection (FileTransfer counts them).
    reports_->on_message(event.peer, event.payload.bytes());
    // At once: a finished report moves out of the incoming folder before another can finish
    // under the same name there.
    take_reports();
    return;
  }
  const Seat& seat = found->second;
  Match& match = *seat.match;
  if (seat.spectator != nullptr) return on_spectator_message(match, *seat.spectator, event);
  Player& player = *seat.player;
  stats_.bytes_received += event.payload.bytes().size();
  bool malformed = false;
  if (event.channel != kSnapshotChannel) {
    ++stats_.unexpected_messages;
    malformed = true;
  } else {
    const std::uint64_t before = match.replicator->counters().malformed;
    match.replicator->on_message(event.peer, event.payload.bytes());
    if (match.replicator->counters().malformed != before) {
      ++stats_.malformed_updates;
      malformed = true;
    }
  }
  // A player who keeps sending what no client of this game sends is not playing: drop them,
  // with the reason, before they cost the others anything.
  if (malformed && ++player.malformed == config_.max_malformed_per_player) {
    ++stats_.players_disconnected_for_abuse;
    net_->disconnect(event.peer, net::DisconnectReason::protocol_error);
  }
}

void ArenaServer::on_connected(net::PeerId peer) {
  // The transport admitted the peer by its ticket: it names the match and the lobby's player.
  const auto ticket = net_->ticket_of(peer);
  if (!ticket) {
    net_->disconnect(peer, net::DisconnectReason::refused);
    return;
  }
  // A ticket for a match that has come and gone (a player who never made it in) must not
  // start it again with one player.
  if (finished_matches_.count(ticket->match_id) != 0) {
    if (ticket->role == net::TicketRole::spectator) ++stats_.spectators_refused;
    refuse(peer, net::DisconnectReason::refused, "the match is over");
    return;
  }
  if (ticket->role == net::TicketRole::spectator) return admit_spectator(peer, *ticket);
  auto& slot = matches_[ticket->match_id];
  if (!slot) {
    Config rules;
    rules.tick_rate_hz = config_.tick_rate_hz;
    rules.match_ticks = match_ticks_;
    rules.drones = config_.drones;
    rules.seed = config_.seed ^ ticket->match_id;
    // Cells half the view radius wide: a player's query reads 5 rows of 5 cells at most.
    const double cell = config_.view_radius_m > 0 ? config_.view_radius_m / 2 : 1.0;
    auto replicator = sim::ServerReplicator::create(schema(), replicator_config());
    auto spectator_replicator =
        sim::ServerReplicator::create(schema(), spectator_replicator_config());
    if (!replicator || !spectator_replicator) {
      // start() refused the configs these refuse, and the schema is the game's own: only a bug
      // gets here. The player is told, and the server goes on.
      matches_.erase(ticket->match_id);
      refuse(peer, net::DisconnectReason::refused, "the match could not start");
      return;
    }
    slot = std::make_unique<Match>(ticket->match_id, rules, std::move(replicator.value()),
                                   std::move(spectator_replicator.value()), cell);
    if (config_.observer) config_.observer->match_began(ticket->match_id, rules);
    prioritize_nearby(*slot);
    if (config_.view_radius_m > 0) limit_to_view(*slot);
    if (config_.on_match_began) config_.on_match_began(ticket->match_id);
  }
  Match& match = *slot;
  if (match.over_at) {
    net_->disconnect(peer, net::DisconnectReason::refused);  // the match is over
    return;
  }
  auto [entry, fresh] = match.by_lobby_player.try_emplace(ticket->player_id);
  if (fresh) entry->second.entity = match.next_entity++;
  // Back within the grace: their entity is still in the world, where they left it.
  bool in_world = entry->second.left_at.has_value();
  if (entry->second.connected) {
    // The same player with a newer ticket (the lobby issues one per seat per return): their old
    // connection is a dead one, a crashed game whose peer has not timed out yet. The new one
    // takes over the entity.
    for (auto it = match.players.begin(); it != match.players.end(); ++it) {
      if (it->second.lobby_player_id != ticket->player_id) continue;
      seats_.erase(it->first);
      match.replicator->remove_client(it->first);
      match.viewers.erase(it->first);
      net_->disconnect(it->first, net::DisconnectReason::kicked);
      match.players.erase(it);
      in_world = true;
      break;
    }
  }
  entry->second.connected = true;
  entry->second.left_at.reset();
  Player player{.peer = peer, .entity = entry->second.entity, .lobby_player_id = ticket->player_id};
  Player& seated = match.players.try_emplace(peer, player).first->second;
  if (!in_world) {
    match.world.add_player(player.entity);
    if (config_.observer) config_.observer->player_joined(match.id, player.entity);
  }
  match.replicator->add_client(peer);
  seats_[peer] = {.match = &match, .player = &seated};
  match.scores_changed = true;

  FlatBufferBuilder fbb;
  const auto joined = match::CreateJoined(
      fbb, player.entity, match.id, config_.tick_rate_hz, config_.snapshot_rate_hz, match_ticks_,
      /*spectator=*/false, /*delay_ms=*/0, static_cast<float>(config_.view_radius_m));
  const auto message = finish(fbb, match::MatchBody::Joined, joined.Union());
  (void)net_->send(peer, kMatchChannel, net::Delivery::reliable_ordered, message);
  stats_.bytes_sent += message.size();
}

void ArenaServer::on_disconnected(net::PeerId peer) {
  reports_->on_disconnected(peer);
  const auto found = seats_.find(peer);
  if (found == seats_.end()) return;
  Match& match = *found->second.match;
  seats_.erase(found);
  if (match.spectators.erase(peer) != 0) {
    match.spectator_replicator->remove_client(peer);
    return;
  }
  const auto player = match.players.find(peer);
  if (player == match.players.end()) return;
  Match::Entry& entry = match.by_lobby_player[player->second.lobby_player_id];
  entry.connected = false;
  if (match.over_at || config_.reconnect_grace_ms == 0) {
    match.world.remove_player(player->second.entity);
    if (config_.observer) config_.observer->player_left(match.id, player->second.entity);
  } else {
    entry.left_at = std::chrono::steady_clock::now();  // idle until they return or time runs out
  }
  match.replicator->remove_client(peer);
  match.viewers.erase(peer);
  match.players.erase(player);
  match.scores_changed = true;
}

void ArenaServer::tick() {
  const double cpu_start = thread_cpu_us();
  const auto now = std::chrono::steady_clock::now();
  for (auto it = matches_.begin(); it != matches_.end();) {
    Match& match = *it->second;
    if (match.over_at) {
      remember_finished(match.id);
      // Linger so the final scores arrive, then close; the match goes once everyone is gone.
      const auto linger = std::chrono::milliseconds(config_.linger_ms);
      if (!match.closing && now - *match.over_at >= linger) {
        match.closing = true;
        for (const auto& [peer, player] : match.players)
          net_->disconnect(peer, net::DisconnectReason::closed);
      }
      // Spectators are a delay behind: they see the end, and its final scores, that much later.
      stream_to_spectators(match, ++match.stream_tick);
      if (!match.stream_drained_at && match.delayed_states.empty() &&
          match.delayed_messages.empty()) {
        match.stream_drained_at = now;
      }
      if (!match.spectators_closing && match.stream_drained_at &&
          now - *match.stream_drained_at >= linger) {
        match.spectators_closing = true;
        for (const auto& [peer, spectator] : match.spectators)
          net_->disconnect(peer, net::DisconnectReason::closed);
      }
      if (match.players.empty() && match.spectators.empty()) {
        worker_cpu_us_finished_ += match.replicator->worker_cpu_seconds() * 1e6;
        if (config_.observer) config_.observer->match_closed(match.id);
        it = matches_.erase(it);
        continue;
      }
    } else {
      release_absentees(match, now);
      if (match.players.empty() &&
          std::none_of(match.by_lobby_player.begin(), match.by_lobby_player.end(),
                       [](const auto& entry) { return entry.second.left_at.has_value(); })) {
        // Everyone left before the end and nobody came back: the room goes back to the lobby.
        remember_finished(match.id);
        close_spectators(match, net::DisconnectReason::closed);
        if (config_.on_match_over) config_.on_match_over(match.id, net::MatchEndReason::abandoned);
        worker_cpu_us_finished_ += match.replicator->worker_cpu_seconds() * 1e6;
        if (config_.observer) config_.observer->match_closed(match.id);
        it = matches_.erase(it);
        continue;
      }
      tick_match(match);
    }
    ++it;
  }
  stats_.matches = matches_.size();
  stats_.spectators = 0;
  for (const auto& [id, match] : matches_)
    stats_.spectators += match->spectators.size();
  stats_.players = seats_.size() - stats_.spectators;
  stats_.snapshot_worker_cpu_us = worker_cpu_us_finished_;
  for (const auto& [id, match] : matches_)
    stats_.snapshot_worker_cpu_us += match->replicator->worker_cpu_seconds() * 1e6;
  stats_.tick_cpu_us_last = thread_cpu_us() - cpu_start;
  if (tick_cpu_us_.size() < 1'000'000) tick_cpu_us_.push_back(stats_.tick_cpu_us_last);
  tick_seconds_.observe(stats_.tick_cpu_us_last / 1e6);
}

void ArenaServer::tick_match(Match& match) {
  const auto tick = static_cast<sim::WireTick>(match.world.tick() + 1);
  std::map<PlayerId, PlayerInput>& inputs = match.inputs;
  for (auto& [peer, player] : match.players) {
    PlayerInput input = player.last_input;
    input.fire = false;  // a held input moves and aims, never shoots again
    if (match.replicator->take_input(peer, tick, match.input_bytes)) {
      if (auto decoded = decode_input(match.input_bytes, tick)) {
        input = *decoded;
        player.last_input = input;
        ++stats_.inputs_applied;
      } else {
        ++stats_.inputs_rejected;
      }
    } else {
      ++stats_.inputs_missing;
    }
    inputs[player.entity] = input;
  }
  // Every connected player's entity has its entry: any more are of players who left.
  if (inputs.size() > match.players.size()) {
    std::erase_if(inputs, [&](const auto& entry) {
      return std::none_of(match.players.begin(), match.players.end(),
                          [&](const auto& player) { return player.second.entity == entry.first; });
    });
  }
  match.world.step(inputs);
  if (config_.observer) config_.observer->ticked(match.id, inputs, match.world);
  ++stats_.ticks;

  for (auto& [lobby_id, entry] : match.by_lobby_player) {
    const PlayerState* state = match.world.player(entry.entity);
    if (state == nullptr) continue;  // gone for good
    // Deaths wait for the next score table: scores themselves travel in the snapshots. An idle
    // entity whose player is reconnecting can die too.
    if (entry.was_alive && !state->alive) ++entry.deaths;
    entry.was_alive = state->alive;
  }

  // The players whose snapshot goes out this tick (half of them each tick at the defaults), and
  // the spectators' record of the snapshot ticks.
  match.snapshot_peers.clear();
  match.replicator->clients_due(tick, match.snapshot_peers);
  std::erase_if(match.snapshot_peers,
                [&](net::PeerId peer) { return player_in(match, peer) == nullptr; });
  const bool spectators_due = match.replicator->snapshot_due(tick);
  if (!match.snapshot_peers.empty() || spectators_due) {
    sim::WorldState state = match.world.state(std::move(match.spare_state));
    if (!match.snapshot_peers.empty()) send_snapshots(match, tick, state);
    if (spectators_due) {
      match.delayed_states.push_back({tick, std::move(state)});
    } else {
      match.spare_state = std::move(state);
    }
  }

  match.stream_tick = tick;
  if (match.world.match_over()) {
    send_scores(match, true);
    stream_to_spectators(match, tick);
    match.over_at = std::chrono::steady_clock::now();
    ++stats_.matches_finished;
    if (config_.on_match_over) config_.on_match_over(match.id, net::MatchEndReason::finished);
    return;
  }
  if (++match.ticks_since_scores >=
          static_cast<std::uint64_t>(config_.scoreboard_interval_s * config_.tick_rate_hz) ||
      match.scores_changed) {
    send_scores(match, false);
  }
  send_due_scoreboards(match);
  stream_to_spectators(match, tick);
}

ArenaServer::Player* ArenaServer::player_in(const Match& match, net::PeerId peer) const {
  const auto found = seats_.find(peer);
  return found != seats_.end() && found->second.match == &match ? found->second.player : nullptr;
}

void ArenaServer::release_absentees(Match& match, std::chrono::steady_clock::time_point now) {
  const auto grace = std::chrono::milliseconds(config_.reconnect_grace_ms);
  for (auto& [lobby_id, entry] : match.by_lobby_player) {
    if (!entry.left_at || now - *entry.left_at < grace) continue;
    entry.left_at.reset();
    match.world.remove_player(entry.entity);
    if (config_.observer) config_.observer->player_left(match.id, entry.entity);
    match.scores_changed = true;
  }
}

void ArenaServer::remember_finished(std::uint64_t match_id) {
  // Tickets live 30 s by default: the last few thousand matches are plenty to remember.
  constexpr std::size_t kRemembered = 4096;
  if (!finished_matches_.insert(match_id).second) return;
  finished_order_.push_back(match_id);
  if (finished_order_.size() > kRemembered) {
    finished_matches_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

std::pair<double, double> ArenaServer::take_tick_percentiles() {
  if (tick_cpu_us_.empty()) return {0, 0};
  std::vector<double> sorted = std::move(tick_cpu_us_);
  tick_cpu_us_.clear();
  std::sort(sorted.begin(), sorted.end());
  return {percentile_of_sorted(sorted, 0.5), percentile_of_sorted(sorted, 0.99)};
}

}  // namespace arena
