#pragma once
// The Arena game server: admits players by the join tickets the lobby signed, runs one match per
// match id the tickets name (the lobby may start several rooms' matches on one server), steps each
// match's World at the fixed tick rate with the players' inputs, and sends every player
// delta-compressed snapshots, the score table and the end of the match. Spectators (tickets with
// the spectator role) get the same stream delayed by spectator_delay_ms, and have no entity and
// no say in the match.
//
// Runs on the caller's thread: call run_for() from the program's main loop.

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/net/file_transfer.hpp>
#include <tickwire/net/join_ticket.hpp>
#include <tickwire/net/metrics.hpp>
#include <tickwire/net/status.hpp>
#include <tickwire/net/websocket_transport.hpp>
#include <tickwire/sim/fixed_tick.hpp>
#include <tickwire/sim/replicator.hpp>

#include "arena_rules.hpp"
#include "match_observer.hpp"

namespace arena {

// Channels of a game connection.
inline constexpr tickwire::net::Channel kMatchChannel = 0;     // reliable: MatchMessage
inline constexpr tickwire::net::Channel kSnapshotChannel = 1;  // snapshots, client updates
inline constexpr tickwire::net::Channel kReportChannel = 2;    // bug reports (FileTransfer)
inline constexpr std::size_t kGameChannels = 3;
// The FileTransfer kind of a bug report: a PNG of what the player saw.
inline constexpr char kBugReportKind[] = "bug-report";

// Client updates: a client sends one every 1..kMaxTicksPerUpdate ticks, and each of its inputs
// travels in about kInputCopies of them (the redundancy that carries inputs through loss), so
// the server accepts updates of up to kInputCopies * kMaxTicksPerUpdate inputs.
inline constexpr std::size_t kInputCopies = 8;
inline constexpr std::uint32_t kMaxTicksPerUpdate = 4;

struct ServerConfig {
  tickwire::net::EnetServerConfig enet;  // bind address, port, max players, security
                                         // (require_ticket set from the fields below)
  // Where players whose UDP gets no answer connect instead (bind address, port, limits); unset:
  // UDP only. Tickets, session security, channels and message size are those of `enet`; the
  // session's own sealing protects it, so it runs without TLS.
  std::optional<tickwire::net::WebSocketServerConfig> websocket;
  tickwire::net::TicketPublicKey lobby_key{};
  // This server's sealing key pair: the lobby seals the session keys in each ticket to its public
  // half. Needed while enet.security is encrypted (the default); unused in plaintext.
  tickwire::net::GameServerSealKeys seal_keys{};
  // This server as tickets name it, "host:port" (the address players are told to connect to).
  std::string public_address = "127.0.0.1:7777";
  double tick_rate_hz = 60;
  double snapshot_rate_hz = 30;
  // Snapshot body bytes per player at most (the replicator's budget). What does not fit waits
  // for a later snapshot, nearest first, while the client extrapolates it from its velocity; the
  // player's own entity always goes first. 160 bytes at 30 Hz keeps a player's downstream,
  // scores and headers included, under 64 kbit/s with 64 players (docs/benchmarks.md). 0 = no
  // limit.
  std::size_t snapshot_budget_bytes = 160;
  // How far from their own entity a player is sent the others, in metres: the server indexes
  // every entity in a grid once per snapshot and each player's snapshot considers only what is
  // within this radius, so its cost follows the crowd near the player, not the whole match. The
  // client is told the radius (Joined) and draws it around the player: the edge of their sight,
  // beyond which nothing is drawn. The default, 45 m, is the weapon's 40 m range and a margin:
  // whatever can hit a player is on their screen. 0 = the whole arena (every entity considered
  // for every player).
  double view_radius_m = 45;
  // Threads that encode a tick's snapshots, this one included (the replicator's
  // encode_threads; docs/tuning.md says when more than 1 pays). 1..64. Default 1.
  std::size_t snapshot_threads = 1;
  // While no tick is due, how long the server lets input gather after a wait that found some, in
  // microseconds, before it waits for the network again: it then takes what arrived meanwhile in
  // one go instead of waking, and servicing its transport, for each datagram. Input waits no
  // longer for it, since it is used only at the next tick; what it costs is up to this much more
  // round trip on the transport's acknowledgements and pings. 0..100000 (0: wake for every
  // datagram). Default 1000.
  std::uint32_t network_batch_us = 1000;
  // Seconds between score tables (they also go out when a player joins or leaves). A table
  // reaches the players over half a second, a share of them each tick.
  double scoreboard_interval_s = 3;
  double match_seconds = 180;
  int drones = 30;
  // After a match ends, its players are disconnected this long later (they read the final
  // scores first).
  std::uint32_t linger_ms = 2000;
  // Messages from one player that are not a valid client update (garbage, anything on the match
  // channel) before the player is disconnected with protocol_error.
  std::uint32_t max_malformed_per_player = 32;
  std::uint64_t seed = 1;
  // A player whose connection drops mid-match keeps their entity (idle: it stands still), score
  // and team this long, in milliseconds; a new ticket for the same match and lobby player within
  // it puts them back in control of it. A match whose players have all left ends once the last
  // one's grace has passed. Default 30000.
  std::uint32_t reconnect_grace_ms = 30000;
  // Called (on the server's thread) when the first player of a match arrives, so that the lobby
  // knows it began (a match nobody reaches, it ends itself).
  std::function<void(std::uint64_t match_id)> on_match_began;
  // Called (on the server's thread) when a match ends, so the lobby can reopen its room: played
  // to its end (finished), or left by every player, none back within the reconnect grace
  // (abandoned).
  std::function<void(std::uint64_t match_id, tickwire::net::MatchEndReason reason)> on_match_over;
  // Spectators per match at most; one more is told so (a Refused message) and disconnected with
  // server_full. 0..1024 (0: no spectators). Default 16.
  std::uint32_t max_spectators_per_match = 16;
  // How far behind the match spectators see it, in milliseconds: a spectator who talks to a
  // player (voice, a second screen) can only tell them where everyone was this long ago, too
  // late to aim by. 0..60000. Default 3000.
  std::uint32_t spectator_delay_ms = 3000;
  // Snapshot body bytes per spectator at most, as snapshot_budget_bytes for a player. A
  // spectator has no entity of their own to favour, so everything shares it; 0 = no limit.
  // Default 400 (docs/benchmarks.md has what a spectator costs).
  std::size_t spectator_snapshot_budget_bytes = 400;
  // Told every change to every match's World (the replay recorder); null: nobody.
  std::shared_ptr<MatchObserver> observer;
  // Where players' bug reports go (created when missing). A player's client sends one (F8 in
  // the game's client) as a PNG of what they saw, over the game connection beside the match
  // (FileTransfer on kReportChannel, kind kBugReportKind); it is kept here as
  // "<UTC time>-match-<id>-tick-<tick>-player-<lobby id>.png", the tick being the match's when
  // the report began arriving: where to look in the match's replay. Reports arrive in its
  // "incoming" folder first. Only a PNG is kept; only players and spectators with a ticket may
  // send. Empty: reports are refused (the client is told uploads_disabled).
  std::string reports_directory;
  // A report's size at most, 1 KiB..64 MiB: a larger one is refused (too_large) before any of
  // it is sent. Default 4 MiB (a 1280x720 screenshot of the Arena is about 40 KiB).
  std::uint64_t max_report_bytes = 4ull * 1024 * 1024;
  // Reports kept in reports_directory: after each new one, the oldest beyond this many are
  // deleted, so that a player who keeps sending cannot fill the disk. 1..100000. Default 200.
  std::size_t keep_reports = 200;
  // Called (on the server's thread) with each report once it is kept, under its final name.
  std::function<void(const std::filesystem::path& report)> on_report;
};

// True for the name of a bug report as ArenaServer keeps it (ServerConfig::reports_directory).
bool is_report_file_name(std::string_view name);

struct ServerStats {
  std::size_t matches = 0;
  std::size_t players = 0;               // connected players, spectators not counted
  std::size_t spectators = 0;            // connected spectators, all matches
  std::uint64_t spectators_refused = 0;  // spectator tickets refused (cap, no such match running)
  std::uint64_t spectator_inputs_dropped = 0;  // inputs spectators sent (never applied)
  std::uint64_t spectator_bytes = 0;  // message payload bytes to spectators (not in bytes_sent)
  std::uint64_t ticks = 0;            // match ticks simulated, all matches
  std::uint64_t matches_finished = 0;
  std::uint64_t inputs_applied = 0;
  std::uint64_t inputs_missing = 0;       // a player had no input for a tick (it stood still)
  std::uint64_t inputs_rejected = 0;      // inputs that were not an arena Input
  std::uint64_t unexpected_messages = 0;  // from players on the match channel (server to player)
  std::uint64_t malformed_updates = 0;    // client updates that failed to decode
  std::uint64_t players_disconnected_for_abuse = 0;
  double tick_cpu_us_last = 0;       // CPU time of the last server tick (all matches)
  std::uint64_t bytes_sent = 0;      // message payload bytes to all players
  std::uint64_t snapshot_bytes = 0;  // of which snapshots
  std::uint64_t bytes_received = 0;  // message payload bytes from all players (their updates)
  std::uint64_t snapshots_sent = 0;
  // Ticks that sent snapshots of a match (each to the players whose phase it is: half of them at
  // the defaults), and of them those that sent a player theirs more than half a snapshot period
  // after it was due (the server had fallen behind).
  std::uint64_t snapshot_rounds = 0;
  std::uint64_t late_snapshot_rounds = 0;
  // Wall-clock time spent encoding snapshots (on every encoding thread at once), microseconds.
  double snapshot_encode_wall_us = 0;
  // CPU time of the snapshot encoding threads other than this one (snapshot_threads > 1), us.
  double snapshot_worker_cpu_us = 0;
  // Bug reports kept in reports_directory, and those that ended otherwise: refused (too large,
  // reports off), cut short (the player left), or not a PNG.
  std::uint64_t reports_received = 0;
  std::uint64_t reports_failed = 0;
};

class ArenaServer {
 public:
  static tickwire::net::Result<std::unique_ptr<ArenaServer>> start(const ServerConfig& config);
  ~ArenaServer();
  ArenaServer(const ArenaServer&) = delete;
  ArenaServer& operator=(const ArenaServer&) = delete;

