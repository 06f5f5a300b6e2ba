#include "arena_client.hpp"

#include <algorithm>
#include <cmath>

#include <tickwire/schemas/aligned_view.hpp>

#include "arena_match_generated.h"
#include "arena_server.hpp"
#include "host_port.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;

// Positions travel at 4 mm precision: a prediction within that of the server's is right.
constexpr double kQuantizationSlack = 0.005;

PlayerState step_player(const Config& rules, const PlayerState& state, const PlayerInput& input) {
  PlayerState next = state;
  if (next.alive) World::move_player(rules, next, input);  // the dead stand still, as on the server
  return next;
}

double field(const sim::WorldState::Entity& entity, std::size_t index) {
  return schema().dequantize(entity.type, index, entity.fields[index]);
}

// Sends bug reports (send_report) and accepts nothing: the server pushes no files.
net::Result<std::unique_ptr<net::FileTransfer>> make_report_sender(net::Transport& transport) {
  net::FileTransferConfig transfers;
  transfers.channel = kReportChannel;
  transfers.max_transfers_per_peer = 1;
  // A report a dropped connection cut short is not resumed: the player sends another.
  transfers.resume_timeout_ms = 0;
  // Capped, as a transfer beside a match should be: uncapped, a transfer on a fast path keeps
  // the receiving thread busy enough to delay the snapshot behind a chunk (docs/benchmarks.md
  // "File transfer"). A screenshot of a few tens of KiB still leaves at once (the budget saves
  // up a tenth of a second's worth).
  transfers.max_bytes_per_second = 1024 * 1024;
  transfers.receive.accept = false;
  return net::FileTransfer::create(transport, std::move(transfers));
}

}  // namespace

net::Result<std::unique_ptr<ArenaClient>> ArenaClient::connect(const ClientConfig& config) {
  if (config.ticks_per_update < 1 || config.ticks_per_update > kMaxTicksPerUpdate) {
    return net::Status::error("ticks_per_update = " + std::to_string(config.ticks_per_update) +
                              " is invalid: use 1.." + std::to_string(kMaxTicksPerUpdate));
  }
  const auto address = parse_host_port(config.server_address);
  if (!address) {
    return net::Status::error("game server address '" + config.server_address +
                              "' is not host:port");
  }
  // ENet first; WebSocket when UDP gets no answer, if the server has an endpoint there. The
  // game code below does not know which one carries it.
  net::GameplayClientConfig play;
  play.enet.server_host = address->host;
  play.enet.server_port = config.port_override != 0 ? config.port_override : address->port;
  play.enet.common.channel_count = kGameChannels;
  play.join_ticket = config.ticket;
  play.session_keys = config.session_keys;
  const auto websocket = parse_host_port(config.websocket_address);
  play.policy.gameplay_falls_back_to_websocket = websocket.has_value();
  if (websocket) {
    play.enet.connect_timeout_ms = config.udp_timeout_ms;
    play.websocket.server_host = websocket->host;
    play.websocket.server_port = websocket->port;
    play.websocket.connect_timeout_ms = config.connect_timeout_ms;
    // The session's own sealing protects it (the server's endpoint has no TLS).
    play.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    play.websocket.common.channel_count = kGameChannels;
  } else {
    if (!config.websocket_address.empty()) {
      return net::Status::error("WebSocket address '" + config.websocket_address +
                                "' is not host:port");
    }
    play.enet.connect_timeout_ms = config.connect_timeout_ms;
    // Not used, but named: nothing defaults to localhost.
    play.websocket.server_host = address->host;
    play.websocket.server_port = address->port;
  }
  auto transport = net::make_gameplay_client(play);
  if (!transport) return net::Status::error(transport.error());
  auto reports = make_report_sender(*transport.value());
  if (!reports) return net::Status::error(reports.error());
  return std::unique_ptr<ArenaClient>(new ArenaClient(
      std::move(transport.value()), std::move(reports.value()), config.ticks_per_update));
}

