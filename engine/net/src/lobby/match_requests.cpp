// The requests of a player in a room: chat, ready-up, match start and spectating, and the
// tickets a match hands out. Like room_requests.cpp, each checks the lobby's maps, runs its state
// phase with on_state() and answers in its completion.

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"
#include "lobby/request_errors.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::chat(const Request& request, const wire::SendChat& send_chat) {
  switch (request.session.chat.check(request.now)) {
    case FloodGuard::Verdict::allow:
      break;
    case FloodGuard::Verdict::refuse:
      ++metrics_.dropped_rate_limited;
      return fail(request, wire::ErrorCode::rate_limited,
                  "you are chatting too fast: wait a moment, or you will be disconnected");
    case FloodGuard::Verdict::disconnect:
      ++metrics_.disconnected_flooding;
      return close(request.peer, CloseReason::flooding);
  }
  const Player& player = *player_of(request.session);
  ChatEntry entry;
  entry.scope = static_cast<ChatScope>(send_chat.scope());
  entry.from = request.session.player;
  entry.from_nickname = player.nickname;
  entry.text = str(send_chat.text());
  entry.sent_unix_ms = unix_time_ms();
  if (std::string problem = check_text("a chat line", entry.text, 1, config_.max_chat_length);
      !problem.empty()) {
    return fail(request, wire::ErrorCode::bad_request, std::move(problem));
  }
  switch (entry.scope) {
    case ChatScope::room: {
      if (player.room == 0)
        return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
      entry.room = player.room;
      reply(request, ok_reply(request.id));
      // Both only queue (a networked store's publisher thread sends them): no state phase.
      state_.append_chat(entry.room, entry, config_.chat_history_length);
      state_.publish({Broadcast::Audience::room, entry.room, chat_event(entry),
                      /*changes_rooms=*/false});
      return;
    }
    case ChatScope::global: {
      // It costs every player's connection: the lobby's budget for all of them is bounded.
      const MessageBytes message = chat_event(entry);
      const double cost = static_cast<double>(players_.size() * message->size());
      if (!global_chat_budget_.try_take(request.now, cost)) {
        ++metrics_.dropped_global_chat_busy;
        return fail(request, wire::ErrorCode::rate_limited,
                    "global chat is busy: try again in a moment, or chat in your room");
      }
      reply(request, ok_reply(request.id));
      state_.publish({Broadcast::Audience::everyone, 0, message, /*changes_rooms=*/false});
      return;
    }
    case ChatScope::whisper: {
      entry.to_nickname = str(send_chat.to_nickname());
      on_state(
          request.peer,
          [key = nickname_key(entry.to_nickname)](LobbyState& state) {
            return state.player_by_nickname(key);
          },
          [this, answer = answer_of(request), entry](const std::optional<LobbyPlayerId>& to) {
            if (!to) {
              return fail(answer, wire::ErrorCode::player_not_found,
                          "nobody is called '" + entry.to_nickname + "'");
            }
            reply(answer, ok_reply(answer.id));
            const MessageBytes message = chat_event(entry);
            state_.publish({Broadcast::Audience::player, *to, message, /*changes_rooms=*/false});
            // The sender sees their whisper too, as the recipient does.
            if (*to != entry.from) send(answer.peer, message);
          });
      return;
    }
  }
  fail(request, wire::ErrorCode::bad_request, "unknown chat scope");
}

void LobbyService::set_ready(const Request& request, const wire::SetReady& ready) {
  const Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  struct Readied {
    StateError error = StateError::none;
    std::optional<MemberInfo> member;
  };
  on_state(
      request.peer,
      [room = player.room, id = request.session.player, want = ready.ready()](LobbyState& state) {
        Readied readied;
        const auto info = state.room(room);
        if (info && info->match_id != 0) {
          readied.error = StateError::match_in_progress;
          return readied;
        }
        readied.error = state.set_ready(room, id, want);
        if (readied.error == StateError::none) readied.member = member_in(state.room(room), id);
        return readied;
      },
      [this, answer = answer_of(request), room = player.room,
       want = ready.ready()](const Readied& readied) {
        if (readied.error != StateError::none) {
          return fail(answer, error_code_for(readied.error), message_for(readied.error));
        }
        reply(answer, ok_reply(answer.id));
        if (readied.member) {
          state_.publish(
              {Broadcast::Audience::room, room,
               presence_event(room,
                              want ? wire::PresenceKind::ready : wire::PresenceKind::not_ready,
                              *readied.member)});
        }
      });
}

