// tickwire-bot: N headless Arena players in one process. Each goes through the lobby (Hello, the
// room, ready), receives its join ticket when the match starts, plays (wanders, aims at the
// nearest target, fires) until the match ends or --duration passes, and prints its stats. The
// load generator of the benchmarks and the LAN play tests.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "arena_server.hpp"  // kMaxTicksPerUpdate
#include "bot.hpp"
#include "lan_search.hpp"

namespace {

using namespace arena::bot;

std::atomic<bool> g_stop{false};

void report(const std::vector<std::unique_ptr<Bot>>& bots) {
  std::printf("%-10s %-8s %-8s %8s %9s %11s %9s %8s %8s %8s %6s %6s %10s %-9s  %s\n", "bot",
              "joined", "finished", "ticks", "snapshots", "corrections", "max corr", "rtt ms",
              "kb/s in", "kb/s out", "score", "deaths", "reconnects", "transport", "end");
  for (const auto& bot : bots) {
    const arena::NetGraph graph = bot->game ? bot->game->net_graph() : arena::NetGraph{};
    const arena::ScoreLine* line = own_score(*bot);
    const int score = line != nullptr ? line->score : 0;
    const int deaths = line != nullptr ? line->deaths : 0;
    // kbit/s on the wire, headers included: the busiest second of the match each way.
    std::printf(
        "%-10s %-8s %-8s %8llu %9llu %11llu %8.2fm %8.1f %8.1f %8.1f %6d %6d %10d %-9s  %s\n",
        bot->name.c_str(), bot->joined_match ? "yes" : "no",
        bot->matches_finished > 0 ? "yes" : "no",
        static_cast<unsigned long long>(bot->game ? bot->game->ticks_sent() : 0),
        static_cast<unsigned long long>(graph.snapshots),
        static_cast<unsigned long long>(graph.corrections), graph.max_correction_m, graph.rtt_ms,
        bot->peak_kbps_in, bot->peak_kbps_out, score, deaths, bot->reconnects,
        bot->joined_match ? graph.transport : "-",
        bot->failure.empty() ? "ok" : bot->failure.c_str());
  }
}

int run(Options options) {
  if (options.lan &&
      !find_lan_server(options.lan_search, g_stop, options.lobby_host, options.lobby_port)) {
    return 1;
  }
  std::vector<std::unique_ptr<Bot>> bots;
  for (int i = 0; i < options.count; ++i) {
    auto bot = std::make_unique<Bot>();
    bot->name = options.prefix + "-" + std::to_string(i + 1);
    bot->host = !options.join && i == 0;
    bot->random.seed(options.seed * 7919 + static_cast<std::uint64_t>(i));
    // A bot started again after a kill comes back to its seat.
    bot->resume_token = read_resume_token(options, *bot);
    bot->resuming = !bot->resume_token.empty();
    if (bot->resuming) bot->host = false;
    auto lobby = connect_lobby(options, *bot);
    if (!lobby) {
      std::fprintf(stderr, "tickwire-bot: %s\n", lobby.error().c_str());
      return 1;
    }
    bot->lobby = std::move(lobby.value());
    bots.push_back(std::move(bot));
  }
  const auto start = Clock::now();
  const auto frame = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(1.0 / options.fps));
  auto next_frame = start;
  auto last_frame = start;
  while (!g_stop.load()) {
    const auto now = Clock::now();
    if (now - start >= std::chrono::duration<double>(options.duration_s)) break;
    const auto elapsed = now - last_frame;
    last_frame = now;
    bool all_done = true;
    for (auto& bot : bots) {
      if (bot->stage == Stage::done) continue;
      all_done = false;
      handle_lobby(*bot, options, now);
      if (bot->stage == Stage::playing) play(*bot, options, elapsed, now);
    }
    if (all_done) break;
    next_frame += frame;
    if (next_frame < Clock::now()) next_frame = Clock::now();
    std::this_thread::sleep_until(next_frame);
  }
  report(bots);
  int joined = 0, finished = 0, failed = 0, matches = 0;
  for (const auto& bot : bots) {
    joined += bot->joined_match ? 1 : 0;
    finished += bot->matches_finished > 0 ? 1 : 0;
    failed += bot->failure.empty() ? 0 : 1;
    matches = std::max(matches, bot->matches_finished);
  }
  std::printf("%d of %d bots joined the match, %d saw it finish, %d failed (%d match%s played)\n",
              joined, options.count, finished, failed, matches, matches == 1 ? "" : "es");
  return failed == 0 && joined == options.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Tickwire Arena bots: headless players that go through the lobby into a match."};
  app.add_option("--lobby-host", options.lobby_host, "lobby address")->capture_default_str();
  app.add_option("--lobby-port", options.lobby_port, "lobby port")->capture_default_str();
  std::vector<std::string> lobbies;
  app.add_option("--lobby", lobbies,
                 "HOST:PORT of a lobby of the cluster (repeat for each, or separate with commas): "
                 "the bots start on the first and, when a lobby connection drops, resume their "
                 "seat on the next; replaces --lobby-host and --lobby-port")
      ->delimiter(',');
  app.add_flag("--lobby-tls", options.lobby_tls.tls, arena::kLobbyTlsHelp);
  app.add_option("--tls-ca-file", options.lobby_tls.ca_file, arena::kTlsCaFileHelp);
  app.add_option("-n,--count", options.count, "bots in this process")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--room", options.room, "room to play in")->capture_default_str();
  app.add_flag("--join", options.join,
               "join the room (created by someone else) instead of creating and hosting it");
  app.add_option("--start-players", options.start_players,
                 "the hosting bot starts the match when this many players are ready "
                 "(default: --count)")
      ->check(CLI::Range(0, 10000));
  app.add_option("--prefix", options.prefix, "nickname prefix")->capture_default_str();
  app.add_option("--duration", options.duration_s, "stop after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--matches", options.matches,
                 "matches to play, one after another in the same room (0: until --duration)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--ticks-per-update", options.ticks_per_update,
                 "ticks between two client updates (ClientConfig::ticks_per_update)")
      ->check(CLI::Range(1u, arena::kMaxTicksPerUpdate))
      ->capture_default_str();
  app.add_option("--fps", options.fps, "frames per second of each bot")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the bots' choices")->capture_default_str();
  app.add_flag("--lan", options.lan,
               "find the server by its signed LAN beacon instead of --lobby-host (one pinned "
               "before, else the first heard, which is pinned)");
  app.add_option("--discovery-port", options.lan_search.discovery_port, "UDP port of LAN beacons")
      ->capture_default_str();
  app.add_option("--known-servers", options.lan_search.known_servers,
                 "file of pinned LAN server keys (default: known-servers in ~/.config/tickwire)");
  app.add_option("--lan-wait", options.lan_search.wait_s, "seconds to listen for a LAN beacon")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--chaos", options.chaos,
               "drop both connections at random moments of each match and come back to the "
               "same seat (a crash or a network cut, on purpose)");
  app.add_option("--chaos-interval", options.chaos_max_s,
                 "--chaos: at most this many seconds between drops (at least a third of it)")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  app.add_option("--resume-dir", options.resume_dir,
                 "keep each bot's resume token in DIR/NAME.resume, and resume from it on start");
  app.add_option("--progress-interval", options.progress_interval_s,
                 "seconds between progress lines (player, entity, score) while playing; 0: none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const std::string& lobby : lobbies) {
    const auto address = arena::parse_host_port(lobby);
    if (!address) {
      std::fprintf(stderr, "tickwire-bot: --lobby '%s' is not HOST:PORT (e.g. 127.0.0.1:7700)\n",
                   lobby.c_str());
      return 2;
    }
    options.lobbies.push_back(*address);
  }
  options.chaos_min_s = options.chaos_max_s / 3;
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  return run(options);
}
