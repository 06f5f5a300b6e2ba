// The Redis lobby state's records: what is written reads back the same, and a damaged record (cut
// short anywhere, another kind's, trailing bytes) is refused rather than read past its end.

#include <gtest/gtest.h>

#include "lobby/redis_records.hpp"

namespace tickwire::net::lobby_detail {
namespace {

RoomInfo sample_room() {
  RoomInfo room;
  room.id = 42;
  room.name = std::string("a room with a \0 byte", 20);  // binary-safe
  room.game_mode = "ctf";
  room.max_players = 8;
  room.host = 7;
  room.members = {{7, "host", true, true}, {9, "guest", false, false}};
  room.match_id = 1234;
  room.match_server.address = "10.0.0.2:7000";
  room.match_server.websocket_address = "10.0.0.2:7001";
  room.match_server.seal_key = ServerSealPublicKey{};
  room.match_server.seal_key->fill(0xab);
  room.match_started_unix_ms = 1'700'000'000'000;
  room.match_began = true;
  room.match_reserved_slots = 2;
  return room;
}

TEST(RedisRecords, a_room_reads_back_as_it_was_written) {
  const RoomInfo room = sample_room();
  const auto back = decode_room(encode_room(room));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, room.id);
  EXPECT_EQ(back->name, room.name);
  EXPECT_EQ(back->game_mode, room.game_mode);
  EXPECT_EQ(back->max_players, room.max_players);
  ASSERT_EQ(back->members.size(), 2u);
  EXPECT_EQ(back->members[1].nickname, "guest");
  EXPECT_FALSE(back->members[1].connected);
  EXPECT_EQ(back->match_server.seal_key, room.match_server.seal_key);
  EXPECT_EQ(back->match_server.websocket_address, room.match_server.websocket_address);
  EXPECT_EQ(back->match_reserved_slots, 2u);
  EXPECT_TRUE(back->match_began);
}

TEST(RedisRecords, a_record_cut_short_anywhere_or_of_another_kind_is_refused) {
  const std::string room = encode_room(sample_room());
  for (std::size_t size = 0; size < room.size(); ++size)
    EXPECT_FALSE(decode_room(std::string_view(room).substr(0, size))) << size;
  EXPECT_FALSE(decode_room(room + "x")) << "trailing bytes";
  EXPECT_FALSE(decode_resume(room)) << "another kind's record";
  // A member count far beyond the record's size is refused before anything is allocated.
  const RoomInfo sample = sample_room();
  const std::size_t count_at =
      1 + 8 + (8 + sample.name.size()) + (8 + sample.game_mode.size()) + 8 + 8;
  std::string huge = room;
  for (std::size_t i = 0; i < 8; ++i)
    huge[count_at + i] = '\xff';
  EXPECT_FALSE(decode_room(huge));
  GameServerInfo server;
  server.address = "127.0.0.1:9000";
  server.capacity = 16;
  server.reserved = 4;
  const std::string encoded = encode_game_server(server);
  const auto back = decode_game_server(encoded);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reserved, 4u);
  EXPECT_FALSE(back->seal_key);
  for (std::size_t size = 0; size < encoded.size(); ++size)
    EXPECT_FALSE(decode_game_server(std::string_view(encoded).substr(0, size))) << size;
}

TEST(RedisRecords, chat_resume_and_broadcasts_read_back) {
  const ChatEntry line{ChatScope::whisper, 3, 4, "from", "to", "hello", 99};
  const auto chat = decode_chat(encode_chat(line));
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->scope, ChatScope::whisper);
  EXPECT_EQ(chat->text, "hello");
  const ResumeRecord record{5, "sleeper", 6, 1234, "127.0.0.1"};
  const auto resume = decode_resume(encode_resume(record));
  ASSERT_TRUE(resume);
  EXPECT_EQ(resume->expires_unix_ms, 1234u);
  EXPECT_EQ(resume->address, "127.0.0.1");
  const Broadcast broadcast{Broadcast::Audience::player, 77,
                            std::make_shared<const std::vector<std::byte>>(3, std::byte{9})};
  const auto message = decode_broadcast(encode_broadcast(broadcast));
  ASSERT_TRUE(message);
  EXPECT_EQ(message->audience, Broadcast::Audience::player);
  EXPECT_EQ(message->target, 77u);
  EXPECT_EQ(*message->message, *broadcast.message);
  EXPECT_TRUE(message->changes_rooms);
  EXPECT_TRUE(message->ends_session.empty());
  // An order to end a session resumed elsewhere names the session's token.
  Broadcast order{Broadcast::Audience::player, 78, std::make_shared<const std::vector<std::byte>>(),
                  false, "0123456789abcdef"};
  const auto back = decode_broadcast(encode_broadcast(order));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ends_session, "0123456789abcdef");
  EXPECT_EQ(back->target, 78u);
  EXPECT_TRUE(back->message->empty());
}

// A node's version() follows other nodes' room changes by this flag: it must survive the trip,
// and an envelope cut anywhere (the flag included) is refused, not read as a room change or not.
TEST(RedisRecords, broadcast_carries_whether_it_changes_rooms) {
  Broadcast chat{Broadcast::Audience::room, 5,
                 std::make_shared<const std::vector<std::byte>>(4, std::byte{1})};
  chat.changes_rooms = false;
  const std::string encoded = encode_broadcast(chat);
  const auto back = decode_broadcast(encoded);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->changes_rooms);
  for (std::size_t size = 0; size < encoded.size(); ++size)
    EXPECT_FALSE(decode_broadcast(std::string_view(encoded).substr(0, size))) << size;
  EXPECT_FALSE(decode_broadcast(encoded + '\0'));
}

}  // namespace
}  // namespace tickwire::net::lobby_detail