  // Handles network events and runs the ticks that are due, sleeping in the network wait when
  // nothing is (and for network_batch_us after a wait that found input). Returns after
  // `duration`.
  void run_for(std::chrono::milliseconds duration);

  std::uint16_t port() const;  // UDP
  // The WebSocket endpoint's TCP port; 0 without one.
  std::uint16_t websocket_port() const;
  const ServerStats& stats() const { return stats_; }
  tickwire::net::TransportCounters counters() const;
  // The same, for each transport players connect over, named for metrics.
  std::vector<tickwire::net::LabelledTransportCounters> counters_by_transport() const;
  // Median and 99th percentile of the tick CPU times recorded since the last call, microseconds.
  std::pair<double, double> take_tick_percentiles();
  // Every tick's CPU time, in seconds; readable from any thread (the metrics endpoint's).
  const tickwire::net::Histogram& tick_seconds() const { return tick_seconds_; }

 private:
  struct Match;
  struct Player;
  struct Spectator;
  // `clock` is the tick clock start() made from config.tick_rate_hz. `enet` and `websocket` are
  // the transports inside `net` (for their ports and counters).
  // `reports` receives bug reports over `net`.
  ArenaServer(const ServerConfig& config, const tickwire::sim::FixedTickClock& clock,
              std::unique_ptr<tickwire::net::ServerTransport> net,
              const tickwire::net::ServerTransport* enet,
              const tickwire::net::ServerTransport* websocket,
              std::unique_ptr<tickwire::net::FileTransfer> reports);
  // Handles what the transport has, waiting up to `wait` for the first event; returns how many.
  std::size_t handle_events(std::chrono::milliseconds wait);
  void on_connected(tickwire::net::PeerId peer);
  void on_disconnected(tickwire::net::PeerId peer);
  void on_message(tickwire::net::Event& event);
  // Spectators (arena_spectators.cpp).
  void admit_spectator(tickwire::net::PeerId peer, const tickwire::net::JoinTicket& ticket);
  void on_spectator_message(Match& match, Spectator& spectator, tickwire::net::Event& event);
  void refuse(tickwire::net::PeerId peer, tickwire::net::DisconnectReason reason,
              const std::string& why);
  // Bug reports (arena_reports.cpp): the receiver start() makes (refusing a bad reports
  // config, naming the field); what its events say (a report began, is complete: filed under
  // its final name, or failed).
  static tickwire::net::Result<std::unique_ptr<tickwire::net::FileTransfer>> make_report_receiver(
      tickwire::net::ServerTransport& transport, const ServerConfig& config);
  void take_reports();
  struct ReportOrigin;
  void file_report(const tickwire::net::TransferEvent& completed, const ReportOrigin& origin);
  // Sends spectators what happened spectator_delay_ms before the match's `tick`.
  void stream_to_spectators(Match& match, std::uint32_t tick);
  void close_spectators(Match& match, tickwire::net::DisconnectReason reason);
  void tick();
  void tick_match(Match& match);
  // `peer`'s player in `match`, or null if `peer` is not one of its players.
  Player* player_in(const Match& match, tickwire::net::PeerId peer) const;
  // The snapshots of the players in match.snapshot_peers, of `state` at `tick`.
  void send_snapshots(Match& match, tickwire::sim::WireTick tick,
                      const tickwire::sim::WorldState& state);
  // The final scores go to every player at once; a score table to match.scoreboard_due, which
  // send_due_scoreboards() works through a share each tick.
  void send_scores(Match& match, bool final_scores);
  void send_due_scoreboards(Match& match);
  void send_match_message(Match& match, const std::vector<std::byte>& message);
  tickwire::sim::ReplicatorConfig replicator_config() const;
  tickwire::sim::ReplicatorConfig spectator_replicator_config() const;
  void remember_finished(std::uint64_t match_id);
  // Takes out of the world the entities of players whose reconnect grace has run out.
  void release_absentees(Match& match, std::chrono::steady_clock::time_point now);
  void prioritize_nearby(Match& match);
  void limit_to_view(Match& match);
  static void index_positions(Match& match, const tickwire::sim::WorldState& state);

