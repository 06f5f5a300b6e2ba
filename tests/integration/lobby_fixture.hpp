#pragma once
// The lobby over real WebSocket connections on loopback, as the tests of lobby_session_test.cpp and
// lobby_match_test.cpp drive it: lobby.fbs requests built by hand, a player that verifies and
// keeps every message it receives, and a fixture that starts a lobby and makes players.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/pump.hpp"
#include "lobby/registration_statement.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/websocket_transport.hpp"
#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::test {

namespace wire = tickwire::schemas::lobby;

inline constexpr net::Channel kBinaryChannel = 0;
inline constexpr net::Channel kTextChannel = 1;

// --- requests ------------------------------------------------------------------------------

template <typename Body>
std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t id,
                              wire::LobbyBody type, flatbuffers::Offset<Body> body) {
  fbb.Finish(wire::CreateLobbyMessage(fbb, id, 0, type, body.Union()));
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return {data, data + fbb.GetSize()};
}
inline std::vector<std::byte> hello(std::uint64_t id, std::string_view nickname,
                                    std::string_view token = {}) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateHelloDirect(fbb, std::string(nickname).c_str(),
                                            token.empty() ? nullptr : std::string(token).c_str());
  return finish(fbb, id, wire::LobbyBody::Hello, body);
}
inline std::vector<std::byte> create_room(std::uint64_t id, std::string_view name,
                                          std::uint16_t max_players = 0) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body =
      wire::CreateCreateRoomDirect(fbb, std::string(name).c_str(), "ffa", max_players);
  return finish(fbb, id, wire::LobbyBody::CreateRoom, body);
}
inline std::vector<std::byte> join_room(std::uint64_t id, std::uint64_t room) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::JoinRoom, wire::CreateJoinRoom(fbb, room));
}
inline std::vector<std::byte> leave_room(std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::LeaveRoom, wire::CreateLeaveRoom(fbb));
}
inline std::vector<std::byte> chat(std::uint64_t id, std::string_view text,
                                   wire::ChatScope scope = wire::ChatScope::room,
                                   std::string_view to = {}) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body =
      wire::CreateSendChatDirect(fbb, scope, std::string(to).c_str(), std::string(text).c_str());
  return finish(fbb, id, wire::LobbyBody::SendChat, body);
}
inline std::vector<std::byte> set_ready(std::uint64_t id, bool ready) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::SetReady, wire::CreateSetReady(fbb, ready));
}
inline std::vector<std::byte> start_match(std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::StartMatch, wire::CreateStartMatch(fbb));
}
inline std::vector<std::byte> kick(std::uint64_t id, std::uint64_t player) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::KickPlayer, wire::CreateKickPlayer(fbb, player));
}

// A dedicated game server's registration: the challenge request, and the RegisterGameServer that
// answers `challenge` (signed by `identity` for the lobby whose ticket key is `lobby_key`).
inline std::vector<std::byte> get_challenge(std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::GetRegistrationChallenge,
                wire::CreateGetRegistrationChallenge(fbb));
}
struct ServerClaim {
  std::string address;
  std::uint32_t capacity = 16;
  // As it goes on the wire (any length, to test the lobby's check); null = none.
  const std::vector<std::uint8_t>* seal_key = nullptr;
};
inline std::vector<std::byte> register_server(
    std::uint64_t id, const ServerClaim& claim, const net::ServerIdentity& identity,
    const net::lobby_detail::RegistrationChallenge& challenge,
    const net::TicketPublicKey& lobby_key) {
  std::optional<net::ServerSealPublicKey> seal;
  if (claim.seal_key != nullptr && claim.seal_key->size() == 32) {
    seal.emplace();
    std::copy(claim.seal_key->begin(), claim.seal_key->end(), seal->begin());
  }
  const auto signature = net::lobby_detail::sign_registration(
      identity, lobby_key, challenge, {claim.address, claim.capacity, seal});
  const std::vector<std::uint8_t> public_key(identity.public_key.begin(),
                                             identity.public_key.end());
  const std::vector<std::uint8_t> signed_bytes(signature.begin(), signature.end());
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateRegisterGameServerDirect(
      fbb, claim.address.c_str(), claim.capacity, claim.seal_key, &public_key, &signed_bytes);
  return finish(fbb, id, wire::LobbyBody::RegisterGameServer, body);
}

// --- a player ------------------------------------------------------------------------------

class Player {
 public:
  explicit Player(std::uint16_t port) {
    net::WebSocketClientConfig config;
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
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
      if (event.type != net::EventType::message || event.channel != kBinaryChannel) continue;
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

  void send(const std::vector<std::byte>& message, net::Channel channel = kBinaryChannel) {
    EXPECT_EQ(client_->send(channel, net::Delivery::reliable_ordered, message),
              net::SendResult::ok);
  }
  void send_text(std::string_view json) { send(bytes_of(json), kTextChannel); }

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

inline bool pump_players(const Players& players, const std::function<bool()>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(4)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (const auto& player : players)
      player->poll();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

class LobbyTest : public ::testing::Test {
 protected:
  static net::LobbyConfig fast_config() {
    net::LobbyConfig config;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
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
  // Asks for a registration challenge (request `id`); nullopt when the lobby gave none.
  std::optional<net::lobby_detail::RegistrationChallenge> challenge_for(Player& server,
                                                                        std::uint64_t id) {
    const auto* reply = call(server, id, get_challenge(id));
    if (!ok(reply) || reply->body_as_RegistrationChallenge() == nullptr) return std::nullopt;
    const auto* bytes = reply->body_as_RegistrationChallenge()->challenge();
    net::lobby_detail::RegistrationChallenge challenge{};
    if (bytes == nullptr || bytes->size() != challenge.size()) return std::nullopt;
    std::copy(bytes->begin(), bytes->end(), challenge.begin());
    return challenge;
  }
  // A challenge (request `id`) answered with `claim` signed by `identity` (request `id` + 1):
  // the registration's reply.
  const wire::LobbyMessage* register_as(Player& server, std::uint64_t id, const ServerClaim& claim,
                                        const net::ServerIdentity& identity) {
    const auto challenge = challenge_for(server, id);
    EXPECT_TRUE(challenge.has_value()) << "no challenge";
    if (!challenge) return nullptr;
    return call(server, id + 1,
                register_server(id + 1, claim, identity, *challenge, issuer_.public_key()));
  }
  // fast_config() with `keys` allowed to register.
  static net::LobbyConfig config_allowing(std::vector<net::ServerPublicKey> keys) {
    net::LobbyConfig config = fast_config();
    config.game_server_keys = std::move(keys);
    return config;
  }

  std::uint64_t hello_ok(Player& player, std::string_view nickname) {
    const auto* reply = call(player, 1, hello(1, nickname));
    EXPECT_TRUE(ok(reply));
    return ok(reply) ? reply->body_as_Welcome()->player_id() : 0;
  }

  net::JoinTicketIssuer issuer_ = net::JoinTicketIssuer::generate();
  std::unique_ptr<net::LobbyServer> lobby_;
  Players players_;
};

}  // namespace tickwire::test
