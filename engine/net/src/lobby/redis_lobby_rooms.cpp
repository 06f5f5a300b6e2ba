// RedisLobbyState's rooms (lobby/redis_lobby_state.hpp has the class and the key layout): making,
// listing, joining and leaving rooms, members' flags, a room's match from its start to its end,
// and the room's chat. Every change to a room is one transaction on its record (change_room), so
// two lobby processes never both take the last seat or both start a match.

#include <algorithm>

#include "lobby/redis_lobby_state.hpp"
#include "lobby/redis_records.hpp"
#include "lobby/redis_scripts.hpp"
#include "lobby/room_rules.hpp"

namespace tickwire::net::lobby_detail {

template <typename Change>
StateError RedisLobbyState::change_room(LobbyRoomId id,
                                        const std::vector<std::string>& also_watched, Change change,
                                        std::optional<RoomInfo>* after) {
  const std::string room_key = this->room_key(id);
  std::vector<std::string> watched{room_key};
  watched.insert(watched.end(), also_watched.begin(), also_watched.end());
  return transaction(
      watched, {{"GET", room_key}}, [&](std::vector<RedisReply>& read, Writes& writes) {
        if (lobby_detail::is_nil(read[0].get())) return StateError::room_not_found;
        std::optional<RoomInfo> room = lobby_detail::decode_room(reply_string(read[0].get()));
        if (!room) return StateError::room_not_found;
        if (const StateError error = change(*room, writes); error != StateError::none) {
          return error;
        }
        if (!room->members.empty()) {
          writes.insert(writes.begin(), {"SET", room_key, lobby_detail::encode_room(*room)});
        }
        if (after != nullptr) *after = std::move(room);
        return StateError::none;
      });
}

template <typename Change>
StateError RedisLobbyState::change_member(LobbyRoomId id, LobbyPlayerId player, Change change) {
  return change_room(id, {}, [&](RoomInfo& room, Writes&) {
    const auto member = lobby_detail::find_member(room, player);
    if (member == room.members.end()) return StateError::not_in_room;
    change(*member);
    return StateError::none;
  });
}

StateError RedisLobbyState::create_room(RoomInfo room, std::size_t max_rooms) {
  const std::string rooms = key("rooms");
  const std::string room_key = this->room_key(room.id);
  const std::string encoded = lobby_detail::encode_room(room);
  return transaction({rooms}, {{"ZCARD", rooms}},
                     [&](std::vector<RedisReply>& read, Writes& writes) {
                       if (static_cast<std::size_t>(reply_integer(read[0].get())) >= max_rooms) {
                         return StateError::too_many_rooms;
                       }
                       writes.push_back({"SET", room_key, encoded});
                       writes.push_back({"ZADD", rooms, number(room.id), number(room.id)});
                       return StateError::none;
                     });
}

std::optional<RoomInfo> RedisLobbyState::room(LobbyRoomId id) const {
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"GET", room_key(id)});
  if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
  return lobby_detail::decode_room(reply_string(reply.get()));
}

std::vector<RoomInfo> RedisLobbyState::list_rooms(const RoomFilter& filter) const {
  std::vector<RoomInfo> out;
  // Ids first (the ZSET keeps them in order), then the rooms a batch at a time until the page
  // is full: a filter may pass over many.
  constexpr std::size_t kBatch = 256;
  std::string after = "(" + number(filter.after);
  while (out.size() < filter.limit) {
    std::vector<RedisReply> replies;
    {
      const auto commands = commands_.acquire();
      replies = commands->pipeline(
          {{"ZRANGEBYSCORE", key("rooms"), after, "+inf", "LIMIT", "0", number(kBatch)}});
    }
    if (replies.empty() || replies[0]->type != REDIS_REPLY_ARRAY || replies[0]->elements == 0) {
      break;
    }
    RedisCommand get{"MGET"};
    for (std::size_t i = 0; i < replies[0]->elements; ++i)
      get.push_back(key("room:" + reply_string(replies[0]->element[i])));
    // Appended rather than "(" + ...: GCC 12 warns a false -Wrestrict on that here (bug 105329).
    after = "(";
    after += reply_string(replies[0]->element[replies[0]->elements - 1]);
    const bool last_batch = replies[0]->elements < kBatch;
    RedisReply rooms;
    {
      const auto commands = commands_.acquire();
      rooms = commands->run(get);
    }
    for_each_element(rooms.get(), [&](const redisReply* element) {
      if (out.size() >= filter.limit || lobby_detail::is_nil(element)) return;
      std::optional<RoomInfo> room = lobby_detail::decode_room(reply_string(element));
      if (!room) return;
      if (lobby_detail::passes(filter, *room)) out.push_back(std::move(*room));
    });
    if (last_batch) break;
  }
  return out;
}

std::size_t RedisLobbyState::room_count() const {
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"ZCARD", key("rooms")});
  return reply ? static_cast<std::size_t>(reply_integer(reply.get())) : 0;
}

