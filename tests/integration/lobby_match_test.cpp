// The lobby's match start over real WebSocket connections on loopback: signed tickets and the
// session keys each player gets with theirs, sealed to the game server the match goes to, and
// dedicated game servers registering (with their seal key), reporting load and ending matches.

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "lobby_fixture.hpp"

namespace tickwire::test {
namespace {

using flatbuffers::FlatBufferBuilder;

std::vector<std::uint8_t> key_bytes(const net::ServerSealPublicKey& key) {
  return {key.begin(), key.end()};
}
std::vector<std::byte> report_load(std::uint64_t id, std::uint32_t players) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::ReportLoad, wire::CreateReportLoad(fbb, players));
}
std::vector<std::byte> spectate_match(std::uint64_t id, std::uint64_t room) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::SpectateMatch, wire::CreateSpectateMatch(fbb, room));
}
std::vector<std::byte> match_end(std::uint64_t id, std::uint64_t match) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::MatchEnd, wire::CreateMatchEnd(fbb, match, 0));
}

class LobbyMatchTest : public LobbyTest {
 protected:
  // A new player alone in a new room starts a match; returns its MatchStart (null if none came).
  const wire::MatchStart* solo_match(std::string_view nickname) {
    Player& player = add_player();
    hello_ok(player, nickname);
    EXPECT_TRUE(ok(call(player, 2, create_room(2, "solo"))));
    EXPECT_TRUE(ok(call(player, 3, set_ready(3, true))));
    EXPECT_TRUE(ok(call(player, 4, start_match(4))));
    const bool started =
        pump_players(players_, [&] { return !player.events(wire::LobbyBody::MatchStart).empty(); });
    EXPECT_TRUE(started);
    if (!started) return nullptr;
    return player.events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart();
  }
  // The game server a solo match was sent to.
  std::string solo_match_server(std::string_view nickname) {
    const wire::MatchStart* start = solo_match(nickname);
    return start != nullptr ? start->server_address()->str() : std::string{};
  }
  // The ticket as a verifier takes it.
  static std::span<const std::byte> ticket_of(const wire::MatchStart& start) {
    return {reinterpret_cast<const std::byte*>(start.ticket()->data()), start.ticket()->size()};
  }
  // The session keys a MatchStart carries (client_to_server, then server_to_client).
  static std::optional<net::SessionKeys> keys_of(const wire::MatchStart& start) {
    const auto* bytes = start.session_keys();
    if (bytes == nullptr || bytes->size() != 64) return std::nullopt;
    net::SessionKeys keys;
    std::copy(bytes->begin(), bytes->begin() + 32, keys.client_to_server.begin());
    std::copy(bytes->begin() + 32, bytes->end(), keys.server_to_client.begin());
    return keys;
  }
};

