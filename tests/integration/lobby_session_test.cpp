// The lobby over real WebSocket connections on loopback, as players use it: Hello, rooms, chat,
// presence, kicks, JSON text frames, reconnection, and 200 players in one room. Match start and
// game servers are in lobby_match_test.cpp.

#include <algorithm>
#include <string>
#include <vector>

#include "lobby_fixture.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

TEST_F(LobbyTest, nicknames_are_checked_and_unique_ignoring_case) {
  start();
  Player& ann = add_player();
  Player& other = add_player();
  EXPECT_EQ(code(call(ann, 1, create_room(1, "early"))), wire::ErrorCode::hello_required);
  EXPECT_EQ(code(call(ann, 2, hello(2, "a"))), wire::ErrorCode::nickname_invalid);
  EXPECT_EQ(code(call(ann, 3, hello(3, "bad name!"))), wire::ErrorCode::nickname_invalid);
  EXPECT_TRUE(ok(call(ann, 4, hello(4, "Ann_1"))));
  EXPECT_EQ(code(call(ann, 5, hello(5, "again"))), wire::ErrorCode::already_hello);
  EXPECT_EQ(code(call(other, 6, hello(6, "ann_1"))), wire::ErrorCode::nickname_taken);
  const auto* reply = call(other, 7, hello(7, "other"));
  ASSERT_TRUE(ok(reply));
  EXPECT_EQ(reply->result()->message(), nullptr);
}

TEST_F(LobbyTest, text_frames_speak_the_same_messages_as_json) {
  start();
  Player& ann = add_player();
  ann.send_text(R"({"request_id": 7, "body_type": "Hello", "body": {"nickname": "jsonfan"}})");
  ASSERT_TRUE(pump_players(players_, [&] { return !ann.log().messages.empty(); }));
  const auto& message = ann.log().messages[0];
  EXPECT_EQ(message.channel, kTextChannel);
  const std::string text(reinterpret_cast<const char*>(message.bytes.data()), message.bytes.size());
  EXPECT_NE(text.find("\"request_id\": 7"), std::string::npos) << text;
  EXPECT_NE(text.find("\"ok\": true"), std::string::npos) << text;
  EXPECT_NE(text.find("\"nickname\": \"jsonfan\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"body_type\": \"Welcome\""), std::string::npos) << text;
}

