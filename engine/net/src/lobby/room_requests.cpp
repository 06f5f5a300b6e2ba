// The requests about rooms: list, create, join, leave, kick, chat, ready and match start.

#include <algorithm>

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"

namespace tickwire::net::lobby_detail {
namespace {

std::string str(const flatbuffers::String* text) {
  return text != nullptr ? text->str() : "";
}

wire::ErrorCode error_code_for(StateError error) {
  switch (error) {
    case StateError::room_not_found:
      return wire::ErrorCode::room_not_found;
    case StateError::room_full:
      return wire::ErrorCode::room_full;
    case StateError::too_many_rooms:
      return wire::ErrorCode::too_many_rooms;
    case StateError::match_in_progress:
      return wire::ErrorCode::match_in_progress;
    case StateError::not_in_room:
      return wire::ErrorCode::not_in_room;
    case StateError::not_host:
      return wire::ErrorCode::not_host;
    case StateError::not_all_ready:
      return wire::ErrorCode::not_all_ready;
    case StateError::unavailable:
      // No code of its own on the wire: like a rate limit, it asks the client to try again.
      return wire::ErrorCode::rate_limited;
    case StateError::none:
      break;
  }
  return wire::ErrorCode::none;
}

std::string message_for(StateError error) {
  switch (error) {
    case StateError::room_not_found:
      return "no room has this id (it may have closed): list the rooms again";
    case StateError::room_full:
      return "the room is full";
    case StateError::too_many_rooms:
      return "the lobby has as many rooms as it allows: join one";
    case StateError::match_in_progress:
      return "the room's match has started";
    case StateError::not_in_room:
      return "that player is not in the room";
    case StateError::not_host:
      return "only the room's host may start the match";
    case StateError::not_all_ready:
      return "a player is not ready any more (or disconnected)";
    case StateError::unavailable:
      return "the lobby cannot reach its shared state: try again in a moment";
    case StateError::none:
      break;
  }
  return {};
}

}  // namespace

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
  const std::vector<RoomInfo> rooms = state_.list_rooms(filter);
  // A page that would not fit in one message (long names, JSON's escapes) holds fewer rooms.
  std::string json;
  const MessageBytes answer = fit(
      request.session, std::min(page, rooms.size()), std::min<std::size_t>(1, rooms.size()),
      [&](std::size_t count) {
        const RoomId next = count < rooms.size() ? rooms[count - 1].id : 0;
        return room_list_reply(request.id, {rooms.data(), count}, next);
      },
      json);
  if (!answer) {
    return fail(request, wire::ErrorCode::reply_too_large,
                "not even one room fits in a message: raise max_message_size");
  }
  reply(request, answer, &json);
}

void LobbyService::create_room(const Request& request, const wire::CreateRoom& create) {
  Player& player = *player_of(request.session);
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
  room.id = state_.next_id();
  if (room.id == 0) {
    return fail(request, error_code_for(StateError::unavailable),
                message_for(StateError::unavailable));
  }
  room.name = name;
  room.game_mode = mode;
  room.max_players = seats;
  room.host = request.session.player;
  room.members.push_back({request.session.player, player.nickname, false, true});
  if (const StateError error = state_.create_room(room, config_.max_rooms);
      error != StateError::none) {
    return fail(request, error_code_for(error), message_for(error));
  }
  player.room = room.id;
  update_record(request.session.player, player);
  ++rooms_by_address_[request.session.address];
  room_creator_address_.emplace(room.id, request.session.address);
  reply(request, room_detail_reply(request.id, room, {}));
}