ArenaClient::ArenaClient(std::unique_ptr<net::GameplayClient> net,
                         std::unique_ptr<net::FileTransfer> reports, std::uint32_t ticks_per_update)
    : net_(std::move(net)),
      reports_(std::move(reports)),
      predictor_(
          PlayerState{},
          [this](const PlayerState& state, const PlayerInput& input) {
            return step_player(rules_, state, input);
          },
          [](const PlayerState& a, const PlayerState& b) {
            const double distance = std::hypot(a.x - b.x, a.y - b.y);
            return distance <= kQuantizationSlack ? 0.0 : distance;
          },
          128),
      ticks_per_update_(ticks_per_update) {}

ArenaClient::~ArenaClient() {
  if (net_->state() == net::ClientState::connected) {
    net_->disconnect(net_->server(), net::DisconnectReason::closed);
    net_->flush();
  }
}

double ArenaClient::now_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
}

double ArenaClient::remaining_seconds() const {
  return remaining_ticks_ / rules_.tick_rate_hz;
}

void ArenaClient::update(std::chrono::nanoseconds frame_time, const Intent& intent,
                         std::chrono::milliseconds wait) {
  handle_events(wait);
  reports_->update();
  take_report_events();
  if (phase_ == ClientPhase::playing && !spectating_) run_ticks(frame_time, intent);
  if (spectating_ && ack_due_ && replicator_) {
    // A spectator's update only acknowledges (the deltas it is sent build on it): one per frame
    // that brought snapshots.
    ack_due_ = false;
    (void)net_->send(kSnapshotChannel, net::Delivery::unreliable, replicator_->update_message());
  }
  net_->flush();
  update_graph();
}

std::string ArenaClient::disconnect_text() const {
  if (disconnect_reason_ == net::DisconnectReason::ticket_rejected &&
      ticket_refusal_ != net::TicketRefusal::none) {
    return "ticket refused: " + std::string(net::to_string(ticket_refusal_));
  }
  if (!refusal_.empty()) return std::string(net::to_string(disconnect_reason_)) + ": " + refusal_;
  return std::string(net::to_string(disconnect_reason_));
}

std::uint64_t ArenaClient::wire_bytes_received() const {
  if (net_->state() != net::ClientState::connected) return 0;
  const auto stats = net_->stats(net_->server());
  return stats ? stats->wire_bytes_received : 0;
}

const sim::WorldState* ArenaClient::received(sim::WireTick tick) const {
  return replicator_ ? replicator_->at(tick) : nullptr;
}

sim::WireTick ArenaClient::latest_received_tick() const {
  return replicator_ ? replicator_->latest_tick() : 0;
}

void ArenaClient::handle_events(std::chrono::milliseconds wait) {
  net::Event event;
  while (net_->poll(event, wait)) {
    wait = std::chrono::milliseconds(0);
    switch (event.type) {
      case net::EventType::connected:
        break;  // Joined follows once the server has taken the ticket
      case net::EventType::disconnected:
        reports_->on_disconnected(event.peer);
        disconnect_reason_ = event.reason;
        ticket_refusal_ = event.ticket_refusal;
        phase_ = ClientPhase::disconnected;
        return;
      case net::EventType::message:
        if (event.channel == kSnapshotChannel) {
          on_snapshot(event.payload.bytes());
        } else if (event.channel == kReportChannel) {
          reports_->on_message(event.peer, event.payload.bytes());
        } else {
          on_match_message(event.payload.bytes());
        }
        break;
    }
  }
}