TEST_F(LobbyMatchTest, players_meet_chat_get_ready_and_each_receives_a_valid_ticket) {
  start();
  Player& ann = add_player();
  Player& bob = add_player();
  const std::uint64_t ann_id = hello_ok(ann, "ann");
  const std::uint64_t bob_id = hello_ok(bob, "bob");

  const auto* created = call(ann, 2, create_room(2, "ann's room", 4));
  ASSERT_TRUE(ok(created));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  const auto* joined = call(bob, 2, join_room(2, room));
  ASSERT_TRUE(ok(joined));
  ASSERT_EQ(joined->body_as_RoomDetail()->members()->size(), 2u);
  EXPECT_EQ(joined->body_as_RoomDetail()->host_player_id(), ann_id);
  ASSERT_TRUE(
      pump_players(players_, [&] { return !ann.events(wire::LobbyBody::Presence).empty(); }));
  const auto* presence = ann.events(wire::LobbyBody::Presence)[0]->body_as_Presence();
  EXPECT_EQ(presence->kind(), wire::PresenceKind::joined);
  EXPECT_EQ(presence->member()->player_id(), bob_id);

  ASSERT_TRUE(ok(call(bob, 3, chat(3, "hi ann"))));
  ASSERT_TRUE(pump_players(players_, [&] {
    return ann.events(wire::LobbyBody::ChatMessage).size() == 1 &&
           bob.events(wire::LobbyBody::ChatMessage).size() == 1;
  }));
  const auto* line = ann.events(wire::LobbyBody::ChatMessage)[0]->body_as_ChatMessage()->line();
  EXPECT_EQ(line->text()->str(), "hi ann");
  EXPECT_EQ(line->from_nickname()->str(), "bob");

  EXPECT_EQ(code(call(ann, 4, start_match(4))), wire::ErrorCode::not_all_ready);
  EXPECT_EQ(code(call(bob, 5, start_match(5))), wire::ErrorCode::not_host);
  ASSERT_TRUE(ok(call(ann, 6, set_ready(6, true))));
  ASSERT_TRUE(ok(call(bob, 7, set_ready(7, true))));
  ASSERT_TRUE(ok(call(ann, 8, start_match(8))));
  ASSERT_TRUE(pump_players(players_, [&] {
    return !ann.events(wire::LobbyBody::MatchStart).empty() &&
           !bob.events(wire::LobbyBody::MatchStart).empty();
  }));
  // The game server opens each ticket with its own sealing keys and finds in it the same session
  // keys the lobby handed that player; each player has their own, and sees nobody else's.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7777", local_server_keys());
  std::vector<net::SessionKeys> handed_out;
  for (auto [player, id] : {std::pair{&ann, ann_id}, std::pair{&bob, bob_id}}) {
    ASSERT_EQ(player->events(wire::LobbyBody::MatchStart).size(), 1u);
    const auto* start = player->events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart();
    EXPECT_EQ(start->server_address()->str(), "127.0.0.1:7777");
    ASSERT_NE(start->session_keys(), nullptr);
    ASSERT_EQ(start->session_keys()->size(), 64u);
    const net::TicketCheck check = verifier.verify(ticket_of(*start), net::unix_time_ms());
    ASSERT_TRUE(check.ok) << net::to_string(check.error);
    EXPECT_EQ(check.ticket.player_id, id);
    EXPECT_EQ(check.ticket.match_id, start->match_id());
    ASSERT_TRUE(check.keys.has_value());
    EXPECT_EQ(check.keys, keys_of(*start));
    handed_out.push_back(*keys_of(*start));
  }
  EXPECT_NE(handed_out[0].client_to_server, handed_out[1].client_to_server);
  EXPECT_NE(handed_out[0].server_to_client, handed_out[1].server_to_client);
  EXPECT_NE(handed_out[0].client_to_server, handed_out[0].server_to_client);
  EXPECT_EQ(lobby_->counters().matches_started, 1u);
}

TEST_F(LobbyMatchTest, match_goes_to_the_registered_game_server_with_most_free_slots) {
  start();
  const auto first = net::GameServerSealKeys::generate();
  const auto second = net::GameServerSealKeys::generate();
  ASSERT_TRUE(lobby_->register_game_server("10.0.0.1:7000", 10, first.public_key).ok());
  ASSERT_TRUE(lobby_->register_game_server("10.0.0.2:7000", 10, second.public_key).ok());
  lobby_->report_game_server_load("10.0.0.1:7000", 8);
  const wire::MatchStart* start = solo_match("ann");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->server_address()->str(), "10.0.0.2:7000");
  // Its keys are sealed to the server the match went to, and to no other.
  net::JoinTicketVerifier chosen(issuer_.public_key(), "10.0.0.2:7000", second);
  const net::TicketCheck check = chosen.verify(ticket_of(*start), net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  EXPECT_EQ(check.keys, keys_of(*start));
  net::JoinTicketVerifier other(issuer_.public_key(), "10.0.0.2:7000", first);
  EXPECT_EQ(other.verify(ticket_of(*start), net::unix_time_ms()).error, net::TicketError::no_keys);
}

