// tickwire-bot: N headless Arena players in one process. Each goes through the lobby (Hello, the
// room, ready), receives its join ticket when the match starts, plays (wanders, aims at the
// nearest target, fires) until the match ends or --duration passes, and prints its stats. The
// load generator of the benchmarks and the LAN play tests.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <tickwire/net/lan_discovery.hpp>
#include <tickwire/net/lobby_client.hpp>

#include "arena_client.hpp"
#include "arena_server.hpp"  // kMaxTicksPerUpdate
#include "host_port.hpp"
#include "key_file.hpp"
#include "lobby_tls.hpp"

namespace {

namespace net = tickwire::net;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

struct Options {
  std::string lobby_host = "127.0.0.1";
  std::uint16_t lobby_port = 7700;
  // Every lobby of the cluster the bot knows (--lobby HOST:PORT, repeatable), tried in turn when
  // the connection to one drops; empty: --lobby-host and --lobby-port alone.
  std::vector<arena::HostPort> lobbies;
  arena::LobbyTlsOptions lobby_tls;
  int count = 8;
  std::string room = "bots";
  bool join = false;      // join an existing room instead of creating it
  int start_players = 0;  // the host starts when this many are ready (0: --count)
  std::string prefix = "bot";
  double duration_s = 60;
  int matches = 1;  // matches to play; 0: as many as --duration allows
  double fps = 60;
  std::uint32_t ticks_per_update = arena::ClientConfig{}.ticks_per_update;
  std::uint64_t seed = 1;
  bool lan = false;  // find the server by its LAN beacon instead of --lobby-host
  std::uint16_t discovery_port = 7779;
  double lan_wait_s = 10;
  std::string known_servers;  // pin file; empty: known-servers in the user's config directory
  // Drop both connections at random moments of a match and come back, as a crash or a network
  // cut would: the bot resumes its lobby seat and gets a fresh ticket for the same match.
  bool chaos = false;
  double chaos_min_s = 3, chaos_max_s = 10;  // between drops
  // Where each bot keeps its resume token (DIR/NAME.resume), so that a bot process killed and
  // started again resumes its seat instead of starting afresh. Empty: nowhere.
  std::string resume_dir;
  double progress_interval_s = 0;  // seconds between progress lines while playing (0: none)
};

enum class Stage { lobby, waiting_room, in_room, playing, reconnecting, done };

struct Bot {
  std::string name;
  std::unique_ptr<net::LobbyClient> lobby;
  std::unique_ptr<arena::ArenaClient> game;
  Stage stage = Stage::lobby;
  bool host = false;
  bool start_sent = false;
  Clock::time_point next_list;
  std::string failure;  // why the bot gave up, if it did
  std::mt19937_64 random;
  arena::Intent intent;
  Clock::time_point next_turn;
  Clock::time_point next_aim;  // when to pick the nearest target again
  bool joined_match = false;
  int matches_finished = 0;
  bool seen_over = false;  // the current match's final scores arrived
  std::uint64_t lobby_player_id = 0;
  std::size_t lobby_index = 0;     // which of Options::lobbies it is connected to
  int failovers = 0;               // lobby connections lost and taken up on the next lobby
  std::string resume_token;        // the lobby's latest, for coming back after a drop
  bool resuming = false;           // the next welcome answers hello_resume()
  int resume_attempts = 0;         // hello_resume() refused so far this time
  Clock::time_point resume_retry;  // when to try again
  int reconnects = 0;
  Clock::time_point next_chaos;
  Clock::time_point next_progress;
  // The net graph's busiest second while playing, kbit/s on the wire each way.
  double peak_kbps_in = 0;
  double peak_kbps_out = 0;
};

std::string resume_file(const Options& options, const Bot& bot) {
  return options.resume_dir + "/" + bot.name + ".resume";
}

std::string read_resume_token(const Options& options, const Bot& bot) {
  if (options.resume_dir.empty()) return {};
  std::ifstream in(resume_file(options, bot));
  std::string token;
  std::getline(in, token);
  return token;
}

void write_resume_token(const Options& options, const Bot& bot) {
  if (options.resume_dir.empty()) return;
  // Written whole, then renamed: a bot killed mid-write leaves the previous token, not half of one.
  const std::string path = resume_file(options, bot);
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << bot.resume_token << '\n';
  }
  std::rename((path + ".tmp").c_str(), path.c_str());
}