TEST_F(LobbyTest, host_kicks_a_member_and_host_passes_on_when_the_host_leaves) {
  start();
  Player& ann = add_player();
  Player& bob = add_player();
  Player& cat = add_player();
  hello_ok(ann, "ann");
  const std::uint64_t bob_id = hello_ok(bob, "bob");
  const std::uint64_t cat_id = hello_ok(cat, "cat");
  const auto* created = call(ann, 2, create_room(2, "room"));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  ASSERT_TRUE(ok(call(bob, 2, join_room(2, room))));
  ASSERT_TRUE(ok(call(cat, 2, join_room(2, room))));
  EXPECT_EQ(code(call(bob, 3, kick(3, cat_id))), wire::ErrorCode::not_host);
  ASSERT_TRUE(ok(call(ann, 3, kick(3, cat_id))));
  const auto kicked = [&](const Player& player) {
    for (const auto* event : player.events(wire::LobbyBody::Presence)) {
      const auto* presence = event->body_as_Presence();
      if (presence->kind() == wire::PresenceKind::kicked &&
          presence->member()->player_id() == cat_id) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(pump_players(players_, [&] { return kicked(cat) && kicked(bob); }));
  EXPECT_EQ(code(call(cat, 4, chat(4, "still here?"))), wire::ErrorCode::not_in_room);

  ASSERT_TRUE(ok(call(ann, 5, leave_room(5))));
  ASSERT_TRUE(pump_players(players_, [&] {
    for (const auto* event : bob.events(wire::LobbyBody::Presence)) {
      const auto* presence = event->body_as_Presence();
      if (presence->kind() == wire::PresenceKind::host_changed &&
          presence->member()->player_id() == bob_id) {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(LobbyTest, a_joining_player_gets_the_last_fifty_chat_lines) {
  net::LobbyConfig config = fast_config();
  config.chat_burst = 100;
  start(config);
  Player& ann = add_player();
  Player& bob = add_player();
  hello_ok(ann, "ann");
  hello_ok(bob, "bob");
  const std::uint64_t room =
      call(ann, 2, create_room(2, "r"))->body_as_RoomDetail()->summary()->room_id();
  for (std::uint64_t i = 0; i < 60; ++i)
    ann.send(chat(100 + i, "line " + std::to_string(i)));
  ASSERT_TRUE(pump_players(players_, [&] { return ann.reply(159) != nullptr; }));
  const auto* joined = call(bob, 3, join_room(3, room));
  ASSERT_TRUE(ok(joined));
  const auto* history = joined->body_as_RoomDetail()->history();
  ASSERT_EQ(history->size(), 50u);
  EXPECT_EQ(history->Get(0)->text()->str(), "line 10");
  EXPECT_EQ(history->Get(49)->text()->str(), "line 59");
}

TEST_F(LobbyTest, chat_flood_gets_errors_then_a_1008_close_and_others_carry_on) {
  start();
  Player& flooder = add_player();
  Player& calm = add_player();
  hello_ok(flooder, "flooder");
  hello_ok(calm, "calm");
  // The lobby may cut the flooder off before the burst is out, so later sends can already find
  // it disconnected (unknown_peer): that is the point, not a failure.
  for (std::uint64_t i = 0; i < 30; ++i) {
    (void)flooder.transport().send(kBinaryChannel, net::Delivery::reliable_ordered,
                                   chat(10 + i, "spam", wire::ChatScope::global));
  }
  ASSERT_TRUE(pump_players(players_, [&] { return flooder.disconnected(); }));
  EXPECT_EQ(flooder.log().disconnected.at(0).second, net::DisconnectReason::rate_limited);
  bool refused = false;
  for (const auto* message : flooder.messages()) {
    if (message->result() != nullptr && message->result()->code() == wire::ErrorCode::rate_limited)
      refused = true;
  }
  EXPECT_TRUE(refused) << "a flooder is warned before it is disconnected";
  EXPECT_EQ(lobby_->counters().disconnected_flooding, 1u);
  EXPECT_TRUE(ok(call(calm, 2, chat(2, "still fine", wire::ChatScope::global))));
}

TEST_F(LobbyTest, reconnect_within_the_grace_period_keeps_the_seat_and_after_it_frees_it) {
  net::LobbyConfig config = fast_config();
  config.resume_grace_ms = 400;
  start(config);
  Player& host = add_player();
  hello_ok(host, "host");
  const std::uint64_t room =
      call(host, 2, create_room(2, "r"))->body_as_RoomDetail()->summary()->room_id();

  auto guest = std::make_unique<Player>(lobby_->port());
  ASSERT_TRUE(pump_players(players_, [&] {
    guest->poll();
    return guest->connected();
  }));
  guest->send(hello(1, "guest"));
  ASSERT_TRUE(pump_players(players_, [&] {
    guest->poll();
    return guest->reply(1) != nullptr;
  }));
  const std::uint64_t guest_id = guest->reply(1)->body_as_Welcome()->player_id();
  std::string token = guest->reply(1)->body_as_Welcome()->resume_token()->str();
  guest->send(join_room(2, room));
  ASSERT_TRUE(pump_players(players_, [&] {
    guest->poll();
    return guest->reply(2) != nullptr;
  }));

  // Drop and come back within the grace period: same player, same seat.
  guest.reset();
  Player& back = add_player();
  const auto* welcome = call(back, 1, hello(1, "", token));
  ASSERT_TRUE(ok(welcome));
  EXPECT_EQ(welcome->body_as_Welcome()->player_id(), guest_id);
  ASSERT_NE(welcome->body_as_Welcome()->room(), nullptr);
  EXPECT_EQ(welcome->body_as_Welcome()->room()->summary()->room_id(), room);
  EXPECT_EQ(welcome->body_as_Welcome()->room()->members()->size(), 2u);
  token = welcome->body_as_Welcome()->resume_token()->str();

  // Drop and stay away: the seat and the nickname are freed after the grace period.
  back.transport().disconnect(back.transport().server(), net::DisconnectReason::closed);
  const auto left = [&] {
    for (const auto* event : host.events(wire::LobbyBody::Presence)) {
      if (event->body_as_Presence()->kind() == wire::PresenceKind::left) return true;
    }
    return false;
  };
  ASSERT_TRUE(pump_players(players_, left, 3s));
  Player& late = add_player();
  EXPECT_EQ(code(call(late, 1, hello(1, "", token))), wire::ErrorCode::resume_failed);
  EXPECT_TRUE(ok(call(late, 2, hello(2, "guest"))));
}

// The largest room the limits allow (validate() refuses one seat more), filled with players of
// the longest nicknames: every one of them is told it joined, and every chat line reaches all.
TEST_F(LobbyTest, the_largest_room_the_limits_allow_gets_every_reply_and_chat_line_in_order) {
  net::LobbyConfig config = fast_config();
  std::size_t largest = 2;
  for (config.max_players_per_room = 3; config.validate().ok(); ++config.max_players_per_room)
    largest = config.max_players_per_room;
  // It is a real room (the old limit, 282 players in practice, was closed by its own RoomDetail).
  ASSERT_GE(largest, 100u);
  const std::size_t kPlayers = largest;
  constexpr std::size_t kSenders = 20;
  constexpr std::size_t kLinesEach = 5;
  config.websocket.max_connections = kPlayers + 8;
  config.websocket.max_connections_per_address = kPlayers + 8;
  config.websocket.max_pending_handshakes = kPlayers + 8;
  config.max_players_per_room = kPlayers;
  config.max_nicknames_per_address = kPlayers;  // they all come from 127.0.0.1
  config.websocket.connection_burst_per_address = kPlayers + 8;
  start(config);
  for (std::size_t i = 0; i < kPlayers; ++i)
    players_.push_back(std::make_unique<Player>(lobby_->port()));
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        return std::all_of(players_.begin(), players_.end(),
                           [](const auto& p) { return p->connected(); });
      },
      10s));
  const auto nickname = [&](std::size_t i) {
    std::string name = "player" + std::to_string(i);
    name.resize(config.max_nickname_length, 'x');
    return name;
  };
  for (std::size_t i = 0; i < kPlayers; ++i)
    players_[i]->send(hello(1, nickname(i)));
  Player& host = *players_[0];
  ASSERT_TRUE(pump_players(players_, [&] { return host.reply(1) != nullptr; }));
  const auto* created =
      call(host, 2, create_room(2, "crowd", static_cast<std::uint16_t>(kPlayers)));
  ASSERT_TRUE(ok(created));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  for (std::size_t i = 1; i < kPlayers; ++i)
    players_[i]->send(join_room(2, room));
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        return std::all_of(players_.begin(), players_.end(),
                           [](const auto& p) { return p->reply(2) != nullptr; });
      },
      10s));
  for (const auto& player : players_)
    ASSERT_TRUE(ok(player->reply(2)));

  for (std::size_t line = 0; line < kLinesEach; ++line) {
    for (std::size_t sender = 0; sender < kSenders; ++sender) {
      players_[sender * (kPlayers / kSenders)]->send(
          chat(10 + line, "s" + std::to_string(sender) + " l" + std::to_string(line)));
    }
  }
  constexpr std::size_t kLines = kSenders * kLinesEach;
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        return std::all_of(players_.begin(), players_.end(),
                           [](const auto& p) { return p->chat_lines() >= kLines; });
      },
      20s));
  // Everyone saw the same lines in the same order, each sender's in the order sent, none twice.
  std::vector<std::string> reference;
  for (const auto* event : players_[0]->events(wire::LobbyBody::ChatMessage))
    reference.push_back(event->body_as_ChatMessage()->line()->text()->str());
  ASSERT_EQ(reference.size(), kLines);
  for (std::size_t sender = 0; sender < kSenders; ++sender) {
    std::size_t next = 0;
    for (const std::string& text : reference) {
      if (text.rfind("s" + std::to_string(sender) + " ", 0) == 0) {
        EXPECT_EQ(text, "s" + std::to_string(sender) + " l" + std::to_string(next));
        ++next;
      }
    }
    EXPECT_EQ(next, kLinesEach);
  }
  for (const auto& player : players_) {
    std::vector<std::string> seen;
    for (const auto* event : player->events(wire::LobbyBody::ChatMessage))
      seen.push_back(event->body_as_ChatMessage()->line()->text()->str());
    ASSERT_EQ(seen, reference);
  }
  EXPECT_EQ(lobby_->counters().players, kPlayers);
  EXPECT_EQ(lobby_->counters().disconnected_slow, 0u);

  // JSON is the larger form: the last player leaves and joins again speaking it, and gets the
  // full room (the chat history trimmed to what fits) and stays connected.
  Player& last = *players_.back();
  ASSERT_TRUE(ok(call(last, 3, leave_room(3))));
  const std::size_t before = last.log().messages.size();
  last.send_text(R"({"request_id": 4, "body_type": "JoinRoom", "body": {"room_id": )" +
                 std::to_string(room) + "}}");
  const auto json_reply = [&]() -> std::string {
    for (std::size_t i = before; i < last.log().messages.size(); ++i) {
      const auto& bytes = last.log().messages[i].bytes;
      const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (text.find("\"request_id\": 4") != std::string::npos) return text;
    }
    return {};
  };
  ASSERT_TRUE(pump_players(players_, [&] { return !json_reply().empty(); }));
  const std::string detail = json_reply();
  EXPECT_NE(detail.find("\"ok\": true"), std::string::npos) << detail.substr(0, 300);
  EXPECT_NE(detail.find("\"body_type\": \"RoomDetail\""), std::string::npos);
  EXPECT_NE(detail.find(nickname(0)), std::string::npos);
  // The newest line of the history: ids are shorter than the worst case validate() allows for,
  // which leaves room for the last lines.
  EXPECT_NE(detail.find(R"("text": ")" + reference.back() + "\""), std::string::npos);
  EXPECT_TRUE(last.connected());
  EXPECT_EQ(lobby_->counters().replies_too_large, 0u);
}

}  // namespace
}  // namespace tickwire::test