  ServerConfig config_;
  std::unique_ptr<tickwire::net::ServerTransport> net_;
  const tickwire::net::ServerTransport* enet_;
  const tickwire::net::ServerTransport* websocket_;          // null without a WebSocket endpoint
  std::map<std::uint64_t, std::unique_ptr<Match>> matches_;  // by match id
  // Where each connected peer is: its match, and its player or spectator there. Those live in
  // node-based maps, so the pointers hold for as long as the peer is seated. Every message looks
  // its sender up here once, by hash, instead of walking four trees.
  struct Seat {
    Match* match = nullptr;
    Player* player = nullptr;        // null for a spectator
    Spectator* spectator = nullptr;  // null for a player
  };
  std::unordered_map<tickwire::net::PeerId, Seat> seats_;
  std::set<std::uint64_t> finished_matches_;  // ended matches, refused to late tickets
  std::deque<std::uint64_t> finished_order_;  // the same, oldest first, to forget the oldest
  tickwire::sim::FixedTickClock clock_;  // which ticks are due, from the time run_for() sees pass
  std::chrono::steady_clock::time_point last_advance_;  // when clock_ was last advanced
  std::uint32_t match_ticks_;                           // the length of every match, in ticks
  std::uint32_t delay_ticks_;                           // spectator_delay_ms in ticks
  std::vector<double> tick_cpu_us_;
  double worker_cpu_us_finished_ = 0;  // snapshot workers' CPU in matches that are gone
  // From 0.1 ms to a 60 Hz tick's whole budget and beyond.
  tickwire::net::Histogram tick_seconds_{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.0167, 0.025, 0.05, 0.1}};
  ServerStats stats_;
  std::unique_ptr<tickwire::net::FileTransfer> reports_;  // never null
  // The reports arriving: whose, and the match's tick when each began.
  struct ReportOrigin {
    tickwire::net::TransferId id;
    std::uint64_t match_id = 0;
    std::uint64_t tick = 0;
    std::uint64_t lobby_player_id = 0;
  };
  std::vector<ReportOrigin> report_origins_;
};

}  // namespace arena