Clock::time_point next_chaos_after(Bot& bot, const Options& options, Clock::time_point now) {
  std::uniform_real_distribution<double> wait(options.chaos_min_s, options.chaos_max_s);
  return now + std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(wait(bot.random)));
}

net::Result<std::unique_ptr<net::LobbyClient>> connect_lobby(const Options& options,
                                                             const Bot& bot) {
  net::LobbyClientConfig config;
  config.websocket.server_host = options.lobby_host;
  config.websocket.server_port = options.lobby_port;
  if (!options.lobbies.empty()) {
    const arena::HostPort& lobby = options.lobbies[bot.lobby_index % options.lobbies.size()];
    config.websocket.server_host = lobby.host;
    config.websocket.server_port = lobby.port;
  }
  arena::apply_lobby_tls(options.lobby_tls, config.websocket);
  return net::LobbyClient::connect(config);
}

// Both connections go (a crash, a cut cable) and the bot comes back: a new lobby connection that
// resumes the seat, which brings a fresh ticket for the running match.
void reconnect(Bot& bot, const Options& options, const std::string& why) {
  std::printf("%s reconnecting: %s\n", bot.name.c_str(), why.c_str());
  std::fflush(stdout);
  bot.game.reset();
  bot.lobby.reset();
  auto lobby = connect_lobby(options, bot);
  if (!lobby) {
    bot.failure = "lobby: " + lobby.error();
    bot.stage = Stage::done;
    return;
  }
  bot.lobby = std::move(lobby.value());
  bot.resuming = true;
  bot.resume_attempts = 0;
  bot.stage = Stage::reconnecting;
  ++bot.reconnects;
}

// Wander, turn now and then, aim at the nearest target in range, fire when there is one.
void steer(Bot& bot, const Clock::time_point now) {
  auto& game = *bot.game;
  if (now >= bot.next_turn) {
    std::uniform_int_distribution<int> axis(-1, 1);
    bot.intent.move_x = static_cast<std::int8_t>(axis(bot.random));
    bot.intent.move_y = static_cast<std::int8_t>(axis(bot.random));
    bot.next_turn = now + std::chrono::milliseconds(500 + bot.random() % 1500);
  }
  const arena::PlayerState& self = game.predicted();
  // Keep off the walls: head back towards the middle.
  if (std::abs(self.x) > 50) bot.intent.move_x = static_cast<std::int8_t>(self.x > 0 ? -1 : 1);
  if (std::abs(self.y) > 50) bot.intent.move_y = static_cast<std::int8_t>(self.y > 0 ? -1 : 1);
  if (now < bot.next_aim) {
    // Between target picks the aim drifts a little, as a hand on a mouse does: the inputs
    // change every tick like a player's, not only when the target changes.
    std::uniform_real_distribution<float> drift(-0.004f, 0.004f);
    bot.intent.aim += drift(bot.random);
    return;
  }
  // Picking the nearest target interpolates every entity (view()): with hundreds of bots in one
  // process, doing it every frame was most of their CPU. A player's aim reacts in about 100 ms
  // anyway; the jitter spreads the bots' picks over the frames.
  bot.next_aim = now + std::chrono::milliseconds(90 + bot.random() % 20);
  double best = 1e9;
  for (const arena::DrawEntity& entity : game.view()) {
    if (entity.is_self || !entity.alive) continue;
    const double distance = std::hypot(entity.x - self.x, entity.y - self.y);
    if (distance < best) {
      best = distance;
      bot.intent.aim = static_cast<float>(std::atan2(entity.y - self.y, entity.x - self.x));
    }
  }
  bot.intent.fire = best < 35;
}