TEST_F(LobbyMatchTest, a_server_without_encryption_gets_tickets_without_keys) {
  net::LobbyConfig config = fast_config();
  config.local_game_server_seal_key.reset();
  start(config);
  const wire::MatchStart* start = solo_match("ann");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->session_keys(), nullptr);
  net::JoinTicketVerifier plaintext(issuer_.public_key(), "127.0.0.1:7777");
  const net::TicketCheck check = plaintext.verify(ticket_of(*start), net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  EXPECT_FALSE(check.keys.has_value());
}

TEST_F(LobbyMatchTest, a_seal_key_that_cannot_be_sealed_to_is_refused) {
  start();
  // All zeros is a low-order point: every ticket sealed to it would be unreadable.
  EXPECT_FALSE(lobby_->register_game_server("10.0.0.1:7000", 10, net::ServerSealPublicKey{}).ok());
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7777");

  net::LobbyConfig config = fast_config();
  config.local_game_server_seal_key = net::ServerSealPublicKey{};
  EXPECT_NE(config.validate().message().find("local_game_server_seal_key"), std::string::npos);
}

TEST_F(LobbyMatchTest, a_dedicated_server_registers_over_the_wire_and_leaves_with_its_connection) {
  const auto identity = net::ServerIdentity::generate();
  start(config_allowing({identity.public_key}));
  const auto keys = net::GameServerSealKeys::generate();
  const std::vector<std::uint8_t> seal_key = key_bytes(keys.public_key);

  // A seal key cut short, too long, or one nothing can be sealed to: refused, nothing registered,
  // and the connection may try again (with a new challenge).
  Player& server = add_player();
  const std::vector<std::uint8_t> short_key(seal_key.begin(), seal_key.end() - 1);
  const std::vector<std::uint8_t> long_key = [&] {
    std::vector<std::uint8_t> key = seal_key;
    key.push_back(0);
    return key;
  }();
  const std::vector<std::uint8_t> zero_key(32, 0);
  const std::vector<std::uint8_t> empty_key;
  std::uint64_t id = 1;
  for (const auto* bad : {&short_key, &long_key, &zero_key, &empty_key}) {
    const auto* reply = register_as(server, id, {"127.0.0.1:7000", 16, bad}, identity);
    EXPECT_EQ(code(reply), wire::ErrorCode::bad_request) << bad->size() << "-byte key";
    id += 2;
  }
  EXPECT_EQ(solo_match_server("cat"), "127.0.0.1:7777");

  ASSERT_TRUE(ok(register_as(server, id, {"127.0.0.1:7000", 16, &seal_key}, identity)));
  id += 2;
  ASSERT_TRUE(ok(call(server, id, report_load(id, 3))));
  const wire::MatchStart* start = solo_match("ann");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->server_address()->str(), "127.0.0.1:7000");
  // The ticket's keys are sealed to the key the server registered with.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7000", keys);
  const net::TicketCheck check = verifier.verify(ticket_of(*start), net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  ASSERT_TRUE(check.keys.has_value());
  EXPECT_EQ(check.keys, keys_of(*start));

  // The server goes away: the next match goes to the lobby's own server again.
  server.transport().disconnect(server.transport().server(), net::DisconnectReason::closed);
  ASSERT_TRUE(pump_players(players_, [&] { return server.disconnected(); }));
  EXPECT_EQ(solo_match_server("bob"), "127.0.0.1:7777");
}

