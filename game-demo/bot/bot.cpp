// A tickwire-bot player's frame: the lobby's events and the match.

#include "bot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace arena::bot {
namespace {

namespace net = tickwire::net;

std::string resume_file(const Options& options, const Bot& bot) {
  return options.resume_dir + "/" + bot.name + ".resume";
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
void steer(Bot& bot, Clock::time_point now) {
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

}  // namespace

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

std::string read_resume_token(const Options& options, const Bot& bot) {
  if (options.resume_dir.empty()) return {};
  std::ifstream in(resume_file(options, bot));
  std::string token;
  std::getline(in, token);
  return token;
}

void handle_lobby(Bot& bot, const Options& options, Clock::time_point now) {
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

const arena::ScoreLine* own_score(const Bot& bot) {
  if (!bot.game) return nullptr;
  for (const arena::ScoreLine& line : bot.game->scores()) {
    if (line.lobby_player_id == bot.lobby_player_id) return &line;
  }
  return nullptr;
}

void play(Bot& bot, const Options& options, std::chrono::nanoseconds frame, Clock::time_point now) {
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

}  // namespace arena::bot