void handle_lobby(Bot& bot, const Options& options, const Clock::time_point now) {
  net::LobbyEvent event;
  while (bot.lobby->poll(event)) {
    switch (event.type) {
      case net::LobbyEventType::connected:
        if (bot.resuming) {
          bot.lobby->hello_resume(bot.resume_token);
        } else {
          bot.lobby->hello(bot.name);
        }
        break;
      case net::LobbyEventType::disconnected:
        // A lobby of a cluster went (killed, restarted, cut off): the next one the bot knows
        // resumes its seat (the lobbies share their state), as long as its token is good. At
        // most one round of the list per drop: a bot whose every lobby refuses gives up.
        if (options.lobbies.size() > 1 && !bot.resume_token.empty() && bot.stage != Stage::done &&
            bot.stage != Stage::playing &&
            (!bot.resuming || bot.failovers % static_cast<int>(options.lobbies.size()) != 0)) {
          ++bot.lobby_index;
          ++bot.failovers;
          reconnect(bot, options,
                    "lobby connection closed (" + std::string(net::to_string(event.reason)) +
                        "): trying the next lobby");
          return;  // the new connection's events come next frame
        }
        if (bot.stage != Stage::done && bot.stage != Stage::playing) {
          bot.failure = "lobby connection closed: " + std::string(net::to_string(event.reason));
          bot.stage = Stage::done;
        }
        break;
      case net::LobbyEventType::welcome:
        bot.lobby_player_id = bot.lobby->player_id();
        bot.resume_token = bot.lobby->resume_token();
        write_resume_token(options, bot);
        if (bot.resuming) {
          // Back in the seat. In a running match, its MatchStart (a fresh ticket) follows.
          bot.resuming = false;
          std::printf("%s resumed its seat as player %llu%s\n", bot.name.c_str(),
                      static_cast<unsigned long long>(bot.lobby_player_id),
                      bot.lobby->room() ? " in its room" : "");
          std::fflush(stdout);
          const auto& room = bot.lobby->room();
          if (!room) {
            bot.stage = Stage::waiting_room;
          } else if (!room->summary.in_match) {
            bot.stage = Stage::in_room;
            bot.lobby->set_ready(true);
          }
          break;
        }
        if (bot.host) {
          const int seats = std::max(options.count, options.start_players);
          bot.lobby->create_room(options.room, "arena", static_cast<std::uint16_t>(seats));
        }
        bot.stage = Stage::waiting_room;
        break;
      case net::LobbyEventType::reply:
        if (event.error == net::LobbyError::none) break;
        if (event.error == net::LobbyError::resume_failed && bot.resuming &&
            ++bot.resume_attempts < 20) {
          // The lobby may not have seen the old connection go yet: ask again shortly.
          bot.resume_retry = now + std::chrono::milliseconds(250);
          break;
        }
        if (event.error == net::LobbyError::not_all_ready) {
          bot.start_sent = false;  // someone unreadied: try again when all are
        } else if (event.error == net::LobbyError::room_full ||
                   event.error == net::LobbyError::room_not_found) {
          bot.next_list = now + std::chrono::milliseconds(200);  // look again
        } else {
          bot.failure =
              "lobby said " + std::string(net::to_string(event.error)) + ": " + event.error_message;
          bot.stage = Stage::done;
        }
        break;
      case net::LobbyEventType::room_list:
        if (bot.stage != Stage::waiting_room || bot.host) break;
        for (const net::LobbyRoomSummary& room : bot.lobby->rooms()) {
          if (room.name == options.room && !room.in_match && room.players < room.max_players) {
            bot.lobby->join_room(room.room_id);
            break;
          }
        }
        break;
      case net::LobbyEventType::room_changed:
        if (bot.stage == Stage::waiting_room) {
          bot.stage = Stage::in_room;
          bot.lobby->set_ready(true);
        }
        break;
      case net::LobbyEventType::match_end:
        if (event.match_end_reason != net::MatchEndReason::finished) {
          std::printf("%s: the match ended early: %s\n", bot.name.c_str(),
                      std::string(net::to_string(event.match_end_reason)).c_str());
          std::fflush(stdout);
        }
        // The room is back in the lobby: ready up for the next match (the host starts it once
        // everyone is), unless this bot has played its share.
        if (options.matches == 0 || bot.matches_finished < options.matches) {
          bot.lobby->set_ready(true);
          bot.start_sent = false;
        }
        break;
      case net::LobbyEventType::match_start: {
        arena::ClientConfig config;
        config.server_address = event.match.server_address;
        config.websocket_address = event.match.websocket_address;  // the fallback
        config.ticket = event.match.ticket;
        config.session_keys = event.match.session_keys;
        config.ticks_per_update = options.ticks_per_update;
        auto game = arena::ArenaClient::connect(config);
        if (!game) {
          bot.failure = "game server: " + game.error();
          bot.stage = Stage::done;
          break;
        }
        bot.game = std::move(game.value());
        bot.seen_over = false;
        bot.stage = Stage::playing;
        break;
      }
      default:
        break;
    }
  }
  if (bot.resuming && bot.resume_attempts > 0 && now >= bot.resume_retry &&
      bot.lobby->state() == net::LobbyClientState::connected) {
    bot.resume_retry = Clock::time_point::max();
    bot.lobby->hello_resume(bot.resume_token);
  }
  if (bot.stage == Stage::waiting_room && !bot.host && now >= bot.next_list) {
    bot.lobby->list_rooms("arena", true);
    bot.next_list = now + std::chrono::milliseconds(500);
  }
  if (bot.host && bot.stage == Stage::in_room && !bot.start_sent && bot.lobby->room()) {
    const auto& room = *bot.lobby->room();
    const std::size_t wanted =
        static_cast<std::size_t>(options.start_players > 0 ? options.start_players : options.count);
    if (room.members.size() >= wanted && room.everyone_ready()) {
      bot.lobby->start_match();
      bot.start_sent = true;
    }
  }
}

