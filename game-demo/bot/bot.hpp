#pragma once
// One headless Arena player of tickwire-bot: its lobby conversation (Hello or a resume, the room,
// ready, the ticket), its play (wander, aim, fire) and its comebacks after a dropped connection.

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <tickwire/net/lobby_client.hpp>

#include "arena_client.hpp"
#include "host_port.hpp"
#include "lan_search.hpp"
#include "lobby_tls.hpp"

namespace arena::bot {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string lobby_host = "127.0.0.1";
  std::uint16_t lobby_port = 7700;
  // Every lobby of the cluster the bot knows (--lobby HOST:PORT, repeatable), tried in turn when
  // the connection to one drops; empty: --lobby-host and --lobby-port alone.
  std::vector<HostPort> lobbies;
  LobbyTlsOptions lobby_tls;
  int count = 8;
  std::string room = "bots";
  bool join = false;      // join an existing room instead of creating it
  int start_players = 0;  // the host starts when this many are ready (0: --count)
  std::string prefix = "bot";
  double duration_s = 60;
  int matches = 1;  // matches to play; 0: as many as --duration allows
  double fps = 60;
  std::uint32_t ticks_per_update = ClientConfig{}.ticks_per_update;
  std::uint64_t seed = 1;
  bool lan = false;  // find the server by its LAN beacon instead of --lobby-host
  LanSearch lan_search;
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
  std::unique_ptr<tickwire::net::LobbyClient> lobby;
  std::unique_ptr<ArenaClient> game;
  Stage stage = Stage::lobby;
  bool host = false;
  bool start_sent = false;
  Clock::time_point next_list;
  std::string failure;  // why the bot gave up, if it did
  std::mt19937_64 random;
  Intent intent;
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

// Connects `bot` to the lobby it should use now (Options::lobbies in turn, else --lobby-host).
tickwire::net::Result<std::unique_ptr<tickwire::net::LobbyClient>> connect_lobby(
    const Options& options, const Bot& bot);

// The resume token a bot process killed earlier left in Options::resume_dir, or nothing.
std::string read_resume_token(const Options& options, const Bot& bot);

// One frame of the bot: its lobby events, then (while it plays) its game. `frame` is the time
// since the last frame.
void handle_lobby(Bot& bot, const Options& options, Clock::time_point now);
void play(Bot& bot, const Options& options, std::chrono::nanoseconds frame, Clock::time_point now);

// The bot's own line of the latest score table, once one has arrived.
const ScoreLine* own_score(const Bot& bot);

}  // namespace arena::bot