TEST_F(LobbyMatchTest, a_registered_server_reports_a_match_over_and_the_room_can_play_again) {
  const auto identity = net::ServerIdentity::generate();
  start(config_allowing({identity.public_key}));
  Player& server = add_player();
  const std::vector<std::uint8_t> seal_key =
      key_bytes(net::GameServerSealKeys::generate().public_key);
  ASSERT_TRUE(ok(register_as(server, 1, {"127.0.0.1:7000", 16, &seal_key}, identity)));
  Player& ann = add_player();
  hello_ok(ann, "ann");
  ASSERT_TRUE(ok(call(ann, 2, create_room(2, "again"))));
  ASSERT_TRUE(ok(call(ann, 3, set_ready(3, true))));
  ASSERT_TRUE(ok(call(ann, 4, start_match(4))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return !ann.events(wire::LobbyBody::MatchStart).empty(); }));
  const std::uint64_t match =
      ann.events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart()->match_id();
  // While it plays, the room cannot start another.
  EXPECT_EQ(code(call(ann, 5, start_match(5))), wire::ErrorCode::match_in_progress);
  // A player cannot end it; a match nobody plays cannot be ended.
  EXPECT_EQ(code(call(ann, 6, match_end(6, match))), wire::ErrorCode::bad_request);
  EXPECT_EQ(code(call(server, 3, match_end(3, match + 1000))), wire::ErrorCode::bad_request);
  // The game server ends it: the members hear so, and the room plays again once all are ready.
  ASSERT_TRUE(ok(call(server, 4, match_end(4, match))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return !ann.events(wire::LobbyBody::MatchEnd).empty(); }));
  EXPECT_EQ(ann.events(wire::LobbyBody::MatchEnd)[0]->body_as_MatchEnd()->match_id(), match);
  EXPECT_EQ(code(call(ann, 7, start_match(7))), wire::ErrorCode::not_all_ready);
  ASSERT_TRUE(ok(call(ann, 8, set_ready(8, true))));
  ASSERT_TRUE(ok(call(ann, 9, start_match(9))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return ann.events(wire::LobbyBody::MatchStart).size() == 2; }));
}

TEST_F(LobbyMatchTest, a_json_client_gets_its_session_keys_as_64_numbers) {
  start();
  Player& ann = add_player();
  // The first text message that holds `needle`, once one arrived.
  const auto received = [&](std::string_view needle) -> std::optional<std::string> {
    for (const auto& message : ann.log().messages) {
      std::string text(reinterpret_cast<const char*>(message.bytes.data()), message.bytes.size());
      if (text.find(needle) != std::string::npos) return text;
    }
    return std::nullopt;
  };
  int id = 0;
  for (const char* body : {R"("body_type": "Hello", "body": {"nickname": "jsonfan"})",
                           R"("body_type": "CreateRoom", "body": {"name": "web"})",
                           R"("body_type": "SetReady", "body": {"ready": true})",
                           R"("body_type": "StartMatch", "body": {})"}) {
    ++id;
    ann.send_text("{\"request_id\": " + std::to_string(id) + ", " + body + "}");
    const std::string reply = "\"request_id\": " + std::to_string(id) + ",";
    ASSERT_TRUE(pump_players(players_, [&] { return received(reply).has_value(); })) << body;
    EXPECT_NE(received(reply)->find("\"ok\": true"), std::string::npos) << *received(reply);
  }
  ASSERT_TRUE(pump_players(players_, [&] { return received("\"MatchStart\"").has_value(); }));
  const std::string start = *received("\"MatchStart\"");
  const std::size_t keys = start.find("\"session_keys\": [");
  ASSERT_NE(keys, std::string::npos) << start;
  const std::size_t end = start.find(']', keys);
  ASSERT_NE(end, std::string::npos) << start;
  const std::string list = start.substr(keys, end - keys);
  EXPECT_EQ(std::count(list.begin(), list.end(), ','), 63) << list;
}

