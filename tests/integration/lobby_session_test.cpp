// The lobby over real WebSocket connections on loopback, as players use it: Hello, rooms, chat,
// presence, ready-up, match start with signed tickets, reconnection, and 200 players in one room.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../support/pump.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/websocket_transport.hpp"
#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
namespace wire = tickwire::schemas::lobby;
using flatbuffers::FlatBufferBuilder;

constexpr net::Channel kBinary = 0;
constexpr net::Channel kText = 1;

// --- requests ------------------------------------------------------------------------------

template <typename Body>
std::vector<std::byte> finish(FlatBufferBuilder& fbb, std::uint64_t id, wire::LobbyBody type,
                              flatbuffers::Offset<Body> body) {
  fbb.Finish(wire::CreateLobbyMessage(fbb, id, 0, type, body.Union()));
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return {data, data + fbb.GetSize()};
}
std::vector<std::byte> hello(std::uint64_t id, std::string_view nickname,
                             std::string_view token = {}) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateHelloDirect(fbb, std::string(nickname).c_str(),
                                            token.empty() ? nullptr : std::string(token).c_str());
  return finish(fbb, id, wire::LobbyBody::Hello, body);
}
std::vector<std::byte> create_room(std::uint64_t id, std::string_view name,
                                   std::uint16_t max_players = 0) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateCreateRoomDirect(fbb, std::string(name).c_str(), "ffa", max_players);
  return finish(fbb, id, wire::LobbyBody::CreateRoom, body);
}
std::vector<std::byte> join_room(std::uint64_t id, std::uint64_t room) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::JoinRoom, wire::CreateJoinRoom(fbb, room));
}
std::vector<std::byte> chat(std::uint64_t id, std::string_view text,
                            wire::ChatScope scope = wire::ChatScope::room,
                            std::string_view to = {}) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateSendChatDirect(fbb, scope, std::string(to).c_str(), std::string(text).c_str());
  return finish(fbb, id, wire::LobbyBody::SendChat, body);
}
std::vector<std::byte> set_ready(std::uint64_t id, bool ready) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::SetReady, wire::CreateSetReady(fbb, ready));
}
std::vector<std::byte> start_match(std::uint64_t id) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::StartMatch, wire::CreateStartMatch(fbb));
}
// `seal_key`: the server's sealing public key as it goes on the wire (any length, to test the
// lobby's check); null = none (a server without encryption).
std::vector<std::byte> register_server(std::uint64_t id, std::string_view address,
                                       std::uint32_t capacity, std::string_view secret,
                                       const std::vector<std::uint8_t>* seal_key) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateRegisterGameServerDirect(
      fbb, std::string(address).c_str(), capacity, std::string(secret).c_str(), seal_key);
  return finish(fbb, id, wire::LobbyBody::RegisterGameServer, body);
}
std::vector<std::uint8_t> key_bytes(const net::ServerSealPublicKey& key) {
  return {key.begin(), key.end()};
}
std::vector<std::byte> report_load(std::uint64_t id, std::uint32_t players) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::ReportLoad, wire::CreateReportLoad(fbb, players));
}
std::vector<std::byte> match_end(std::uint64_t id, std::uint64_t match) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::MatchEnd, wire::CreateMatchEnd(fbb, match, 0));
}
std::vector<std::byte> kick(std::uint64_t id, std::uint64_t player) {
  FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::KickPlayer, wire::CreateKickPlayer(fbb, player));
}

// --- a player ------------------------------------------------------------------------------

class Player {
 public:
  explicit Player(std::uint16_t port) {
    net::WebSocketClientConfig config;
    config.server_port = port;
    config.common.framing = net::WebSocketFraming::raw;
    config.common.shutdown_timeout_ms = 200;
    auto made = net::make_websocket_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    client_ = std::move(made.value());
  }

  void poll() {
    net::Event event;
    while (client_->poll(event)) {
      log_.record(event);
      if (event.type != net::EventType::message || event.channel != kBinary) continue;
      // Verified once, as it arrives; the bytes stay where the log put them.
      const auto& bytes = log_.messages.back().bytes;
      flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                     bytes.size());
      EXPECT_TRUE(wire::VerifyLobbyMessageBuffer(verifier));
      parsed_.push_back(wire::GetLobbyMessage(bytes.data()));
      if (parsed_.back()->body_type() == wire::LobbyBody::ChatMessage) ++chat_lines_;
    }
  }
  std::size_t chat_lines() const { return chat_lines_; }
  bool connected() const { return client_->state() == net::ClientState::connected; }
  bool disconnected() const { return client_->state() == net::ClientState::disconnected; }
  const EventLog& log() const { return log_; }
  net::ClientTransport& transport() { return *client_; }

  void send(const std::vector<std::byte>& message, net::Channel channel = kBinary) {
    EXPECT_EQ(client_->send(channel, net::Delivery::reliable_ordered, message),
              net::SendResult::ok);
  }
  void send_text(std::string_view json) { send(bytes_of(json), kText); }

  // Binary messages received, verified.
  const std::vector<const wire::LobbyMessage*>& messages() const { return parsed_; }
  const wire::LobbyMessage* reply(std::uint64_t id) const {
    for (const auto* message : messages()) {
      if (message->result() != nullptr && message->request_id() == id) return message;
    }
    return nullptr;
  }
  std::vector<const wire::LobbyMessage*> events(wire::LobbyBody type) const {
    std::vector<const wire::LobbyMessage*> out;
    for (const auto* message : messages()) {
      if (message->result() == nullptr && message->body_type() == type) out.push_back(message);
    }
    return out;
  }

 private:
  std::unique_ptr<net::ClientTransport> client_;
  EventLog log_;
  std::vector<const wire::LobbyMessage*> parsed_;
  std::size_t chat_lines_ = 0;
};

