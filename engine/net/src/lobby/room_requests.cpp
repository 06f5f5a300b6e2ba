// The requests about rooms: list, create, join, leave and kick, and a player's removal from a
// room. Chat, ready-up and the match are in match_requests.cpp. Each
// checks what the lobby's maps know, runs its state phase with on_state() and answers in its
// completion, which looks its connection and player up again (the player may have resumed on
// another connection meanwhile).

#include <algorithm>

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"
#include "lobby/request_errors.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::list_rooms(const Request& request, const wire::ListRooms& list) {
  RoomFilter filter;
  filter.game_mode = str(list.game_mode());
  filter.only_free_seats = list.only_free_seats();
  filter.after = list.after_room_id();
  const std::size_t page = list.limit() == 0
                               ? config_.max_rooms_per_page
                               : std::min<std::size_t>(list.limit(), config_.max_rooms_per_page);
  // One room more than the page holds tells whether another page follows.
  filter.limit = page + 1;
  on_state(
      request.peer, [filter](LobbyState& state) { return state.list_rooms(filter); },
      [this, answer = answer_of(request), page](const std::vector<RoomInfo>& rooms) {
        // A page that would not fit in one message (long names, JSON's escapes) holds fewer
        // rooms.
        std::string json;
        const MessageBytes reply_bytes = fit(
            answer.peer, std::min(page, rooms.size()), std::min<std::size_t>(1, rooms.size()),
            [&](std::size_t count) {
              const RoomId next = count < rooms.size() ? rooms[count - 1].id : 0;
              return room_list_reply(answer.id, {rooms.data(), count}, next);
            },
            json);
        if (!reply_bytes) {
          return fail(answer, wire::ErrorCode::reply_too_large,
                      "not even one room fits in a message: raise max_message_size");
        }
        reply(answer, reply_bytes, &json);
      });
}

void LobbyService::create_room(const Request& request, const wire::CreateRoom& create) {
  const Player& player = *player_of(request.session);
  if (player.room != 0) {
    return fail(request, wire::ErrorCode::already_in_room, "leave your room first");
  }
  const std::string name = str(create.name());
  const std::string mode = str(create.game_mode());
  if (std::string problem = check_text("a room name", name, 1, config_.max_room_name_length);
      !problem.empty()) {
    return fail(request, wire::ErrorCode::bad_request, std::move(problem));
  }
  if (std::string problem = check_text("a game mode", mode, 0, config_.max_game_mode_length);
      !problem.empty()) {
    return fail(request, wire::ErrorCode::bad_request, std::move(problem));
  }
  std::size_t seats = create.max_players();
  if (seats == 0) seats = config_.max_players_per_room;
  if (seats < 1 || seats > config_.max_players_per_room) {
    return fail(request, wire::ErrorCode::bad_request,
                "max_players must be 1.." + std::to_string(config_.max_players_per_room) +
                    " (0 = the largest)");
  }
  if (const auto held = rooms_by_address_.find(request.session.address);
      held != rooms_by_address_.end() && held->second >= config_.max_rooms_per_address) {
    ++metrics_.refused_address_limit;
    log_address_limit(request, "max_rooms_per_address");
    return fail(request, wire::ErrorCode::address_limit,
                "players from your address have " + std::to_string(held->second) +
                    " rooms open, as many as one address may: join one");
  }
  RoomInfo room;
  room.name = name;
  room.game_mode = mode;
  room.max_players = seats;
  room.host = request.session.player;
  room.members.push_back({request.session.player, player.nickname, false, true});
  // Counted now, so that the address's next CreateRoom sees this one while it is out.
  ++rooms_by_address_[request.session.address];
  struct Created {
    RoomInfo room;
    StateError error = StateError::none;
  };
  on_state(
      request.peer,
      [this, room = std::move(room), player](LobbyState& state) mutable {
        Created created;
        room.id = state.next_id();
        if (room.id == 0) {
          created.error = StateError::unavailable;
          return created;
        }
        created.error = state.create_room(room, config_.max_rooms);
        if (created.error == StateError::none) {
          Player seated = player;
          seated.room = room.id;
          update_record(state, room.host, seated);
        }
        created.room = std::move(room);
        return created;
      },
      [this, answer = answer_of(request),
       address = request.session.address](const Created& created) {
        if (created.error != StateError::none) {
          count_down(rooms_by_address_, address);
          return fail(answer, error_code_for(created.error), message_for(created.error));
        }
        room_creator_address_.emplace(created.room.id, address);
        if (Player* seated = player_at(answer.peer)) seated->room = created.room.id;
        reply(answer, room_detail_reply(answer.id, created.room, {}));
      });
}

