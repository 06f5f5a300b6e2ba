// The Arena game server under load: its tick CPU time (median, p99), its CPU per player per tick,
// whether snapshots went out on time, and the bandwidth each player receives, with 64 to 256 bots
// by default (up to 1000). The lobby and the game server run in this process (the
// game server on this thread, whose CPU time is what a tick costs); the bots run in a separate
// process (tickwire-bot, next to this program), go through the lobby and play.
//
// Every match is recorded, as tickwire-server does by default (MatchRecorder into a temporary
// folder); the recorder's CPU time, measured around each of its calls inside the tick plus that
// of its writer thread, is reported as a share of the tick CPU (--no-record turns recording off).
//
// With --spectators N, N spectators watch the match (tickets with the spectator role, issued here
// once the bots are in, as the lobby's SpectateMatch does), played on a thread of this process:
// their downstream is reported per spectator next to the players'.
//
// Baselines in the same run: the simulation alone (World::step for the same players and drones,
// no networking), and full snapshots (every entity, every field, each snapshot) of the same world,
// against which the delta snapshots' bandwidth is a ratio.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tickwire/net/lobby.hpp>
#include <tickwire/sim/replicator.hpp>

#include "../../tests/support/temp_directory.hpp"
#include "arena_client.hpp"
#include "arena_server.hpp"
#include "common/csv_file.hpp"
#include "cpu_timing.hpp"
#include "match_recorder.hpp"

extern char** environ;

namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<int> players = {64, 128, 192, 256};
  double seconds = 10;
  double warmup = 2;
  double bot_fps = 30;  // the bots' frame rate (they send at most one update per tick)
  double tick_rate = 60;
  double snapshot_rate = 30;
  int drones = 60;
  std::size_t snapshot_threads = 1;  // ServerConfig::snapshot_threads
  std::uint32_t network_batch_us = arena::ServerConfig{}.network_batch_us;  // ServerConfig's
  double view_radius = arena::ServerConfig{}.view_radius_m;  // 0: every entity to every player
  std::uint32_t ticks_per_update = arena::ClientConfig{}.ticks_per_update;  // the bots'
  std::uint16_t lobby_port = 17740;
  std::uint16_t game_port = 17741;
  std::string csv;  // also write the table here (bench/plots/make_plots.sh draws it)
  bool record = true;
  int spectators = 0;  // spectators watching the match (delayed stream)
};

// The recorder, with the CPU time of each of its calls added up (they run inside the tick, on
// the server's thread); its writer thread counts its own.
class TimedRecorder final : public arena::MatchObserver {
 public:
  explicit TimedRecorder(std::shared_ptr<arena::MatchRecorder> recorder)
      : recorder_(std::move(recorder)) {}
  void match_began(std::uint64_t id, const arena::Config& rules) override {
    timed([&] { recorder_->match_began(id, rules); });
  }
  void player_joined(std::uint64_t id, arena::PlayerId p) override {
    timed([&] { recorder_->player_joined(id, p); });
  }
  void player_left(std::uint64_t id, arena::PlayerId p) override {
    timed([&] { recorder_->player_left(id, p); });
  }
  void ticked(std::uint64_t id, const std::map<arena::PlayerId, arena::PlayerInput>& inputs,
              const arena::World& world) override {
    timed([&] { recorder_->ticked(id, inputs, world); });
  }
  void match_closed(std::uint64_t id) override {
    timed([&] { recorder_->match_closed(id); });
  }
  double cpu_us = 0;
  double writer_cpu_us() const { return recorder_->writer_cpu_seconds() * 1e6; }

 private:
  template <typename F>
  void timed(F&& call) {
    const double start = arena::thread_cpu_us();
    call();
    cpu_us += arena::thread_cpu_us() - start;
  }
  std::shared_ptr<arena::MatchRecorder> recorder_;
};