void ArenaClient::on_match_message(std::span<const std::byte> bytes) {
  const tickwire::schemas::AlignedView view(bytes);
  flatbuffers::Verifier verifier(view.data(), view.size());
  if (!match::VerifyMatchMessageBuffer(verifier)) {
    ++malformed_match_messages_;
    return;
  }
  const auto* message = match::GetMatchMessage(view.data());
  const auto read_scores = [&](const flatbuffers::Vector<flatbuffers::Offset<match::Score>>* in) {
    scores_.clear();
    if (in == nullptr) return;
    for (const match::Score* score : *in) {
      scores_.push_back({score->entity_id(), score->lobby_player_id(), score->score(),
                         score->deaths(), score->connected()});
    }
    std::sort(scores_.begin(), scores_.end(),
              [](const ScoreLine& a, const ScoreLine& b) { return a.score > b.score; });
  };
  switch (message->body_type()) {
    case match::MatchBody::Joined: {
      if (phase_ != ClientPhase::connecting) break;
      const auto* joined = message->body_as_Joined();
      const double tick_rate = joined->tick_rate_hz();
      const double snapshot_rate = joined->snapshot_rate_hz();
      if (!(tick_rate > 0 && tick_rate <= 1000 && snapshot_rate > 0 &&
            snapshot_rate <= tick_rate)) {
        ++malformed_match_messages_;
        break;
      }
      // The rates come from the server: whatever the engine refuses, so does the client.
      sim::ReplicatorConfig replication;
      replication.tick_rate_hz = tick_rate;
      replication.snapshot_rate_hz = snapshot_rate;
      // Every input in about kInputCopies updates, however many ticks an update covers.
      replication.input_redundancy = kInputCopies * ticks_per_update_;
      sim::InterpolationConfig interpolation;
      interpolation.tick_rate_hz = tick_rate;
      interpolation.snapshot_rate_hz = snapshot_rate;
      sim::ClockSyncConfig clock;
      clock.tick_rate_hz = tick_rate;
      // An input can wait ticks_per_update - 1 ticks for its update to leave: run that much
      // further ahead so that it still reaches the server before its tick.
      clock.safety_ticks += ticks_per_update_ - 1;
      auto replicator = sim::ClientReplicator::create(schema(), replication);
      auto interpolator = sim::Interpolator::create(schema(), interpolation);
      auto clock_sync = sim::ClockSync::create(clock);
      auto fixed = sim::FixedTickClock::create({.tick_rate_hz = tick_rate});
      if (!replicator || !interpolator || !clock_sync || !fixed) {
        ++malformed_match_messages_;
        break;
      }
      self_ = joined->entity_id();
      match_id_ = joined->match_id();
      spectating_ = joined->spectator();
      spectator_delay_ms_ = joined->delay_ms();
      remaining_ticks_ = joined->match_ticks();
      const float view_radius = joined->view_radius_m();
      view_radius_m_ = std::isfinite(view_radius) && view_radius > 0 ? view_radius : 0.0;
      rules_.tick_rate_hz = tick_rate;
      replicator_ = std::move(replicator.value());
      interpolator_ = std::move(interpolator.value());
      clock_sync_ = std::move(clock_sync.value());
      fixed_ = std::move(fixed.value());
      phase_ = ClientPhase::playing;
      break;
    }
    case match::MatchBody::Scoreboard:
      remaining_ticks_ = message->body_as_Scoreboard()->remaining_ticks();
      read_scores(message->body_as_Scoreboard()->scores());
      break;
    case match::MatchBody::MatchOver:
      remaining_ticks_ = 0;
      read_scores(message->body_as_MatchOver()->scores());
      phase_ = ClientPhase::over;
      break;
    case match::MatchBody::Refused: {
      // Shown as the player reads it: keep it short and printable.
      const auto* reason = message->body_as_Refused()->reason();
      refusal_ = reason != nullptr ? reason->str().substr(0, 200) : "refused";
      std::replace_if(
          refusal_.begin(), refusal_.end(), [](char c) { return c < ' ' || c == 127; }, '?');
      break;
    }
    default:
      ++malformed_match_messages_;
      break;
  }
}