void LobbyService::join_room(const Request& request, const wire::JoinRoom& join) {
  const Player& player = *player_of(request.session);
  if (player.room != 0) {
    return fail(request, wire::ErrorCode::already_in_room, "leave your room first");
  }
  const MemberInfo member{request.session.player, player.nickname, false, true};
  struct Joined {
    StateError error = StateError::none;
    std::optional<RoomInfo> room;
    std::vector<ChatEntry> history;
  };
  on_state(
      request.peer,
      [this, member, player, room_id = join.room_id()](LobbyState& state) {
        Joined joined;
        joined.error = state.join_room(room_id, member);
        if (joined.error != StateError::none) return joined;
        Player seated = player;
        seated.room = room_id;
        update_record(state, member.player, seated);
        joined.room = state.room(room_id);
        if (joined.room) joined.history = history_for_join(state, room_id);
        return joined;
      },
      [this, answer = answer_of(request), member, room_id = join.room_id()](const Joined& joined) {
        if (joined.error != StateError::none) {
          return fail(answer, error_code_for(joined.error), message_for(joined.error));
        }
        if (Player* seated = player_at(answer.peer)) seated->room = room_id;
        if (!joined.room) {
          return fail(answer, wire::ErrorCode::room_not_found,
                      message_for(StateError::room_not_found));
        }
        const RoomInfo& room = *joined.room;
        const std::vector<ChatEntry>& history = joined.history;
        // The oldest lines of the history give way if all of it would not fit in one message.
        std::string json;
        const MessageBytes detail = fit(
            answer.peer, history.size(), 0,
            [&](std::size_t lines) {
              return room_detail_reply(answer.id, room,
                                       {history.data() + (history.size() - lines), lines});
            },
            json);
        if (detail) {
          reply(answer, detail, &json);
        } else {
          // Cannot happen with a valid config (it makes a full room fit): an answer all the
          // same.
          fail(answer, wire::ErrorCode::reply_too_large, "the room does not fit in a message");
        }
        state_.publish({Broadcast::Audience::room, room.id,
                        presence_event(room.id, wire::PresenceKind::joined, member)});
      });
}

void LobbyService::leave_room(const Request& request) {
  Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  const RoomId room = std::exchange(player.room, 0);
  on_state(
      request.peer,
      [this, room, player, id = request.session.player](LobbyState& state) {
        update_record(state, id, player);
        return remove_in_state(state, room, id);
      },
      [this, answer = answer_of(request), room](const Removal& removal) {
        reply(answer, ok_reply(answer.id));
        after_removal(room, removal, wire::PresenceKind::left);
      });
}

void LobbyService::kick(const Request& request, const wire::KickPlayer& kick) {
  const Player& host = *player_of(request.session);
  if (host.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  if (kick.player_id() == request.session.player) {
    return fail(request, wire::ErrorCode::bad_request, "the host cannot kick themselves: leave");
  }
  struct Kicked {
    bool host = false;  // the requester is the room's host
    Removal removal;
  };
  on_state(
      request.peer,
      [room = host.room, host_id = request.session.player,
       kicked = kick.player_id()](LobbyState& state) {
        Kicked outcome;
        const auto info = state.room(room);
        outcome.host = info && info->host == host_id;
        if (outcome.host && member_in(info, kicked)) {
          outcome.removal = remove_in_state(state, room, kicked);
        }
        return outcome;
      },
      [this, answer = answer_of(request), room = host.room](const Kicked& outcome) {
        if (!outcome.host) {
          return fail(answer, wire::ErrorCode::not_host, "only the room's host may kick");
        }
        if (!outcome.removal.member) {
          return fail(answer, wire::ErrorCode::player_not_found, "that player is not in your room");
        }
        const MemberInfo& member = *outcome.removal.member;
        reply(answer, ok_reply(answer.id));
        // The kicked player learns it too, though no longer a member.
        state_.publish({Broadcast::Audience::player, member.player,
                        presence_event(room, wire::PresenceKind::kicked, member)});
        if (const auto kicked = players_.find(member.player);
            kicked != players_.end() && kicked->second.room == room) {
          kicked->second.room = 0;
          on_state(
              kInvalidPeer,
              [this, id = kicked->first, player = kicked->second](LobbyState& state) {
                update_record(state, id, player);
                return true;
              },
              [](bool) {});
        }
        after_removal(room, outcome.removal, wire::PresenceKind::kicked);
      });
}

LobbyService::Removal LobbyService::remove_in_state(LobbyState& state, RoomId room,
                                                    PlayerId player) {
  Removal removal;
  const auto before = state.room(room);
  removal.member = member_in(before, player);
  if (!removal.member) return removal;
  removal.host_before = before->host;
  if (state.leave_room(room, player, removal.after) != StateError::none) {
    removal.member.reset();
    return removal;
  }
  removal.closed = !removal.after;
  return removal;
}

void LobbyService::after_removal(RoomId room, const Removal& removal, wire::PresenceKind kind) {
  if (!removal.member) return;
  if (removal.closed) {
    // The room closed: it no longer counts for the address that created it.
    if (const auto creator = room_creator_address_.find(room);
        creator != room_creator_address_.end()) {
      count_down(rooms_by_address_, creator->second);
      room_creator_address_.erase(creator);
    }
    return;
  }
  state_.publish({Broadcast::Audience::room, room, presence_event(room, kind, *removal.member)});
  const RoomInfo& after = *removal.after;
  if (removal.host_before != after.host) {
    for (const MemberInfo& host : after.members) {
      if (host.player != after.host) continue;
      state_.publish({Broadcast::Audience::room, room,
                      presence_event(room, wire::PresenceKind::host_changed, host)});
    }
  }
}

}  // namespace tickwire::net::lobby_detail