StateError RedisLobbyState::join_room(LobbyRoomId id, const MemberInfo& member) {
  return change_room(
      id, {}, [&](RoomInfo& room, Writes&) { return lobby_detail::add_member(room, member); });
}

StateError RedisLobbyState::leave_room(LobbyRoomId id, LobbyPlayerId player,
                                       std::optional<RoomInfo>& after) {
  after.reset();
  bool closed = false;
  const StateError error = change_room(
      id, {},
      [&](RoomInfo& room, Writes& writes) {
        const StateError removed = lobby_detail::remove_member(room, player, closed);
        if (removed == StateError::none && closed) {
          writes.push_back({"DEL", room_key(id), key("chat:" + number(id))});
          writes.push_back({"ZREM", key("rooms"), number(id)});
          if (room.match_id != 0) writes.push_back({"DEL", key("match:" + number(room.match_id))});
        }
        return removed;
      },
      &after);
  if (closed) after.reset();
  return error;
}

StateError RedisLobbyState::set_ready(LobbyRoomId id, LobbyPlayerId player, bool ready) {
  return change_member(id, player, [&](MemberInfo& member) { member.ready = ready; });
}

StateError RedisLobbyState::set_connected(LobbyRoomId id, LobbyPlayerId player, bool connected) {
  return change_member(id, player, [&](MemberInfo& member) { member.connected = connected; });
}

// --- matches -------------------------------------------------------------------------------

std::optional<LobbyRoomId> RedisLobbyState::room_id_of_match(std::uint64_t match_id) const {
  if (match_id == 0) return std::nullopt;
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"GET", key("match:" + number(match_id))});
  if (!reply || lobby_detail::is_nil(reply.get())) return std::nullopt;
  return parse_id(reply_string(reply.get()));
}

StateError RedisLobbyState::start_match(LobbyRoomId id, LobbyPlayerId host, std::uint64_t match_id,
                                        const MatchServer& server, std::uint32_t reserved_slots,
                                        std::uint64_t now_unix_ms,
                                        std::optional<RoomInfo>& started) {
  started.reset();
  return change_room(
      id, {},
      [&](RoomInfo& room, Writes& writes) {
        const StateError error =
            lobby_detail::begin_match(room, host, match_id, server, reserved_slots, now_unix_ms);
        if (error != StateError::none) return error;
        writes.push_back({"SET", key("match:" + number(match_id)), number(id)});
        return StateError::none;
      },
      &started);
}

std::optional<RoomInfo> RedisLobbyState::room_of_match(std::uint64_t match_id) const {
  const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
  if (!id) return std::nullopt;
  auto found = room(*id);
  if (!found || found->match_id != match_id) return std::nullopt;
  return found;
}

bool RedisLobbyState::mark_match_began(std::uint64_t match_id) {
  const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
  if (!id) return false;
  return change_room(*id, {}, [&](RoomInfo& room, Writes&) {
           if (room.match_id != match_id) return StateError::room_not_found;
           room.match_began = true;
           return StateError::none;
         }) == StateError::none;
}

std::optional<RoomInfo> RedisLobbyState::end_match(std::uint64_t match_id) {
  const std::optional<LobbyRoomId> id = room_id_of_match(match_id);
  if (!id) return std::nullopt;
  std::optional<RoomInfo> after;
  std::string server;
  std::uint32_t reserved = 0;
  const StateError error = change_room(
      *id, {},
      [&](RoomInfo& room, Writes& writes) {
        if (room.match_id != match_id) return StateError::room_not_found;
        server = room.match_server.address;
        reserved = room.match_reserved_slots;
        lobby_detail::finish_match(room);
        writes.push_back({"DEL", key("match:" + number(match_id))});
        return StateError::none;
      },
      &after);
  if (error != StateError::none) return std::nullopt;
  // The match ended once (the transaction above): its reservation goes back once.
  if (reserved != 0) release_game_server(server, reserved);
  return after;
}

// --- chat ----------------------------------------------------------------------------------

void RedisLobbyState::append_chat(LobbyRoomId id, ChatEntry entry, std::size_t keep) {
  if (keep == 0) return;
  // Queued with the broadcasts rather than run here: the lobby's thread does not wait a round
  // trip per chat line, and Redis appends the line before it publishes the line's broadcast
  // (queued after it), so a player who gets the history and then the broadcasts misses none.
  fanout_.write_later({"EVAL", lobby_detail::redis_script::kAppendChat, "2", room_key(id),
                       key("chat:" + number(id)), lobby_detail::encode_chat(entry), number(keep)});
}

std::vector<ChatEntry> RedisLobbyState::chat_history(LobbyRoomId id) const {
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"LRANGE", key("chat:" + number(id)), "0", "-1"});
  std::vector<ChatEntry> out;
  for_each_element(reply.get(), [&](const redisReply* element) {
    if (auto entry = lobby_detail::decode_chat(reply_string(element))) {
      out.push_back(std::move(*entry));
    }
  });
  return out;
}

}  // namespace tickwire::net::lobby_detail