void LobbyService::start_match(const Request& request) {
  const Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  struct Started {
    wire::ErrorCode code = wire::ErrorCode::none;
    std::string problem;
    std::uint64_t match = 0;
    MatchServer server;
    std::optional<RoomInfo> room;
  };
  on_state(
      request.peer,
      [this, room_id = player.room, host = request.session.player](LobbyState& state) {
        Started out;
        const auto room = state.room(room_id);
        if (!room || room->host != host) {
          out.code = wire::ErrorCode::not_host;
          out.problem = "only the room's host may start the match";
          return out;
        }
        if (room->match_id != 0) {
          out.code = wire::ErrorCode::match_in_progress;
          out.problem = message_for(StateError::match_in_progress);
          return out;
        }
        for (const MemberInfo& member : room->members) {
          if (!member.ready || !member.connected) {
            out.code = wire::ErrorCode::not_all_ready;
            out.problem = "'" + member.nickname + "' is not ready" +
                          (member.connected ? "" : " (disconnected)");
            return out;
          }
        }
        // The checks above read a copy of the room, for an answer that names who is not ready;
        // the state checks again with the change (start_match), as the room may have changed
        // since. A registered dedicated server with a seat for every member, reserved now
        // (released if the match does not start), else the one in this process.
        const auto seats = static_cast<std::uint32_t>(room->members.size());
        out.server = {config_.local_game_server, config_.local_game_server_websocket,
                      config_.local_game_server_seal_key};
        std::uint32_t reserved = 0;
        if (auto registered = state.reserve_game_server(seats)) {
          out.server = {std::move(registered->address), std::move(registered->websocket_address),
                        registered->seal_key};
          reserved = seats;
        }
        if (out.server.address.empty()) {
          out.code = wire::ErrorCode::no_game_server;
          out.problem = "no game server has room for a match: try again later";
          return out;
        }
        out.match = state.next_id();
        const StateError error = out.match == 0
                                     ? StateError::unavailable
                                     : state.start_match(room->id, host, out.match, out.server,
                                                         reserved, unix_time_ms(), out.room);
        if (error != StateError::none) {
          if (reserved != 0) state.release_game_server(out.server.address, reserved);
          out.code = error_code_for(error);
          out.problem = message_for(error);
        }
        return out;
      },
      [this, answer = answer_of(request)](const Started& started) {
        if (started.code != wire::ErrorCode::none) {
          return fail(answer, started.code, started.problem);
        }
        ++metrics_.matches_started;
        reply(answer, ok_reply(answer.id));
        for (const MemberInfo& member : started.room->members)
          send_match_ticket(member.player, started.match, started.server);
      });
}

void LobbyService::spectate_match(const Request& request, const wire::SpectateMatch& spectate) {
  on_state(
      request.peer, [room = spectate.room_id()](LobbyState& state) { return state.room(room); },
      [this, answer = answer_of(request),
       id = request.session.player](const std::optional<RoomInfo>& room) {
        if (!room) {
          return fail(answer, wire::ErrorCode::room_not_found,
                      message_for(StateError::room_not_found));
        }
        if (room->match_id == 0) {
          return fail(answer, wire::ErrorCode::no_match,
                      "the room is playing no match: there is nothing to watch (join it instead)");
        }
        if (member_in(room, id)) {
          return fail(answer, wire::ErrorCode::bad_request,
                      "you have a seat in this match: play it rather than watch it");
        }
        // Until a player reaches the game server the match does not exist there, and the server
        // refuses spectators of it (a spectator never starts a match).
        if (!room->match_began) {
          return fail(answer, wire::ErrorCode::no_match,
                      "the room's match has not begun on its game server yet: ask again in a "
                      "moment");
        }
        // The game server caps the spectators of each match (it alone knows how many it has),
        // so the lobby issues the ticket and the server may refuse it.
        ++metrics_.spectator_tickets;
        reply(answer, ok_reply(answer.id));
        send_match_ticket(id, room->match_id, room->match_server, TicketRole::spectator);
      });
}

void LobbyService::send_match_ticket(PlayerId player, std::uint64_t match,
                                     const MatchServer& server, TicketRole role) {
  const bool spectator = role == TicketRole::spectator;
  // Each MatchStart goes to its player alone: it carries their session keys.
  if (server.seal_key) {
    const IssuedTicket issued = tickets_.issue_with_keys(
        player, match, server.address, *server.seal_key, config_.ticket_lifetime_ms, role);
    state_.publish({Broadcast::Audience::player, player,
                    match_start_event(match, server, issued.ticket, &issued.keys, spectator)});
  } else {
    const std::vector<std::byte> ticket =
        tickets_.issue(player, match, server.address, config_.ticket_lifetime_ms, role);
    state_.publish({Broadcast::Audience::player, player,
                    match_start_event(match, server, ticket, nullptr, spectator)});
  }
}

}  // namespace tickwire::net::lobby_detail