void ArenaClient::on_snapshot(std::span<const std::byte> bytes) {
  if (!replicator_ || !replicator_->on_message(bytes)) return;
  ++graph_.snapshots;
  ack_due_ = true;
  const double now = now_seconds();
  const sim::WireTick tick = replicator_->latest_tick();
  const auto stats = net_->stats(net_->server());
  clock_sync_->on_snapshot(tick, now, stats ? stats->rtt_ms / 1000.0 : 0.0);
  interpolator_->add(tick, replicator_->latest(), now);

  const auto own = replicator_->latest().find(self_);
  if (!own || client_tick_ == 0) return;
  // The snapshot is the server's state after every input up to its tick (inputs that came late
  // were replaced by the one before), so replay only the inputs after it.
  PlayerState authoritative = predictor_.state();
  const PlayerFields& f = player_fields();
  authoritative.x = field(*own, f.x);
  authoritative.y = field(*own, f.y);
  authoritative.vx = field(*own, f.vx);
  authoritative.vy = field(*own, f.vy);
  authoritative.alive = field(*own, f.alive) != 0;
  authoritative.health = static_cast<int>(field(*own, f.health));
  authoritative.score = static_cast<int>(field(*own, f.score));
  const double before[] = {predictor_.state().x, predictor_.state().y};
  // Dying and respawning are the server's decisions, not mispredictions: the respawn point is
  // a jump no client could predict. Only corrections while alive count for the net graph.
  // The first snapshot is where the server spawned us, not a correction either.
  const bool alive_changed = authoritative.alive != predictor_.state().alive || !reconciled_once_;
  reconciled_once_ = true;
  const double error = predictor_.reconcile(tick, authoritative);
  if (error > 0) {
    const double after[] = {predictor_.state().x, predictor_.state().y};
    smoother_.corrected(before, after);
    if (!alive_changed) {
      ++graph_.corrections;
      graph_.last_correction_m = error;
      graph_.max_correction_m = std::max(graph_.max_correction_m, error);
    }
  }
}

void ArenaClient::run_ticks(std::chrono::nanoseconds frame_time, const Intent& intent) {
  // No snapshot yet: the server's tick is unknown.
  if (!clock_sync_ || !fixed_ || !clock_sync_->synced()) return;
  const double now = now_seconds();
  const double target = clock_sync_->target_tick(now);
  const double current = static_cast<double>(client_tick_) + fixed_->alpha();
  if (client_tick_ == 0 || target - current > clock_sync_->lead_ticks() + 30) {
    // Start (or jump) at the tick the server will be at when our input arrives. Ticks only go
    // forward: inputs already sent keep their ticks.
    client_tick_ = std::max<std::uint64_t>(client_tick_, static_cast<std::uint64_t>(target));
    // A fresh clock at the rate MatchJoined's create() accepted, so it is not refused now.
    if (auto fresh = sim::FixedTickClock::create({.tick_rate_hz = rules_.tick_rate_hz}))
      fixed_ = std::move(fresh.value());
    graph_.ticks_ahead = clock_sync_->lead_ticks();
    return;
  }
  if (current > target + 30) return;  // far ahead (the server stalled): wait for it
  const double scale = clock_sync_->time_scale(now, current);
  const auto scaled = std::chrono::nanoseconds(
      static_cast<std::int64_t>(static_cast<double>(frame_time.count()) * scale));
  const std::uint32_t ticks = fixed_->advance(scaled);
  if (ticks == 0) return;

  PlayerInput input;
  input.move_x = intent.move_x;
  input.move_y = intent.move_y;
  input.aim = intent.aim;
  input.fire = intent.fire;
  // Lag compensation: the tick the player saw remote entities at when firing.
  input.view_tick = static_cast<double>(replicator_->latest_tick()) -
                    interpolator_->buffered_seconds() * rules_.tick_rate_hz;
  for (std::uint32_t i = 0; i < ticks; ++i) {
    ++client_tick_;
    const std::vector<std::byte> wire = encode_input(input, client_tick_);
    // Predict with what the server will apply: the input as the wire quantizes it.
    predictor_.predict(client_tick_, decode_input(wire, client_tick_).value_or(PlayerInput{}));
    replicator_->add_input(static_cast<sim::WireTick>(client_tick_), wire);
    fixed_->tick_done();
    ++ticks_sent_;
    input.fire = false;  // one shot per frame at most
  }
  // One update once ticks_per_update ticks have run since the last, none for a frame that ran
  // fewer (a client drawing faster than that): at most one per frame. It carries the new inputs
  // and the unapplied ones before them; a frame of several ticks sends them in one datagram
  // (two updates would travel in one ENet batch anyway, the second repeating the first).
  if (client_tick_ >= last_update_tick_ + ticks_per_update_) {
    (void)net_->send(kSnapshotChannel, net::Delivery::unreliable, replicator_->update_message());
    last_update_tick_ = client_tick_;
  }
  graph_.ticks_ahead = static_cast<double>(client_tick_) - clock_sync_->server_tick(now);
}

