// What game servers report (their load, a match's start and end), the end of a match, and the
// timer that ends stuck matches: a server's lease ran out, or nobody reached it.

#include <algorithm>
#include <tuple>

#include "lobby/lobby_service.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::report_load(const Request& request, const wire::ReportLoad& load) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request, "register as a game server first");
  }
  on_state(
      request.peer,
      [server = request.session.game_server, players = load.players(),
       lease = lease_from(unix_time_ms())](LobbyState& state) {
        state.set_game_server_load(server, players, lease);
        return true;
      },
      [this, answer = answer_of(request)](bool) { reply(answer, ok_reply(answer.id)); });
}

// A game server speaks only for its own matches.
static bool plays_on(const std::optional<RoomInfo>& room, const std::string& server) {
  return room && room->match_server.address == server;
}

void LobbyService::report_match_end(const Request& request, const wire::MatchEnd& end) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request,
                "only a registered game server may report the end of a match");
  }
  const auto reason = static_cast<MatchEndReason>(end.reason());
  if (reason != MatchEndReason::finished && reason != MatchEndReason::abandoned) {
    return fail(request, wire::ErrorCode::bad_request,
                "a game server reports a match finished or abandoned");
  }
  on_state(
      request.peer,
      [server = request.session.game_server, match = end.match_id()](LobbyState& state) {
        std::optional<RoomInfo> ended;
        if (plays_on(state.room_of_match(match), server)) ended = state.end_match(match);
        return ended;
      },
      [this, answer = answer_of(request), match = end.match_id(),
       reason](const std::optional<RoomInfo>& ended) {
        if (!ended) {
          return fail(answer, wire::ErrorCode::bad_request,
                      "no room plays that match on this server");
        }
        publish_match_end(match, ended->id, reason);
        reply(answer, ok_reply(answer.id));
      });
}

void LobbyService::report_match_began(const Request& request, const wire::MatchBegan& began) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request,
                "only a registered game server may report the start of a match");
  }
  on_state(
      request.peer,
      [server = request.session.game_server, match = began.match_id()](LobbyState& state) {
        return plays_on(state.room_of_match(match), server) && state.mark_match_began(match);
      },
      [this, answer = answer_of(request)](bool marked) {
        if (!marked) {
          return fail(answer, wire::ErrorCode::bad_request,
                      "no room plays that match on this server");
        }
        reply(answer, ok_reply(answer.id));
      });
}

void LobbyService::end_match(std::uint64_t match_id, MatchEndReason reason) {
  on_state(
      kInvalidPeer, [match_id](LobbyState& state) { return state.end_match(match_id); },
      [this, match_id, reason](const std::optional<RoomInfo>& ended) {
        if (ended) publish_match_end(match_id, ended->id, reason);
      });
}

void LobbyService::publish_match_end(std::uint64_t match_id, RoomId room, MatchEndReason reason) {
  state_.publish({Broadcast::Audience::room, room, match_end_event(match_id, room, reason)});
}

void LobbyService::match_began(std::uint64_t match_id) {
  on_state(
      kInvalidPeer, [match_id](LobbyState& state) { return state.mark_match_began(match_id); },
      [](bool) {});
}

std::uint64_t LobbyService::lease_from(std::uint64_t now_unix_ms) const {
  return now_unix_ms + config_.game_server_lease_ms;
}

void LobbyService::end_stuck_matches(std::uint64_t now_unix_ms) {
  struct Stuck {
    // Each lost server with the matches it took down.
    std::vector<std::pair<std::string, std::size_t>> lost;
    // Each match ended: its id, its room and why.
    std::vector<std::tuple<std::uint64_t, RoomId, MatchEndReason>> ended;
  };
  match_check_running_ = true;
  on_state(
      kInvalidPeer,
      [now_unix_ms, join_deadline = config_.match_join_deadline_ms](LobbyState& state) {
        Stuck stuck;
        for (const GameServerInfo& server : state.take_expired_game_servers(now_unix_ms))
          stuck.lost.emplace_back(server.address, 0);
        std::vector<std::pair<std::uint64_t, MatchEndReason>> ending;
        RoomFilter filter;
        filter.in_match_only = true;
        for (const RoomInfo& room : state.list_rooms(filter)) {
          const auto server = std::find_if(
              stuck.lost.begin(), stuck.lost.end(),
              [&](const auto& entry) { return entry.first == room.match_server.address; });
          if (server != stuck.lost.end()) {
            ending.emplace_back(room.match_id, MatchEndReason::server_lost);
            ++server->second;
          } else if (!room.match_began &&
                     now_unix_ms >= room.match_started_unix_ms + join_deadline) {
            ending.emplace_back(room.match_id, MatchEndReason::nobody_joined);
          }
        }
        for (const auto& [match, reason] : ending) {
          if (const auto room = state.end_match(match))
            stuck.ended.emplace_back(match, room->id, reason);
        }
        return stuck;
      },
      [this](const Stuck& stuck) {
        match_check_running_ = false;
        for (const auto& [match, room, reason] : stuck.ended)
          publish_match_end(match, room, reason);
        // One line per lost server (its lease goes with it): how an operator sees a crashed
        // server.
        for (const auto& [address, matches] : stuck.lost) {
          log(LogLevel::warning, "lobby",
              "game server " + address + " sent no load report within its lease (" +
                  std::to_string(config_.game_server_lease_ms) + " ms): it is gone, and its " +
                  std::to_string(matches) + " match(es) ended as server_lost");
        }
      });
}

}  // namespace tickwire::net::lobby_detail