void LobbyService::join_room(const Request& request, const wire::JoinRoom& join) {
  Player& player = *player_of(request.session);
  if (player.room != 0) {
    return fail(request, wire::ErrorCode::already_in_room, "leave your room first");
  }
  const MemberInfo member{request.session.player, player.nickname, false, true};
  if (const StateError error = state_.join_room(join.room_id(), member);
      error != StateError::none) {
    return fail(request, error_code_for(error), message_for(error));
  }
  player.room = join.room_id();
  update_record(request.session.player, player);
  const std::optional<RoomInfo> room = state_.room(player.room);
  if (!room)
    return fail(request, wire::ErrorCode::room_not_found, message_for(StateError::room_not_found));
  // The oldest lines of the history give way if all of it would not fit in one message.
  const std::vector<ChatEntry> history = history_for_join(room->id);
  std::string json;
  const MessageBytes detail = fit(
      request.session, history.size(), 0,
      [&](std::size_t lines) {
        return room_detail_reply(request.id, *room,
                                 {history.data() + (history.size() - lines), lines});
      },
      json);
  if (detail) {
    reply(request, detail, &json);
  } else {
    // Cannot happen with a valid config (it makes a full room fit): an answer all the same.
    fail(request, wire::ErrorCode::reply_too_large, "the room does not fit in a message");
  }
  state_.publish({Broadcast::Audience::room, room->id,
                  presence_event(room->id, wire::PresenceKind::joined, member)});
}

void LobbyService::leave_room(const Request& request) {
  Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  const RoomId room = std::exchange(player.room, 0);
  update_record(request.session.player, player);
  reply(request, ok_reply(request.id));
  if (auto member = member_of(room, request.session.player)) {
    remove_from_room(room, *member, wire::PresenceKind::left);
  }
}

void LobbyService::kick(const Request& request, const wire::KickPlayer& kick) {
  const Player& host = *player_of(request.session);
  if (host.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  const auto room = state_.room(host.room);
  if (!room || room->host != request.session.player) {
    return fail(request, wire::ErrorCode::not_host, "only the room's host may kick");
  }
  if (kick.player_id() == request.session.player) {
    return fail(request, wire::ErrorCode::bad_request, "the host cannot kick themselves: leave");
  }
  const auto member = member_of(room->id, kick.player_id());
  if (!member) {
    return fail(request, wire::ErrorCode::player_not_found, "that player is not in your room");
  }
  reply(request, ok_reply(request.id));
  // The kicked player learns it too, though no longer a member.
  state_.publish({Broadcast::Audience::player, member->player,
                  presence_event(room->id, wire::PresenceKind::kicked, *member)});
  if (const auto kicked = players_.find(member->player); kicked != players_.end()) {
    kicked->second.room = 0;
    update_record(kicked->first, kicked->second);
  }
  remove_from_room(room->id, *member, wire::PresenceKind::kicked);
}

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
      const auto to = state_.player_by_nickname(nickname_key(entry.to_nickname));
      if (!to) {
        return fail(request, wire::ErrorCode::player_not_found,
                    "nobody is called '" + entry.to_nickname + "'");
      }
      reply(request, ok_reply(request.id));
      const MessageBytes message = chat_event(entry);
      state_.publish({Broadcast::Audience::player, *to, message, /*changes_rooms=*/false});
      // The sender sees their whisper too, as the recipient does.
      if (*to != request.session.player) send(request.peer, message);
      return;
    }
  }
  fail(request, wire::ErrorCode::bad_request, "unknown chat scope");
}

void LobbyService::set_ready(const Request& request, const wire::SetReady& ready) {
  const Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  const auto room = state_.room(player.room);
  if (room && room->match_id != 0) {
    return fail(request, wire::ErrorCode::match_in_progress,
                message_for(StateError::match_in_progress));
  }
  if (const StateError error = state_.set_ready(player.room, request.session.player, ready.ready());
      error != StateError::none) {
    return fail(request, error_code_for(error), message_for(error));
  }
  reply(request, ok_reply(request.id));
  if (auto member = member_of(player.room, request.session.player)) {
    state_.publish(
        {Broadcast::Audience::room, player.room,
         presence_event(player.room,
                        ready.ready() ? wire::PresenceKind::ready : wire::PresenceKind::not_ready,
                        *member)});
  }
}