using Players = std::vector<std::unique_ptr<Player>>;

bool pump_players(const Players& players, const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = 4s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (const auto& player : players)
      player->poll();
    std::this_thread::sleep_for(200us);
  }
  return true;
}

class LobbyTest : public ::testing::Test {
 protected:
  static net::LobbyConfig fast_config() {
    net::LobbyConfig config;
    config.websocket.port = 0;
    config.websocket.common.handshake_timeout_ms = 1000;
    config.websocket.common.shutdown_timeout_ms = 300;
    config.local_game_server = "127.0.0.1:7777";
    config.local_game_server_seal_key = local_server_keys().public_key;
    return config;
  }
  // The sealing keys of the game server at local_game_server.
  static const net::GameServerSealKeys& local_server_keys() {
    static const net::GameServerSealKeys keys = net::GameServerSealKeys::generate();
    return keys;
  }
  void start(net::LobbyConfig config = fast_config()) {
    lobby_ = std::make_unique<net::LobbyServer>(config, issuer_);
    const Status status = lobby_->start();
    ASSERT_TRUE(status.ok()) << status.message();
  }
  using Status = net::Status;

  Player& add_player() {
    players_.push_back(std::make_unique<Player>(lobby_->port()));
    Player& player = *players_.back();
    EXPECT_TRUE(pump_players(players_, [&] { return player.connected(); }));
    return player;
  }
  // Sends `request` (id `id`) and waits for its reply.
  const wire::LobbyMessage* call(Player& player, std::uint64_t id,
                                 const std::vector<std::byte>& request) {
    player.send(request);
    EXPECT_TRUE(pump_players(players_, [&] { return player.reply(id) != nullptr; }))
        << "no reply to request " << id;
    return player.reply(id);
  }
  static bool ok(const wire::LobbyMessage* reply) {
    return reply != nullptr && reply->result() != nullptr && reply->result()->ok();
  }
  static wire::ErrorCode code(const wire::LobbyMessage* reply) {
    return reply != nullptr && reply->result() != nullptr ? reply->result()->code()
                                                          : wire::ErrorCode::none;
  }
  std::uint64_t hello_ok(Player& player, std::string_view nickname) {
    const auto* reply = call(player, 1, hello(1, nickname));
    EXPECT_TRUE(ok(reply));
    return ok(reply) ? reply->body_as_Welcome()->player_id() : 0;
  }

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

  net::JoinTicketIssuer issuer_ = net::JoinTicketIssuer::generate();
  std::unique_ptr<net::LobbyServer> lobby_;
  Players players_;
};