std::vector<DrawEntity> ArenaClient::view() {
  std::vector<DrawEntity> out;
  if (!interpolator_) return out;
  const auto now = std::chrono::steady_clock::now();
  const double frame = std::chrono::duration<double>(now - last_view_).count();
  last_view_ = now;
  for (const sim::Interpolator::Entity& entity : interpolator_->sample(now_seconds())) {
    DrawEntity draw;
    draw.id = entity.id;
    draw.is_player = entity.type == player_type();
    if (draw.is_player) {
      const PlayerFields& f = player_fields();
      draw.x = entity.values[f.x];
      draw.y = entity.values[f.y];
      draw.aim = entity.values[f.aim];
      draw.health = static_cast<int>(entity.values[f.health]);
      draw.score = static_cast<int>(entity.values[f.score]);
      draw.alive = entity.values[f.alive] != 0;
    } else {
      draw.x = entity.values[drone_fields().x];
      draw.y = entity.values[drone_fields().y];
    }
    if (entity.id == self_) {
      // Our own player: where we predicted it, with corrections smoothed away; health and score
      // are the server's.
      draw.is_self = true;
      const double predicted[] = {predictor_.state().x, predictor_.state().y};
      double shown[2];
      smoother_.display(predicted, frame, shown);
      draw.x = shown[0];
      draw.y = shown[1];
      draw.aim = predictor_.state().aim;
    }
    out.push_back(draw);
  }
  return out;
}

void ArenaClient::update_graph() {
  if (net_->state() != net::ClientState::connected) return;
  const auto stats = net_->stats(net_->server());
  if (!stats) return;
  graph_.transport = net_->kind() == net::TransportKind::websocket ? "websocket" : "enet";
  graph_.rtt_ms = stats->rtt_ms;
  graph_.loss = stats->packet_loss;
  if (interpolator_) {
    graph_.interpolation_delay_ms = interpolator_->delay_seconds() * 1000;
    graph_.interpolation_buffer_ms = interpolator_->buffered_seconds() * 1000;
  }
  graph_.dropped_messages = malformed_match_messages_;
  if (replicator_) {
    const auto& counters = replicator_->counters();
    graph_.dropped_messages += counters.malformed + counters.stale + counters.missing_baseline;
  }
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - window_start_).count();
  if (elapsed >= 1.0) {
    graph_.kbps_in =
        static_cast<double>(stats->wire_bytes_received - window_bytes_in_) * 8 / 1000 / elapsed;
    // Wire bytes both ways, headers and acknowledgements included. A transport that counts none
    // sent (WebSocket, where TCP frames them) gives its message bytes instead.
    const std::uint64_t bytes_out =
        stats->wire_bytes_sent != 0 ? stats->wire_bytes_sent : stats->bytes_sent;
    graph_.kbps_out = static_cast<double>(bytes_out - window_bytes_out_) * 8 / 1000 / elapsed;
    window_bytes_in_ = stats->wire_bytes_received;
    window_bytes_out_ = bytes_out;
    window_start_ = now;
  }
}

}  // namespace arena