void LobbyService::start_match(const Request& request) {
  const Player& player = *player_of(request.session);
  if (player.room == 0) return fail(request, wire::ErrorCode::not_in_room, "you are in no room");
  const auto room = state_.room(player.room);
  if (!room || room->host != request.session.player) {
    return fail(request, wire::ErrorCode::not_host, "only the room's host may start the match");
  }
  if (room->match_id != 0) {
    return fail(request, wire::ErrorCode::match_in_progress,
                message_for(StateError::match_in_progress));
  }
  for (const MemberInfo& member : room->members) {
    if (!member.ready || !member.connected) {
      return fail(
          request, wire::ErrorCode::not_all_ready,
          "'" + member.nickname + "' is not ready" + (member.connected ? "" : " (disconnected)"));
    }
  }
  // The checks above read a copy of the room, for an answer that names who is not ready; the
  // state checks again with the change (start_match), as the room may have changed since.
  // A registered dedicated server with a seat for every member, reserved now (released if the
  // match does not start), else the one in this process.
  const auto seats = static_cast<std::uint32_t>(room->members.size());
  MatchServer server{config_.local_game_server, config_.local_game_server_websocket,
                     config_.local_game_server_seal_key};
  std::uint32_t reserved = 0;
  if (auto registered = state_.reserve_game_server(seats)) {
    server = {std::move(registered->address), std::move(registered->websocket_address),
              registered->seal_key};
    reserved = seats;
  }
  if (server.address.empty()) {
    return fail(request, wire::ErrorCode::no_game_server,
                "no game server has room for a match: try again later");
  }
  const std::uint64_t match = state_.next_id();
  std::optional<RoomInfo> started;
  const StateError error = match == 0
                               ? StateError::unavailable
                               : state_.start_match(room->id, request.session.player, match, server,
                                                    reserved, unix_time_ms(), started);
  if (error != StateError::none) {
    if (reserved != 0) state_.release_game_server(server.address, reserved);
    return fail(request, error_code_for(error), message_for(error));
  }
  ++metrics_.matches_started;
  reply(request, ok_reply(request.id));
  for (const MemberInfo& member : started->members)
    send_match_ticket(member.player, match, server);
}

void LobbyService::spectate_match(const Request& request, const wire::SpectateMatch& spectate) {
  const std::optional<RoomInfo> room = state_.room(spectate.room_id());
  if (!room) {
    return fail(request, wire::ErrorCode::room_not_found, message_for(StateError::room_not_found));
  }
  if (room->match_id == 0) {
    return fail(request, wire::ErrorCode::no_match,
                "the room is playing no match: there is nothing to watch (join it instead)");
  }
  if (member_of(room->id, request.session.player)) {
    return fail(request, wire::ErrorCode::bad_request,
                "you have a seat in this match: play it rather than watch it");
  }
  // Until a player reaches the game server the match does not exist there, and the server
  // refuses spectators of it (a spectator never starts a match).
  if (!room->match_began) {
    return fail(request, wire::ErrorCode::no_match,
                "the room's match has not begun on its game server yet: ask again in a moment");
  }
  // The game server caps the spectators of each match (it alone knows how many it has), so
  // the lobby issues the ticket and the server may refuse it.
  ++metrics_.spectator_tickets;
  reply(request, ok_reply(request.id));
  send_match_ticket(request.session.player, room->match_id, room->match_server,
                    TicketRole::spectator);
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

void LobbyService::remove_from_room(RoomId room, const MemberInfo& member,
                                    wire::PresenceKind kind) {
  const auto before = state_.room(room);
  std::optional<RoomInfo> after;
  if (state_.leave_room(room, member.player, after) != StateError::none) return;
  if (!after) {
    // The room closed: it no longer counts for the address that created it.
    if (const auto creator = room_creator_address_.find(room);
        creator != room_creator_address_.end()) {
      count_down(rooms_by_address_, creator->second);
      room_creator_address_.erase(creator);
    }
    return;
  }
  state_.publish({Broadcast::Audience::room, room, presence_event(room, kind, member)});
  if (before && before->host != after->host) {
    for (const MemberInfo& host : after->members) {
      if (host.player != after->host) continue;
      state_.publish({Broadcast::Audience::room, room,
                      presence_event(room, wire::PresenceKind::host_changed, host)});
    }
  }
}

}  // namespace tickwire::net::lobby_detail