struct Result {
  int players = 0;
  int connected = 0;
  double tick_median_us = 0, tick_p99_us = 0;
  double core_share = 0;                // tick CPU per second of wall time, of one core
  double us_per_player_tick = 0;        // the same per player and tick
  double snapshots_on_time = 0;         // share of snapshot rounds sent on time
  double snapshots_per_player_s = 0;    // snapshots sent per player and second
  double encode_us_per_round = 0;       // wall time encoding one round of snapshots
  double kbps_per_player = 0;           // everything the server sent, per player
  double snapshot_kbps_per_player = 0;  // of which snapshots
  double wire_kbps_per_player = 0;      // on the wire: ENet headers, acks, resends included
  double sim_only_median_us = 0;        // baseline: World::step alone
  double full_kbps_per_player = 0;      // baseline: full snapshots
  double up_wire_kbps_per_player = 0;   // upstream on the wire: what ENet received from players
  double up_kbps_per_player = 0;        // upstream messages (client updates)
  double inputs_in_time = 0;            // share of player ticks whose input was there in time
  double record_share = 0;              // the recorder's CPU (both threads) over the ticks' CPU
  double record_us_per_tick = 0;        // on the tick's thread
  double writer_us_per_tick = 0;        // on the recorder's writer thread
  int spectators_watching = 0;          // spectators receiving snapshots when measured
  double spectator_kbps = 0;            // messages sent to each spectator
  double spectator_wire_kbps = 0;       // on the wire, as the spectators received it
  int bots_exit = -1;
};

