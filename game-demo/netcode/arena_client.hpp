#pragma once
// The Arena game client's networking, shared by the SDL2 client and the bots: connects to the game
// server with the lobby's join ticket, runs the player's own ticks ahead of the server (clock
// sync), predicts the player's own movement and reconciles it with the server's snapshots,
// interpolates everyone else, and keeps the numbers a net graph shows.
//
// Runs on the caller's thread: call update() once per frame.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tickwire/net/file_transfer.hpp>
#include <tickwire/net/status.hpp>
#include <tickwire/net/traffic_policy.hpp>
#include <tickwire/sim/clock_sync.hpp>
#include <tickwire/sim/fixed_tick.hpp>
#include <tickwire/sim/interpolation.hpp>
#include <tickwire/sim/prediction.hpp>
#include <tickwire/sim/replicator.hpp>

#include "arena_rules.hpp"

namespace arena {

struct ClientConfig {
  // "host:port" of the game server (from the lobby's MatchStart) and the ticket to present.
  std::string server_address;
  // "host:port" of its WebSocket endpoint (MatchStart's websocket_address): where the client
  // goes, with the same ticket, when UDP gets no answer within udp_timeout_ms. Empty: UDP only.
  std::string websocket_address;
  std::vector<std::byte> ticket;
  // The session keys that came with the ticket (LobbyMatch::session_keys). Unset only for a
  // server that runs without encryption.
  std::optional<tickwire::net::SessionKeys> session_keys;
  // The port to connect to instead of the one in server_address (a link simulator in between).
  std::uint16_t port_override = 0;
  // Connecting must finish within this long, in milliseconds (over UDP alone, or over WebSocket
  // after the fallback).
  std::uint32_t connect_timeout_ms = 5000;
  // With a WebSocket endpoint: how long UDP may go unanswered before the client falls back.
  std::uint32_t udp_timeout_ms = 1500;
  // Ticks between two client updates, 1..kMaxTicksPerUpdate. Each update carries every input
  // the server has not applied yet (up to kInputCopies updates' worth), so fewer updates cost
  // no input under loss, but an input waits for the next update: the client runs this many
  // ticks minus one further ahead of the server, which players feel as input latency (one tick,
  // 16.7 ms at 60 Hz, at 2). Each update is a datagram with about 57 bytes of headers, seal
  // and FlatBuffers envelope: at 60 Hz, 1 costs about 36 kbit/s upstream and 2 about 20
  // (docs/tuning.md). Default 2.
  std::uint32_t ticks_per_update = 2;
};

enum class ClientPhase : std::uint8_t { connecting, playing, over, disconnected };

// What the player wants this frame (the client turns it into one input per tick).
struct Intent {
  std::int8_t move_x = 0;
  std::int8_t move_y = 0;
  float aim = 0;
  bool fire = false;
};

struct DrawEntity {
  tickwire::sim::EntityId id = 0;
  bool is_player = false;
  bool is_self = false;
  double x = 0, y = 0;
  double aim = 0;
  int health = 0;
  int score = 0;
  bool alive = true;
};

struct ScoreLine {
  tickwire::sim::EntityId entity = 0;
  std::uint64_t lobby_player_id = 0;
  int score = 0;
  int deaths = 0;
  bool connected = false;
};

// The numbers of the net graph overlay.
struct NetGraph {
  const char* transport = "enet";  // what carries the game: "enet" (UDP) or "websocket" (TCP)
  double rtt_ms = 0;
  double loss = 0;  // round-trip loss, 0..1 (ConnectionStats::packet_loss)
  double kbps_in = 0;
  double kbps_out = 0;
  double interpolation_delay_ms = 0;   // how far behind the server remote entities are shown
  double interpolation_buffer_ms = 0;  // of that, snapshots in hand (negative: extrapolating)
  std::uint64_t corrections = 0;       // predictions the server corrected (deaths, respawns aside)
  double last_correction_m = 0;
  double max_correction_m = 0;
  double ticks_ahead = 0;  // how far the client runs ahead of the server, ticks
  std::uint64_t snapshots = 0;
  std::uint64_t dropped_messages = 0;  // malformed or stale snapshots, bad match messages
};

// A bug report on its way to the server (ArenaClient::send_report).
struct ReportProgress {
  enum class State : std::uint8_t { none, sending, sent, failed };
  State state = State::none;
  std::uint64_t bytes_done = 0;  // confirmed by the server
  std::uint64_t total = 0;       // the file's size, once the server has accepted it
  std::string error;             // failed: what went wrong, as a player reads it
};

class ArenaClient {
 public:
  static tickwire::net::Result<std::unique_ptr<ArenaClient>> connect(const ClientConfig& config);
  ~ArenaClient();
  ArenaClient(const ArenaClient&) = delete;
  ArenaClient& operator=(const ArenaClient&) = delete;