// The bot's own line of the latest score table, once one has arrived.
const arena::ScoreLine* own_score(const Bot& bot) {
  if (!bot.game) return nullptr;
  for (const arena::ScoreLine& line : bot.game->scores()) {
    if (line.lobby_player_id == bot.lobby_player_id) return &line;
  }
  return nullptr;
}

void play(Bot& bot, const Options& options, std::chrono::nanoseconds frame,
          const Clock::time_point now) {
  const bool playing = bot.game->phase() == arena::ClientPhase::playing;
  if (playing) {
    if (!bot.joined_match || bot.next_chaos == Clock::time_point{}) {
      bot.next_chaos = next_chaos_after(bot, options, now);
    }
    bot.joined_match = true;
    steer(bot, now);
  }
  const arena::ScoreLine* score = own_score(bot);
  if (playing && score != nullptr && options.progress_interval_s > 0 && now >= bot.next_progress) {
    bot.next_progress = now + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(options.progress_interval_s));
    std::printf("progress %s player %llu entity %u score %d\n", bot.name.c_str(),
                static_cast<unsigned long long>(bot.lobby_player_id),
                static_cast<unsigned>(bot.game->self()), score->score);
    std::fflush(stdout);
  }
  if (options.chaos && playing && now >= bot.next_chaos) {
    bot.next_chaos = Clock::time_point{};
    reconnect(bot, options, "chaos: dropping both connections");
    return;
  }
  bot.game->update(frame, bot.intent);
  if (bot.game->phase() == arena::ClientPhase::playing) {
    bot.peak_kbps_in = std::max(bot.peak_kbps_in, bot.game->net_graph().kbps_in);
    bot.peak_kbps_out = std::max(bot.peak_kbps_out, bot.game->net_graph().kbps_out);
  }
  const bool over = bot.game->phase() == arena::ClientPhase::over;
  if (bot.game->phase() == arena::ClientPhase::disconnected) {
    // The server closes the connection after the final scores: that is the normal end. Any
    // other end mid-match, the bot comes back from (the server keeps its seat for a while).
    if (!bot.seen_over) {
      if (bot.joined_match) {
        reconnect(bot, options, "game connection lost: " + bot.game->disconnect_text());
      } else {
        bot.failure = "disconnected from the game: " + bot.game->disconnect_text();
        bot.stage = Stage::done;
      }
      return;
    }
    const bool more = options.matches == 0 || bot.matches_finished < options.matches;
    bot.stage = more ? Stage::in_room : Stage::done;
    return;
  }
  if (over && !bot.seen_over) {
    bot.seen_over = true;
    ++bot.matches_finished;
  }
}

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