// Spectators on their own thread, each updated every 16 ms as the game's client does; the wire
// bytes they received so far, for the main thread.
class SpectatorThread {
 public:
  explicit SpectatorThread(std::vector<arena::ClientConfig> configs)
      : thread_([this, configs] {
          std::vector<std::unique_ptr<arena::ArenaClient>> clients;
          for (const arena::ClientConfig& config : configs) {
            if (auto client = arena::ArenaClient::connect(config))
              clients.push_back(std::move(client.value()));
          }
          while (!stop_.load()) {
            std::uint64_t wire = 0;
            int watching = 0;
            for (auto& client : clients) {
              client->update(std::chrono::milliseconds(16), arena::Intent{});
              wire += client->wire_bytes_received();
              watching += client->net_graph().snapshots > 0 &&
                          client->phase() == arena::ClientPhase::playing;
            }
            wire_bytes_ = wire;
            watching_ = watching;
            std::this_thread::sleep_for(std::chrono::milliseconds(16));
          }
        }) {}
  ~SpectatorThread() {
    stop_ = true;
    thread_.join();
  }
  std::uint64_t wire_bytes() const { return wire_bytes_.load(); }
  int watching() const { return watching_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> wire_bytes_{0};
  std::atomic<int> watching_{0};
  std::thread thread_;
};

// The simulation alone: N players wandering among the drones, the same rules, no networking.
// Also what full snapshots of that world cost per player.
void baselines(const Options& options, int players, Result& result) {
  arena::Config rules;
  rules.tick_rate_hz = options.tick_rate;
  rules.drones = options.drones;
  arena::World world(rules);
  for (int p = 1; p <= players; ++p)
    world.add_player(static_cast<arena::PlayerId>(p));
  std::mt19937 random(3);
  std::vector<double> step_us;
  sim::ReplicatorConfig replication;
  replication.tick_rate_hz = options.tick_rate;
  replication.snapshot_rate_hz = options.snapshot_rate;
  replication.max_snapshot_bytes = 0;  // a full snapshot is whatever size it is
  auto made = sim::ServerReplicator::create(arena::schema(), replication);
  if (!made) {
    std::fprintf(stderr, "replication: %s\n", made.error().c_str());  // rates from the options
    std::exit(2);
  }
  const std::unique_ptr<sim::ServerReplicator> full = std::move(made.value());
  full->add_client(1);  // never acknowledges: every snapshot is full
  std::uint64_t full_bytes = 0;
  const int ticks = static_cast<int>(options.seconds * options.tick_rate);
  std::map<arena::PlayerId, arena::PlayerInput> inputs;
  for (int t = 1; t <= ticks; ++t) {
    if (t % 30 == 1) {
      for (int p = 1; p <= players; ++p) {
        arena::PlayerInput input;
        input.move_x = static_cast<std::int8_t>(static_cast<int>(random() % 3) - 1);
        input.move_y = static_cast<std::int8_t>(static_cast<int>(random() % 3) - 1);
        input.aim = static_cast<float>(random() % 628) / 100.0f;
        input.fire = random() % 2 == 0;
        input.view_tick = t - 6;
        inputs[static_cast<arena::PlayerId>(p)] = input;
      }
    }
    const double start = arena::thread_cpu_us();
    world.step(inputs);
    step_us.push_back(arena::thread_cpu_us() - start);
    if (full->snapshot_due(static_cast<sim::WireTick>(t)))
      full_bytes += full->snapshot_for(1, static_cast<sim::WireTick>(t), world.state()).size();
  }
  std::sort(step_us.begin(), step_us.end());
  result.sim_only_median_us = arena::percentile_of_sorted(step_us, 0.5);
  result.full_kbps_per_player = static_cast<double>(full_bytes) * 8 / 1000 / options.seconds;
}

// How long the bots may take to join through the lobby: each join sends the room's growing
// player list, so a thousand take minutes on a loaded 2-core machine.
int join_seconds(int players) {
  return 30 + players / 5;
}

pid_t spawn_bots(const Options& options, int players) {
  const std::string bot =
      (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "tickwire-bot").string();
  std::vector<std::string> args = {
      bot,
      "--lobby-port",
      std::to_string(options.lobby_port),
      "-n",
      std::to_string(players),
      "--room",
      "bench",
      "--duration",
      std::to_string(join_seconds(players) + options.seconds + options.warmup + 20),
      "--fps",
      std::to_string(options.bot_fps),
      "--ticks-per-update",
      std::to_string(options.ticks_per_update)};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // The bots' own report would drown ours: it goes to /dev/null.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, bot.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

Result measure(const Options& options, int players) {
  Result result;
  result.players = players;
  const net::JoinTicketIssuer issuer = net::JoinTicketIssuer::generate();
  // Encrypted, as the demo server runs by default.
  const net::GameServerSealKeys seal_keys = net::GameServerSealKeys::generate();
  const std::string address = "127.0.0.1:" + std::to_string(options.game_port);

  net::LobbyConfig lobby_config;
  lobby_config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  lobby_config.websocket.port = options.lobby_port;
  // Every bot comes from 127.0.0.1 and stays connected to the lobby while it plays: every cap on
  // connections, per address and in all, must admit them all.
  const auto room = static_cast<std::size_t>(players) + 16;
  lobby_config.websocket.max_connections = room;
  lobby_config.websocket.max_connections_per_address = room;
  lobby_config.websocket.max_pending_handshakes = room;
  lobby_config.websocket.connection_burst_per_address = 100'000;
  lobby_config.max_players_per_room = room;
  lobby_config.max_nicknames_per_address = room;
  // A full room's reply to JoinRoom must fit in one message (validate() checks).
  lobby_config.websocket.common.max_message_size = 256 * 1024;
  lobby_config.local_game_server = address;
  lobby_config.local_game_server_seal_key = seal_keys.public_key;
  net::LobbyServer lobby(lobby_config, issuer);
  if (!lobby.start().ok()) return result;

  arena::ServerConfig config;
  config.enet.port = options.game_port;
  config.enet.max_peers = room;
  config.enet.max_peers_per_address = room;
  config.enet.connect_burst_per_address = static_cast<std::uint32_t>(room);
  config.enet.connect_rate_per_address = static_cast<double>(room);
  config.enet.max_pending_handshakes = room;
  config.snapshot_threads = options.snapshot_threads;
  config.network_batch_us = options.network_batch_us;
  config.view_radius_m = options.view_radius;
  config.lobby_key = issuer.public_key();
  config.seal_keys = seal_keys;
  config.public_address = address;
  config.tick_rate_hz = options.tick_rate;
  config.snapshot_rate_hz = options.snapshot_rate;
  config.drones = options.drones;
  config.match_seconds = options.seconds + options.warmup + 60;
  config.max_spectators_per_match =
      std::max<std::uint32_t>(config.max_spectators_per_match, options.spectators);
  std::uint64_t match_id = 0;
  config.on_match_began = [&match_id](std::uint64_t id) { match_id = id; };
  // Removed when the run's scope ends, after the server and the recorder that write into it.
  const tickwire::test::TempDirectory replays("tickwire-bench-arena-replays");
  std::shared_ptr<TimedRecorder> recorder;
  if (options.record) {
    recorder = std::make_shared<TimedRecorder>(
        arena::MatchRecorder::make({.directory = replays.string(), .keep_newest = 1}).value());
    config.observer = recorder;
  }
  auto server = std::move(arena::ArenaServer::start(config).value());

  const pid_t bots = spawn_bots(options, players);
  // Wait for every bot to be in the match, then warm up.
  const auto give_up = Clock::now() + std::chrono::seconds(join_seconds(players));
  while (server->stats().players < static_cast<std::size_t>(players) && Clock::now() < give_up)
    server->run_for(std::chrono::milliseconds(100));
  result.connected = static_cast<int>(server->stats().players);
  std::unique_ptr<SpectatorThread> spectators;
  if (options.spectators > 0 && match_id != 0) {
    std::vector<arena::ClientConfig> configs;
    for (int i = 0; i < options.spectators; ++i) {
      const net::IssuedTicket issued =
          issuer.issue_with_keys(1'000'000 + i, match_id, address, seal_keys.public_key, 30'000,
                                 net::TicketRole::spectator);
      arena::ClientConfig client;
      client.server_address = address;
      client.ticket = issued.ticket;
      client.session_keys = issued.keys;
      configs.push_back(std::move(client));
    }
    spectators = std::make_unique<SpectatorThread>(std::move(configs));
    // In, and past the delay (their stream starts a delay after they are admitted).
    const auto watch_deadline = Clock::now() + std::chrono::seconds(20);
    while (spectators->watching() < options.spectators && Clock::now() < watch_deadline)
      server->run_for(std::chrono::milliseconds(100));
  }
  server->run_for(std::chrono::milliseconds(static_cast<int>(options.warmup * 1000)));
  (void)server->take_tick_percentiles();
  const auto ticks_before = server->tick_seconds().snapshot();
  const double record_before = recorder ? recorder->cpu_us : 0;
  const double writer_before = recorder ? recorder->writer_cpu_us() : 0;

  const std::uint64_t bytes_before = server->stats().bytes_sent;
  const std::uint64_t rounds_before = server->stats().snapshot_rounds;
  const std::uint64_t late_before = server->stats().late_snapshot_rounds;
  const std::uint64_t snapshots_before = server->stats().snapshots_sent;
  const double encode_before = server->stats().snapshot_encode_wall_us;
  const std::uint64_t snapshot_bytes_before = server->stats().snapshot_bytes;
  const std::uint64_t wire_bytes_before = server->counters().wire_bytes_sent;
  const std::uint64_t up_bytes_before = server->stats().bytes_received;
  const std::uint64_t up_wire_bytes_before = server->counters().wire_bytes_received;
  const std::uint64_t spectator_bytes_before = server->stats().spectator_bytes;
  const std::uint64_t spectator_wire_before = spectators ? spectators->wire_bytes() : 0;
  const std::uint64_t applied_before = server->stats().inputs_applied;
  const std::uint64_t missing_before = server->stats().inputs_missing;
  const auto start = Clock::now();
  const double cpu_start =
      arena::thread_cpu_us() + server->stats().snapshot_worker_cpu_us + writer_before;
  server->run_for(std::chrono::milliseconds(static_cast<int>(options.seconds * 1000)));
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const std::uint64_t spectator_wire =
      spectators ? spectators->wire_bytes() - spectator_wire_before : 0;
  result.spectators_watching = spectators ? spectators->watching() : 0;
  const auto [median, p99] = server->take_tick_percentiles();
  result.tick_median_us = median;
  result.tick_p99_us = p99;
  if (recorder) {
    const auto ticks_after = server->tick_seconds().snapshot();
    const double tick_us = (ticks_after.sum - ticks_before.sum) * 1e6;
    const double record_us = recorder->cpu_us - record_before;
    const double writer_us = recorder->writer_cpu_us() - writer_before;
    result.record_share = tick_us > 0 ? (record_us + writer_us) / tick_us : 0;
    const auto ticks =
        static_cast<double>(std::max<std::uint64_t>(1, ticks_after.count - ticks_before.count));
    result.record_us_per_tick = record_us / ticks;
    result.writer_us_per_tick = writer_us / ticks;
  }
  // All of the game thread's CPU (ticks and network polling) and that of its snapshot encoding
  // threads and the recorder's writer thread, over the wall time.
  result.core_share = (arena::thread_cpu_us() + server->stats().snapshot_worker_cpu_us +
                       (recorder ? recorder->writer_cpu_us() : 0) - cpu_start) /
                      1e6 / wall;
  result.us_per_player_tick =
      result.core_share * 1e6 / options.tick_rate / std::max(1, result.connected);
  const std::uint64_t rounds = server->stats().snapshot_rounds - rounds_before;
  const std::uint64_t late = server->stats().late_snapshot_rounds - late_before;
  result.encode_us_per_round =
      rounds > 0
          ? (server->stats().snapshot_encode_wall_us - encode_before) / static_cast<double>(rounds)
          : 0.0;
  result.snapshots_on_time =
      rounds > 0 ? static_cast<double>(rounds - late) / static_cast<double>(rounds) : 0.0;
  result.snapshots_per_player_s =
      static_cast<double>(server->stats().snapshots_sent - snapshots_before) / wall /
      std::max(1, result.connected);
  result.kbps_per_player = static_cast<double>(server->stats().bytes_sent - bytes_before) * 8 /
                           1000 / wall / std::max(1, result.connected);
  // The server's wire counters include what it sent spectators: that part (as they received it,
  // loopback loses nothing) is theirs, not the players'.
  const std::uint64_t wire_sent = server->counters().wire_bytes_sent - wire_bytes_before;
  result.wire_kbps_per_player =
      static_cast<double>(wire_sent - std::min(wire_sent, spectator_wire)) * 8 / 1000 / wall /
      std::max(1, result.connected);
  if (options.spectators > 0) {
    result.spectator_kbps =
        static_cast<double>(server->stats().spectator_bytes - spectator_bytes_before) * 8 / 1000 /
        wall / options.spectators;
    result.spectator_wire_kbps =
        static_cast<double>(spectator_wire) * 8 / 1000 / wall / options.spectators;
  }
  result.snapshot_kbps_per_player =
      static_cast<double>(server->stats().snapshot_bytes - snapshot_bytes_before) * 8 / 1000 /
      wall / std::max(1, result.connected);
  result.up_kbps_per_player =
      static_cast<double>(server->stats().bytes_received - up_bytes_before) * 8 / 1000 / wall /
      std::max(1, result.connected);
  result.up_wire_kbps_per_player =
      static_cast<double>(server->counters().wire_bytes_received - up_wire_bytes_before) * 8 /
      1000 / wall / std::max(1, result.connected);
  const auto applied = static_cast<double>(server->stats().inputs_applied - applied_before);
  const auto missing = static_cast<double>(server->stats().inputs_missing - missing_before);
  result.inputs_in_time = applied + missing > 0 ? applied / (applied + missing) : 0.0;

  spectators.reset();
  server.reset();  // players are disconnected
  if (bots > 0) {
    kill(bots, SIGTERM);
    int status = 0;
    waitpid(bots, &status, 0);
    result.bots_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  lobby.stop();
  baselines(options, players, result);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Arena game server tick CPU and bandwidth per player, 64 to 256 bots by default"};
  app.add_option("--players", options.players, "bot counts to measure (each 1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--seconds", options.seconds, "measured seconds per count")->capture_default_str();
  app.add_option("--warmup", options.warmup, "seconds after all bots joined before measuring")
      ->capture_default_str();
  app.add_option("--drones", options.drones, "drones in the match")->capture_default_str();
  app.add_option("--bot-fps", options.bot_fps, "the bots' frames per second")
      ->capture_default_str();
  app.add_option("--view-radius", options.view_radius,
                 "metres around a player within which they are sent the others (0: all)")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  app.add_option("--ticks-per-update", options.ticks_per_update,
                 "ticks between two of a bot's client updates")
      ->check(CLI::Range(1u, arena::kMaxTicksPerUpdate))
      ->capture_default_str();
  app.add_option("--snapshot-threads", options.snapshot_threads,
                 "threads encoding snapshots, the game thread included (ServerConfig)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--network-batch-us", options.network_batch_us,
                 "how long the server lets input gather between two waits for the network, in "
                 "microseconds (ServerConfig; 0: it wakes for every datagram)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100'000u));
  app.add_option("--lobby-port", options.lobby_port, "lobby port (127.0.0.1)")
      ->capture_default_str();
  app.add_option("--game-port", options.game_port, "game port (127.0.0.1)")->capture_default_str();
  app.add_option("--csv", options.csv, "also write the results to this CSV file");
  app.add_option("--spectators", options.spectators,
                 "spectators watching the match (delayed stream), their downstream reported per "
                 "spectator")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_flag("--record,!--no-record", options.record,
               "record every match, as tickwire-server does (and report its share of the tick)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  tickwire::bench::CsvFile csv(
      options.csv,
      {"players", "connected", "tick_median_us", "tick_p99_us", "core_share", "wire_kbps",
       "payload_kbps", "snapshot_kbps", "sim_only_us", "full_kbps", "us_per_player_tick",
       "snapshots_on_time", "encode_us_per_round", "up_wire_kbps", "up_payload_kbps"});
  if (csv.failed()) return 1;

  std::printf(
      "Arena server under load: %.0f Hz ticks, %.0f Hz snapshots, %d drones, %zu snapshot "
      "thread(s),\nview radius %.0f m (0: the whole arena); bots in a separate process "
      "(tickwire-bot, %.0f fps, an update every %u tick(s)), lobby and game server in "
      "this one;\n%.0f s measured after %.0f s of warm-up. Tick CPU is the game thread's CPU time "
      "per tick\n(all matches); core share is that thread's CPU time (ticks and network), with\n"
      "its snapshot encoding threads' and the replay writer's, over wall time, and\n"
      "us/pl/tick the same per player and tick ('x first': against the first count of "
      "this run).\n'On time': snapshot rounds that went out within half a snapshot period of "
      "their due time;\n'snap/s' snapshots each player was sent per second; 'encode us' the wall "
      "time of encoding\none tick's snapshots (the players are spread over a period's ticks). Per "
      "player and second, "
      "downstream:\n'wire' is what ENet sent (headers, acknowledgements, resends included), "
      "'payload' the\nmessages (snapshots and score tables), 'snapshots' their part. Baselines in "
      "the same run:\nthe simulation alone (World::step, no networking) and full snapshots of the "
      "same world.\nUpstream, per player: 'up wire' is what ENet received from the players, 'up "
      "msgs' their\nclient updates (inputs and acknowledgements), 'in time' the share of player "
      "ticks whose\ninput had arrived when the server simulated them.\n\n",
      options.tick_rate, options.snapshot_rate, options.drones, options.snapshot_threads,
      options.view_radius, options.bot_fps, options.ticks_per_update, options.seconds,
      options.warmup);
  std::printf(
      "%7s %9s %11s %11s %10s %10s %7s %7s %6s %9s %11s %8s %10s %11s %11s %10s %8s %8s %8s\n",
      "players", "connected", "tick med us", "tick p99 us", "core share", "us/pl/tick", "x first",
      "on time", "snap/s", "encode us", "wire kbit/s", "payload", "snapshots", "sim-only us",
      "full kbit/s", "snap/full", "up wire", "up msgs", "in time");
  bool ok = true;
  double first_us = 0;
  std::vector<Result> results;
  for (const int players : options.players) {
    const Result r = measure(options, players);
    ok = ok && r.connected == players && r.spectators_watching == options.spectators;
    if (first_us == 0) first_us = r.us_per_player_tick;
    const double ratio =
        r.full_kbps_per_player > 0 ? r.snapshot_kbps_per_player / r.full_kbps_per_player : 0.0;
    std::printf(
        "%7d %9d %11.1f %11.1f %9.1f%% %10.2f %6.2fx %6.1f%% %6.1f %9.0f %11.1f %8.1f %10.1f "
        "%11.1f %11.1f %9.3fx %8.1f %8.1f %7.1f%%\n",
        r.players, r.connected, r.tick_median_us, r.tick_p99_us, r.core_share * 100,
        r.us_per_player_tick, first_us > 0 ? r.us_per_player_tick / first_us : 0.0,
        r.snapshots_on_time * 100, r.snapshots_per_player_s, r.encode_us_per_round,
        r.wire_kbps_per_player, r.kbps_per_player, r.snapshot_kbps_per_player, r.sim_only_median_us,
        r.full_kbps_per_player, ratio, r.up_wire_kbps_per_player, r.up_kbps_per_player,
        r.inputs_in_time * 100);
    std::fflush(stdout);
    results.push_back(r);
    csv.row({static_cast<long long>(r.players), static_cast<long long>(r.connected),
             r.tick_median_us, r.tick_p99_us, r.core_share, r.wire_kbps_per_player,
             r.kbps_per_player, r.snapshot_kbps_per_player, r.sim_only_median_us,
             r.full_kbps_per_player, r.us_per_player_tick, r.snapshots_on_time,
             r.encode_us_per_round, r.up_wire_kbps_per_player, r.up_kbps_per_player});
  }
  if (options.record) {
    std::printf(
        "\nRecording, in the same run: CPU per tick on the tick's thread (included in the tick "
        "CPU\nabove) and on the recorder's writer thread (in the core share), both against the "
        "tick CPU:\n%7s %14s %14s %17s\n",
        "players", "record us/tick", "writer us/tick", "share of tick CPU");
    for (const Result& r : results) {
      std::printf("%7d %14.2f %14.2f %16.2f%%\n", r.players, r.record_us_per_tick,
                  r.writer_us_per_tick, r.record_share * 100);
    }
  }
  if (options.spectators > 0) {
    std::printf(
        "\nSpectators (%d per run, the match %u ms behind, %zu-byte snapshot budget), "
        "downstream kbit/s\nper client, the players' beside them (their 'wire' above excludes "
        "the spectators'):\n%7s %9s %15s %15s %15s %15s\n",
        options.spectators, arena::ServerConfig{}.spectator_delay_ms,
        arena::ServerConfig{}.spectator_snapshot_budget_bytes, "players", "watching",
        "spectator wire", "spectator msgs", "player wire", "player msgs");
    for (const Result& r : results) {
      std::printf("%7d %9d %15.1f %15.1f %15.1f %15.1f\n", r.players, r.spectators_watching,
                  r.spectator_wire_kbps, r.spectator_kbps, r.wire_kbps_per_player,
                  r.kbps_per_player);
    }
  }
  std::printf(
      "\nGoals (60 Hz ticks, 30 Hz snapshots, 60 drones, 160 bytes per snapshot): 256 players "
      "within 35 %% of one\ncore, p99 tick under 8 ms, every snapshot on time; 128 players "
      "within 15 %%; us/pl/tick at 256\nat most 1.2x that at 64; at most 24 kbit/s per client "
      "upstream with 60 fps clients (--bot-fps 60).\n");
  return ok ? 0 : 1;
}