  // Takes in what arrived, runs the ticks due for `frame_time` with `intent`, sends the inputs.
  // `wait` > 0 blocks up to that long for network input first (bots pace themselves with it).
  void update(std::chrono::nanoseconds frame_time, const Intent& intent,
              std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  ClientPhase phase() const { return phase_; }
  tickwire::net::DisconnectReason disconnect_reason() const { return disconnect_reason_; }
  // Why the connection ended, as a player reads it: "ticket refused: expired" when the server
  // said why it refused the ticket, the server's own words when it refused us after admitting
  // the ticket ("server_full: the match has as many spectators as it allows (16)"), else the
  // reason's name.
  std::string disconnect_text() const;
  tickwire::sim::EntityId self() const { return self_; }
  std::uint64_t match_id() const { return match_id_; }
  // A spectator (the ticket was a spectator's): no entity of its own (self() is 0), no inputs
  // sent, and everything arrives spectator_delay_seconds() after it happened.
  bool spectating() const { return spectating_; }
  double spectator_delay_seconds() const { return spectator_delay_ms_ / 1000.0; }
  // The world as the snapshot of `tick` gave it, while the replicator still holds it.
  const tickwire::sim::WorldState* received(tickwire::sim::WireTick tick) const;
  tickwire::sim::WireTick latest_received_tick() const;
  // What to draw now: remote entities interpolated, the player's own predicted and smoothed.
  std::vector<DrawEntity> view();
  // The player's own predicted state (not smoothed).
  const PlayerState& predicted() const { return predictor_.state(); }
  const std::vector<ScoreLine>& scores() const { return scores_; }
  double remaining_seconds() const;
  // How far from the player's own entity the server sends the others, metres (0: everywhere):
  // beyond it, the view has nothing, whatever is there.
  double view_radius_m() const { return view_radius_m_; }
  const NetGraph& net_graph() const { return graph_; }
  // Bytes received on the wire (headers and acknowledgements included) since connecting; 0 when
  // not connected.
  std::uint64_t wire_bytes_received() const;
  std::uint64_t ticks_sent() const { return ticks_sent_; }

  // Sends a bug report to the server: the PNG file at `png` (a screenshot of what the player
  // sees), over the game connection in chunks paced beside the match's traffic, at most
  // 1 MiB/s. One at a time,
  // during the match; the server keeps it with the match and tick it came from (or refuses it:
  // too large, reports off, which report() then says). Fails at once if a report is still on
  // its way, the match has not begun, or the file cannot be read.
  tickwire::net::Status send_report(const std::filesystem::path& png);
  const ReportProgress& report() const { return report_; }

 private:
  ArenaClient(std::unique_ptr<tickwire::net::GameplayClient> net,
              std::unique_ptr<tickwire::net::FileTransfer> reports, std::uint32_t ticks_per_update);
  double now_seconds() const;
  void handle_events(std::chrono::milliseconds wait);
  void on_snapshot(std::span<const std::byte> bytes);
  void on_match_message(std::span<const std::byte> bytes);
  void run_ticks(std::chrono::nanoseconds frame_time, const Intent& intent);
  void update_graph();
  // What the report's transfer did since the last frame (arena_client_reports.cpp).
  void take_report_events();

  std::unique_ptr<tickwire::net::GameplayClient> net_;
  std::unique_ptr<tickwire::net::FileTransfer> reports_;  // over net_; never null
  ReportProgress report_;
  Config rules_;
  std::unique_ptr<tickwire::sim::ClientReplicator> replicator_;
  std::unique_ptr<tickwire::sim::Interpolator> interpolator_;
  // Both made when the server says the match's rates (MatchJoined); none before.
  std::optional<tickwire::sim::ClockSync> clock_sync_;
  std::optional<tickwire::sim::FixedTickClock> fixed_;
  tickwire::sim::Predictor<PlayerState, PlayerInput> predictor_;
  tickwire::sim::CorrectionSmoother smoother_{2};
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_view_ = epoch_;

  ClientPhase phase_ = ClientPhase::connecting;
  tickwire::net::DisconnectReason disconnect_reason_ = tickwire::net::DisconnectReason::timeout;
  tickwire::net::TicketRefusal ticket_refusal_ = tickwire::net::TicketRefusal::none;
  tickwire::sim::EntityId self_ = 0;
  std::uint64_t match_id_ = 0;
  bool spectating_ = false;
  std::uint32_t spectator_delay_ms_ = 0;
  bool ack_due_ = false;  // a spectator got a snapshot it has not acknowledged yet
  std::string refusal_;   // why the server refused us (its Refused message)
  std::uint32_t remaining_ticks_ = 0;
  double view_radius_m_ = 0;
  bool reconciled_once_ = false;
  std::uint64_t client_tick_ = 0;  // the last tick this client simulated (0 = not started)
  std::uint64_t ticks_sent_ = 0;
  std::uint32_t ticks_per_update_ = 2;  // ClientConfig::ticks_per_update
  std::uint64_t last_update_tick_ = 0;  // the client tick of the last update sent
  std::vector<ScoreLine> scores_;
  NetGraph graph_;
  // For the kbit/s figures: the counters at the start of the current one-second window.
  std::chrono::steady_clock::time_point window_start_ = epoch_;
  std::uint64_t window_bytes_in_ = 0;
  std::uint64_t window_bytes_out_ = 0;
  std::uint64_t malformed_match_messages_ = 0;
};

}  // namespace arena