// Says which beacons were dropped, if any were: what a LAN neighbour tried.
void report_dropped_beacons(const net::LanBrowserCounters& counters) {
  const std::uint64_t dropped = counters.malformed + counters.unsigned_beacons +
                                counters.bad_signature + counters.stale + counters.replayed +
                                counters.impostors;
  if (dropped == 0) return;
  std::printf(
      "LAN: dropped %llu beacons (malformed %llu, unsigned %llu, bad signature %llu, stale %llu, "
      "replayed %llu, impostors %llu)\n",
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(counters.malformed),
      static_cast<unsigned long long>(counters.unsigned_beacons),
      static_cast<unsigned long long>(counters.bad_signature),
      static_cast<unsigned long long>(counters.stale),
      static_cast<unsigned long long>(counters.replayed),
      static_cast<unsigned long long>(counters.impostors));
}

// Listens for LAN beacons and points `options` at the lobby of a verified server: one whose key
// is pinned if any is heard, else the first heard, whose key is then pinned (trust on first use:
// from then on an impostor with its name is refused).
bool find_lan_server(Options& options) {
  tickwire::net::LanBrowserConfig config;
  config.discovery_port = options.discovery_port;
  config.pin_file = options.known_servers;
  if (config.pin_file.empty()) {
    auto path = arena::config_file_path("known-servers");
    if (!path) {
      std::fprintf(stderr, "tickwire-bot: LAN discovery: %s (--known-servers)\n",
                   path.error().c_str());
      return false;
    }
    config.pin_file = path.value();
  }
  auto browser = net::LanBrowser::start(config);
  if (!browser) {
    std::fprintf(stderr, "tickwire-bot: LAN discovery: %s\n", browser.error().c_str());
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options.lan_wait_s));
  while (Clock::now() < deadline && !g_stop.load()) {
    browser.value()->poll();
    const std::vector<net::DiscoveredServer> servers = browser.value()->servers();
    const net::DiscoveredServer* chosen = nullptr;
    for (const net::DiscoveredServer& server : servers) {
      // Only verified servers with a lobby (a game server alone cannot be joined from here).
      if (!server.verified || server.announcement.lobby_port == 0) continue;
      if (chosen == nullptr || (server.pinned && !chosen->pinned)) chosen = &server;
    }
    if (chosen == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const bool was_pinned = chosen->pinned;
    if (const net::Status pinned = browser.value()->pin(*chosen); !pinned.ok()) {
      std::fprintf(stderr, "tickwire-bot: cannot pin the server's key: %s\n",
                   pinned.message().c_str());
      return false;
    }
    options.lobby_host = chosen->address;
    options.lobby_port = chosen->announcement.lobby_port;
    std::printf("LAN: found \"%s\" at %s (lobby port %u, %u/%u players), verified key %s, %s\n",
                chosen->announcement.name.c_str(), chosen->address.c_str(),
                static_cast<unsigned>(chosen->announcement.lobby_port),
                static_cast<unsigned>(chosen->announcement.players),
                static_cast<unsigned>(chosen->announcement.max_players),
                net::fingerprint(chosen->public_key).c_str(),
                was_pinned ? "pinned before" : "new: pinned now");
    report_dropped_beacons(browser.value()->counters());
    std::fflush(stdout);
    return true;
  }
  report_dropped_beacons(browser.value()->counters());
  std::fprintf(stderr,
               "tickwire-bot: no verified server heard on the LAN (UDP port %u) within %.0f s\n",
               static_cast<unsigned>(options.discovery_port), options.lan_wait_s);
  return false;
}

int run(Options options) {
  if (options.lan && !find_lan_server(options)) return 1;
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
  app.add_option("--discovery-port", options.discovery_port, "UDP port of LAN beacons")
      ->capture_default_str();
  app.add_option("--known-servers", options.known_servers,
                 "file of pinned LAN server keys (default: known-servers in ~/.config/tickwire)");
  app.add_option("--lan-wait", options.lan_wait_s, "seconds to listen for a LAN beacon")
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