TEST_F(LobbyMatchTest, a_spectator_gets_a_spectator_ticket_for_a_running_match_and_no_seat) {
  start();
  Player& ann = add_player();
  Player& carol = add_player();
  hello_ok(ann, "ann");
  const std::uint64_t carol_id = hello_ok(carol, "carol");
  const auto* created = call(ann, 2, create_room(2, "ann's room", 4));
  ASSERT_TRUE(ok(created));
  const std::uint64_t room = created->body_as_RoomDetail()->summary()->room_id();
  // Nothing to watch yet, and no such room.
  EXPECT_EQ(code(call(carol, 2, spectate_match(2, room))), wire::ErrorCode::no_match);
  EXPECT_EQ(code(call(carol, 3, spectate_match(3, room + 1000))), wire::ErrorCode::room_not_found);

  ASSERT_TRUE(ok(call(ann, 3, set_ready(3, true))));
  ASSERT_TRUE(ok(call(ann, 4, start_match(4))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return !ann.events(wire::LobbyBody::MatchStart).empty(); }));
  const auto* played = ann.events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart();
  EXPECT_FALSE(played->spectator());
  // A member plays the match rather than watch it.
  EXPECT_EQ(code(call(ann, 5, spectate_match(5, room))), wire::ErrorCode::bad_request);

  // Not before a player has reached the game server: the match is not there to watch yet.
  EXPECT_EQ(code(call(carol, 4, spectate_match(4, room))), wire::ErrorCode::no_match);
  lobby_->match_began(played->match_id());
  // The game server's report reaches the lobby's thread on its next turn: ask until it has.
  std::uint64_t request = 10;
  bool granted = false;
  for (int attempt = 0; attempt < 50 && !granted; ++attempt, ++request) {
    const auto* reply = call(carol, request, spectate_match(request, room));
    granted = ok(reply);
    if (!granted) {
      ASSERT_EQ(code(reply), wire::ErrorCode::no_match);
      // Well within the lobby's 20 requests a second.
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
    }
  }
  ASSERT_TRUE(granted);
  ASSERT_TRUE(
      pump_players(players_, [&] { return !carol.events(wire::LobbyBody::MatchStart).empty(); }));
  const auto* watched = carol.events(wire::LobbyBody::MatchStart)[0]->body_as_MatchStart();
  EXPECT_TRUE(watched->spectator());
  EXPECT_EQ(watched->match_id(), played->match_id());
  EXPECT_EQ(watched->server_address()->str(), "127.0.0.1:7777");
  net::JoinTicketVerifier verifier(issuer_.public_key(), "127.0.0.1:7777", local_server_keys());
  const net::TicketCheck spectator = verifier.verify(ticket_of(*watched), net::unix_time_ms());
  ASSERT_TRUE(spectator.ok) << net::to_string(spectator.error);
  EXPECT_EQ(spectator.ticket.role, net::TicketRole::spectator);
  EXPECT_EQ(spectator.ticket.player_id, carol_id);
  EXPECT_EQ(spectator.keys, keys_of(*watched));
  const net::TicketCheck player = verifier.verify(ticket_of(*played), net::unix_time_ms());
  ASSERT_TRUE(player.ok) << net::to_string(player.error);
  EXPECT_EQ(player.ticket.role, net::TicketRole::player);
  // Watching takes no seat: the room still has its one member, and carol is in no room.
  FlatBufferBuilder fbb;
  const auto* listed =
      call(carol, 500, finish(fbb, 500, wire::LobbyBody::ListRooms, wire::CreateListRooms(fbb)));
  ASSERT_TRUE(ok(listed));
  ASSERT_EQ(listed->body_as_RoomList()->rooms()->size(), 1u);
  EXPECT_EQ(listed->body_as_RoomList()->rooms()->Get(0)->players(), 1u);
  EXPECT_EQ(code(call(carol, 501, chat(501, "hi"))), wire::ErrorCode::not_in_room);
  EXPECT_EQ(lobby_->counters().spectator_tickets, 1u);
  EXPECT_EQ(lobby_->counters().matches_started, 1u);
}

}  // namespace
}  // namespace tickwire::test