TEST_F(LobbyTest, players_meet_chat_get_ready_and_each_receives_a_valid_ticket) {
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

TEST_F(LobbyTest, match_goes_to_the_registered_game_server_with_most_free_slots) {
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

TEST_F(LobbyTest, a_server_without_encryption_gets_tickets_without_keys) {
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

TEST_F(LobbyTest, a_seal_key_that_cannot_be_sealed_to_is_refused) {
  start();
  // All zeros is a low-order point: every ticket sealed to it would be unreadable.
  EXPECT_FALSE(lobby_->register_game_server("10.0.0.1:7000", 10, net::ServerSealPublicKey{}).ok());
  EXPECT_EQ(solo_match_server("ann"), "127.0.0.1:7777");

  net::LobbyConfig config = fast_config();
  config.local_game_server_seal_key = net::ServerSealPublicKey{};
  EXPECT_NE(config.validate().message().find("local_game_server_seal_key"), std::string::npos);
}

TEST_F(LobbyTest, a_dedicated_server_registers_over_the_wire_and_leaves_with_its_connection) {
  net::LobbyConfig config = fast_config();
  config.game_server_secret = "let-me-in";
  start(config);
  const auto keys = net::GameServerSealKeys::generate();
  const std::vector<std::uint8_t> seal_key = key_bytes(keys.public_key);
  // A wrong secret is refused and costs the connection.
  Player& impostor = add_player();
  EXPECT_EQ(code(call(impostor, 1, register_server(1, "10.9.9.9:7000", 64, "guess", &seal_key))),
            wire::ErrorCode::registration_refused);
  ASSERT_TRUE(pump_players(players_, [&] { return impostor.disconnected(); }));
  EXPECT_EQ(lobby_->counters().registrations_refused, 1u);

  // A seal key cut short, too long, or one nothing can be sealed to: refused, nothing registered,
  // and the connection may try again.
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
    const auto* reply =
        call(server, id, register_server(id, "10.0.0.5:7000", 16, "let-me-in", bad));
    EXPECT_EQ(code(reply), wire::ErrorCode::bad_request) << bad->size() << "-byte key";
    ++id;
  }
  EXPECT_EQ(solo_match_server("cat"), "127.0.0.1:7777");

  ASSERT_TRUE(
      ok(call(server, id, register_server(id, "10.0.0.5:7000", 16, "let-me-in", &seal_key))));
  ++id;
  ASSERT_TRUE(ok(call(server, id, report_load(id, 3))));
  const wire::MatchStart* start = solo_match("ann");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->server_address()->str(), "10.0.0.5:7000");
  // The ticket's keys are sealed to the key the server registered with.
  net::JoinTicketVerifier verifier(issuer_.public_key(), "10.0.0.5:7000", keys);
  const net::TicketCheck check = verifier.verify(ticket_of(*start), net::unix_time_ms());
  ASSERT_TRUE(check.ok) << net::to_string(check.error);
  ASSERT_TRUE(check.keys.has_value());
  EXPECT_EQ(check.keys, keys_of(*start));

  // The server goes away: the next match goes to the lobby's own server again.
  server.transport().disconnect(server.transport().server(), net::DisconnectReason::closed);
  ASSERT_TRUE(pump_players(players_, [&] { return server.disconnected(); }));
  EXPECT_EQ(solo_match_server("bob"), "127.0.0.1:7777");
}

TEST_F(LobbyTest, a_registered_server_reports_a_match_over_and_the_room_can_play_again) {
  net::LobbyConfig config = fast_config();
  config.game_server_secret = "let-me-in";
  start(config);
  Player& server = add_player();
  const std::vector<std::uint8_t> seal_key =
      key_bytes(net::GameServerSealKeys::generate().public_key);
  ASSERT_TRUE(ok(call(server, 1, register_server(1, "10.0.0.5:7000", 16, "let-me-in", &seal_key))));
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
  EXPECT_EQ(code(call(server, 2, match_end(2, match + 1000))), wire::ErrorCode::bad_request);
  // The game server ends it: the members hear so, and the room plays again once all are ready.
  ASSERT_TRUE(ok(call(server, 3, match_end(3, match))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return !ann.events(wire::LobbyBody::MatchEnd).empty(); }));
  EXPECT_EQ(ann.events(wire::LobbyBody::MatchEnd)[0]->body_as_MatchEnd()->match_id(), match);
  EXPECT_EQ(code(call(ann, 7, start_match(7))), wire::ErrorCode::not_all_ready);
  ASSERT_TRUE(ok(call(ann, 8, set_ready(8, true))));
  ASSERT_TRUE(ok(call(ann, 9, start_match(9))));
  ASSERT_TRUE(
      pump_players(players_, [&] { return ann.events(wire::LobbyBody::MatchStart).size() == 2; }));
}

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
  EXPECT_EQ(message.channel, kText);
  const std::string text(reinterpret_cast<const char*>(message.bytes.data()), message.bytes.size());
  EXPECT_NE(text.find("\"request_id\": 7"), std::string::npos) << text;
  EXPECT_NE(text.find("\"ok\": true"), std::string::npos) << text;
  EXPECT_NE(text.find("\"nickname\": \"jsonfan\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"body_type\": \"Welcome\""), std::string::npos) << text;
}

TEST_F(LobbyTest, a_json_client_gets_its_session_keys_as_64_numbers) {
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
  for (const char* body :
       {R"("body_type": "Hello", "body": {"nickname": "jsonfan"})",
        R"("body_type": "CreateRoom", "body": {"name": "web"})",
        R"("body_type": "SetReady", "body": {"ready": true})", R"("body_type": "StartMatch")"}) {
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

  FlatBufferBuilder fbb;
  ASSERT_TRUE(
      ok(call(ann, 5, finish(fbb, 5, wire::LobbyBody::LeaveRoom, wire::CreateLeaveRoom(fbb)))));
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
    (void)flooder.transport().send(kBinary, net::Delivery::reliable_ordered,
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

TEST_F(LobbyTest, two_hundred_players_in_one_room_receive_every_chat_line_in_the_same_order) {
  constexpr std::size_t kPlayers = 200;
  constexpr std::size_t kSenders = 20;
  constexpr std::size_t kLinesEach = 5;
  net::LobbyConfig config = fast_config();
  config.websocket.max_connections = kPlayers + 8;
  config.websocket.max_connections_per_address = kPlayers + 8;
  config.websocket.max_pending_handshakes = kPlayers + 8;
  config.max_players_per_room = kPlayers;
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
  for (std::size_t i = 0; i < kPlayers; ++i)
    players_[i]->send(hello(1, "player" + std::to_string(i)));
  Player& host = *players_[0];
  ASSERT_TRUE(pump_players(players_, [&] { return host.reply(1) != nullptr; }));
  const auto* created = call(host, 2, create_room(2, "crowd", kPlayers));
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
}

}  // namespace
}  // namespace tickwire::test
