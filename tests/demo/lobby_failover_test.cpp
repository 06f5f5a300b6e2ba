// Two `tickwire-server --role lobby --redis` processes on a real redis-server, a room of players
// on both chatting, and one lobby process killed with SIGKILL mid-chat. Its players resume on the
// other process, each trying the next lobby address it knows (LobbyClients here, and a
// `tickwire-bot --lobby A,B` process that does it by itself): same player, nickname, room, seat
// and ready state, and every chat line its sender had seen echoed before the kill is in what they
// see after, in order, once. Meanwhile nobody takes their nickname or their seats, the surviving
// process shows those not back yet as disconnected, and the player who was on it chats on
// throughout. Labels integration and soak.
//
// The lobbies run with short leases (--nickname-lease-ms 1500, --resume-grace-ms 10000), so that
// the test waits past the lease of the killed process's renewals: the nickname check below would
// pass with the lease alone otherwise.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/free_port.hpp"
#include "../support/redis_server.hpp"
#include "../support/temp_directory.hpp"
#include "tickwire/net/lobby_client.hpp"

#if !defined(TICKWIRE_SERVER_BINARY) || !defined(TICKWIRE_BOT_BINARY)
#error "TICKWIRE_SERVER_BINARY and TICKWIRE_BOT_BINARY must name tickwire-server and tickwire-bot"
#endif

namespace tickwire::test {
namespace {

namespace net = tickwire::net;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kLeaseMs = 1500;
constexpr std::uint32_t kGraceMs = 10'000;

// A child process (a lobby, a bot), its output in `directory`/NAME.log, and the port it serves
// on (a lobby's).
class TestProcess {
 public:
  TestProcess(const std::string& directory, const std::string& name, std::vector<std::string> args,
              std::uint16_t port = 0)
      : process_(std::move(args), directory + "/" + name + ".log"), port_(port) {}
  // A `tickwire-server --role lobby` on a free port, its state in the Redis at `redis_port`.
  static std::unique_ptr<TestProcess> lobby(const std::string& directory, const std::string& name,
                                            std::uint16_t redis_port) {
    const std::uint16_t port = free_tcp_port();
    // --state-workers: fewer than the default 4, as failover must hold with a small pool too.
    return std::make_unique<TestProcess>(
        directory, name,
        std::vector<std::string>{TICKWIRE_SERVER_BINARY,
                                 "--role",
                                 "lobby",
                                 "--bind",
                                 "127.0.0.1",
                                 "--lobby-port",
                                 std::to_string(port),
                                 "--key-file",
                                 directory + "/ticket.key",
                                 "--game-server-keys",
                                 directory + "/game-servers.keys",
                                 "--redis",
                                 "127.0.0.1:" + std::to_string(redis_port),
                                 "--no-replays",
                                 "--status-interval",
                                 "0",
                                 "--duration",
                                 "120",
                                 "--nickname-lease-ms",
                                 std::to_string(kLeaseMs),
                                 "--resume-grace-ms",
                                 std::to_string(kGraceMs),
                                 "--state-workers",
                                 "2"},
        port);
  }

  // Waits (generously: a loaded machine under sanitizers) until it accepts connections.
  bool wait_ready() {
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (!process_.running()) return false;
      RawTcpClient probe(port_);
      if (probe.connected()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void kill() { process_.kill(); }
  std::uint16_t port() const { return port_; }
  std::string output() const { return process_.output(); }

 private:
  ChildProcess process_;
  std::uint16_t port_ = 0;
};

// A player: a lobby connection and everything it reported.
struct Player {
  std::string nickname;
  std::unique_ptr<net::LobbyClient> lobby;
  std::vector<net::LobbyEvent> events;
  bool disconnected = false;

  void connect(std::uint16_t port) {
    net::LobbyClientConfig config;
    config.websocket.server_host = "127.0.0.1";
    config.websocket.server_port = port;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    auto made = net::LobbyClient::connect(config);
    ASSERT_TRUE(made.ok()) << made.error();
    lobby = std::move(made.value());
    events.clear();
    disconnected = false;
  }
  void poll() {
    if (!lobby) return;
    net::LobbyEvent event;
    while (lobby->poll(event)) {
      if (event.type == net::LobbyEventType::disconnected) disconnected = true;
      events.push_back(std::move(event));
    }
  }
  const net::LobbyEvent* reply(std::uint64_t request) const {
    for (const net::LobbyEvent& event : events) {
      if (event.type == net::LobbyEventType::reply && event.request_id == request) return &event;
    }
    return nullptr;
  }
  bool has(net::LobbyEventType type) const {
    return std::any_of(events.begin(), events.end(),
                       [&](const net::LobbyEvent& event) { return event.type == type; });
  }
  // The texts of the chat lines this connection shows, in order.
  std::vector<std::string> chat() const {
    std::vector<std::string> texts;
    if (!lobby) return texts;
    for (const net::LobbyChatLine& line : lobby->chat_log())
      texts.push_back(line.text);
    return texts;
  }
  bool shows(const std::string& text) const {
    const std::vector<std::string> texts = chat();
    return std::find(texts.begin(), texts.end(), text) != texts.end();
  }
};

class LobbyFailoverTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::start(error);
    if (!redis_) GTEST_SKIP() << error;
    directory_.emplace("tickwire-failover");
    const std::string directory = directory_->string();
    // No game server registers (no match is played here), but a lobby needs to know where its
    // matches would go: to game servers holding one of no keys.
    std::ofstream(directory + "/game-servers.keys").flush();
    // One after the other: the first writes the ticket key both sign with.
    node_a_ = TestProcess::lobby(directory, "lobby-a", redis_->port());
    ASSERT_TRUE(node_a_->wait_ready()) << node_a_->output();
    node_b_ = TestProcess::lobby(directory, "lobby-b", redis_->port());
    ASSERT_TRUE(node_b_->wait_ready()) << node_b_->output();
  }
  void TearDown() override {
    players_.clear();
    bot_.reset();
    node_a_.reset();
    node_b_.reset();
    directory_.reset();  // after the processes that wrote into it
  }

  Player& add(const std::string& nickname) {
    players_.push_back(std::make_unique<Player>());
    players_.back()->nickname = nickname;
    return *players_.back();
  }
  // Polls every player until `done()`, at most `timeout` (generous: a loaded CI machine).
  bool pump(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      for (auto& player : players_)
        player->poll();
      if (done()) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
  }
  // Hello (or hello_resume with `token`) on the lobby at `port`; the reply's error.
  net::LobbyError say_hello(Player& player, std::uint16_t port, const std::string& token = {}) {
    player.connect(port);
    if (!pump([&] { return player.lobby->state() != net::LobbyClientState::connecting; })) {
      return net::LobbyError::malformed;
    }
    const std::uint64_t id =
        token.empty() ? player.lobby->hello(player.nickname) : player.lobby->hello_resume(token);
    if (!pump([&] {
          return player.reply(id) != nullptr || player.has(net::LobbyEventType::welcome);
        }))
      return net::LobbyError::malformed;
    const net::LobbyEvent* reply = player.reply(id);
    return reply != nullptr ? reply->error : net::LobbyError::none;
  }
  net::LobbyError call(Player& player, std::uint64_t id) {
    if (!pump([&] { return player.reply(id) != nullptr; })) return net::LobbyError::malformed;
    return player.reply(id)->error;
  }

  std::unique_ptr<RedisServer> redis_;
  std::optional<TempDirectory> directory_;
  std::unique_ptr<TestProcess> node_a_;
  std::unique_ptr<TestProcess> node_b_;
  std::unique_ptr<TestProcess> bot_;
  std::vector<std::unique_ptr<Player>> players_;
};

TEST_F(LobbyFailoverTest, players_of_a_killed_lobby_resume_on_another_with_seat_and_chat) {
  // Three players on A, one on B, in one room of four seats.
  Player& amy = add("amy");
  Player& ann = add("ann");
  Player& abe = add("abe");
  Player& bob = add("bob");
  for (Player* player : {&amy, &ann, &abe})
    ASSERT_EQ(say_hello(*player, node_a_->port()), net::LobbyError::none) << player->nickname;
  ASSERT_EQ(say_hello(bob, node_b_->port()), net::LobbyError::none);
  ASSERT_EQ(call(amy, amy.lobby->create_room("r", "arena", 5)), net::LobbyError::none);
  const std::uint64_t room = amy.lobby->room()->summary.room_id;
  for (Player* player : {&ann, &abe, &bob})
    ASSERT_EQ(call(*player, player->lobby->join_room(room)), net::LobbyError::none);
  // The fifth seat: a tickwire-bot that knows both lobbies, on A first. It readies up and waits
  // for more players than will come (no match starts).
  bot_ = std::make_unique<TestProcess>(
      directory_->string(), "bot",
      std::vector<std::string>{TICKWIRE_BOT_BINARY, "--lobby",
                               "127.0.0.1:" + std::to_string(node_a_->port()) +
                                   ",127.0.0.1:" + std::to_string(node_b_->port()),
                               "-n", "1", "--join", "--room", "r", "--prefix", "bot",
                               "--start-players", "99", "--duration", "60"});
  ASSERT_TRUE(pump([&] {
    const auto& seen = bob.lobby->room();
    return seen && seen->members.size() == 5 && seen->everyone_ready() == false &&
           std::any_of(seen->members.begin(), seen->members.end(),
                       [](const net::LobbyMember& m) { return m.nickname == "bot-1" && m.ready; });
  })) << bot_->output();
  std::uint64_t bot_id = 0;
  for (const net::LobbyMember& member : bob.lobby->room()->members) {
    if (member.nickname == "bot-1") bot_id = member.player_id;
  }
  // Ready states differ, so that keeping them means something.
  ASSERT_EQ(call(amy, amy.lobby->set_ready(true)), net::LobbyError::none);
  ASSERT_EQ(call(bob, bob.lobby->set_ready(true)), net::LobbyError::none);
  ASSERT_TRUE(pump([&] {
    for (Player* player : {&amy, &ann, &abe, &bob}) {
      const auto& seen = player->lobby->room();
      if (!seen || seen->members.size() != 5) return false;
      const net::LobbyMember* ready_amy = seen->member(amy.lobby->player_id());
      const net::LobbyMember* ready_bob = seen->member(bob.lobby->player_id());
      if (ready_amy == nullptr || !ready_amy->ready || ready_bob == nullptr || !ready_bob->ready)
        return false;
    }
    return true;
  }));

  struct Before {
    std::uint64_t id;
    std::string token;
  };
  std::vector<Before> before;
  for (Player* player : {&amy, &ann, &abe})
    before.push_back({player->lobby->player_id(), player->lobby->resume_token()});

  // Chat: three lines each, seen by all; then two more each from A's players, and the kill
  // while the last are on their way.
  for (int line = 1; line <= 3; ++line) {
    for (Player* player : {&amy, &ann, &abe, &bob})
      player->lobby->chat(player->nickname + "-" + std::to_string(line));
  }
  ASSERT_TRUE(pump([&] {
    for (Player* player : {&amy, &ann, &abe, &bob}) {
      if (player->chat().size() < 12) return false;
    }
    return true;
  }));
  for (Player* player : {&amy, &ann, &abe})
    player->lobby->chat(player->nickname + "-4");
  ASSERT_TRUE(pump([&] { return amy.shows("amy-4"); }));
  // The fifth lines are on their way (some may be stored and echoed, some not) when A dies.
  for (Player* player : {&amy, &ann, &abe})
    player->lobby->chat(player->nickname + "-5");
  node_a_->kill();
  // What A's players saw before their connections ended: a line its sender saw come back is
  // acknowledged (Redis stored it before publishing it).
  ASSERT_TRUE(pump([&] { return amy.disconnected && ann.disconnected && abe.disconnected; }));
  std::vector<std::string> acknowledged;
  for (Player* player : {&amy, &ann, &abe}) {
    for (const std::string& text : player->chat()) {
      if (text.rfind(player->nickname + "-", 0) == 0) acknowledged.push_back(text);
    }
  }
  // Every sender's first three lines at least.
  ASSERT_GE(acknowledged.size(), 9u);
  const std::uint64_t player_ids[] = {before[0].id, before[1].id, before[2].id};

  // Amy tries the next lobby she knows at once: B resumes her, though A's lease on her record
  // has not run out (A cannot renew it any more).
  ASSERT_EQ(say_hello(amy, node_b_->port(), before[0].token), net::LobbyError::none);
  EXPECT_EQ(amy.lobby->player_id(), before[0].id);

  // Past the lease of A's last renewals (and a margin): the nicknames and seats of the players
  // who have not come back are still held for them.
  pump([] { return false; }, std::chrono::milliseconds(2 * kLeaseMs + 500));
  Player& eve = add("ann");
  EXPECT_EQ(say_hello(eve, node_b_->port()), net::LobbyError::nickname_taken);
  eve.nickname = "eve";
  ASSERT_EQ(say_hello(eve, node_b_->port()), net::LobbyError::none);
  EXPECT_EQ(call(eve, eve.lobby->join_room(room)), net::LobbyError::room_full);
  // B shows the two who have not come back as disconnected (A's renewals no longer vouch for
  // them), and amy, back, as connected.
  ASSERT_TRUE(pump([&] {
    const auto& seen = bob.lobby->room();
    if (!seen) return false;
    for (const std::uint64_t id : {before[1].id, before[2].id}) {
      const net::LobbyMember* member = seen->member(id);
      if (member == nullptr || member->connected) return false;
    }
    const net::LobbyMember* back = seen->member(before[0].id);
    return back != nullptr && back->connected;
  })) << "bob still sees ann and abe connected, or amy not";
  // Bob, on B all along, chats on.
  bob.lobby->chat("bob-4");
  ASSERT_TRUE(pump([&] { return bob.shows("bob-4") && amy.shows("bob-4"); }));

  // Ann and Abe come back too, on B, within the grace.
  ASSERT_EQ(say_hello(ann, node_b_->port(), before[1].token), net::LobbyError::none);
  ASSERT_EQ(say_hello(abe, node_b_->port(), before[2].token), net::LobbyError::none);
  EXPECT_EQ(ann.lobby->player_id(), before[1].id);
  EXPECT_EQ(abe.lobby->player_id(), before[2].id);
  // Each token worked once.
  Player& thief = add("thief");
  EXPECT_EQ(say_hello(thief, node_b_->port(), before[1].token), net::LobbyError::resume_failed);

  // Same nickname, same room, same seats, same ready states, everyone connected.
  for (Player* player : {&amy, &ann, &abe}) {
    EXPECT_EQ(player->lobby->nickname(), player->nickname);
    ASSERT_TRUE(player->lobby->room().has_value()) << player->nickname;
    EXPECT_EQ(player->lobby->room()->summary.room_id, room);
  }
  // The bot found the next lobby by itself, and resumed its seat.
  ASSERT_TRUE(pump([&] {
    return bot_->output().find("bot-1 resumed its seat") != std::string::npos;
  })) << bot_->output();
  EXPECT_NE(bot_->output().find("player " + std::to_string(bot_id)), std::string::npos)
      << bot_->output();
  ASSERT_TRUE(pump([&] {
    const auto& seen = bob.lobby->room();
    if (!seen || seen->members.size() != 5) return false;
    for (const std::uint64_t id : player_ids) {
      const net::LobbyMember* member = seen->member(id);
      if (member == nullptr || !member->connected) return false;
    }
    return true;
  })) << "bob does not see all four connected";
  const net::LobbyRoom& seen = *bob.lobby->room();
  EXPECT_TRUE(seen.member(before[0].id)->ready);  // found above
  EXPECT_FALSE(seen.member(before[1].id)->ready);
  EXPECT_FALSE(seen.member(before[2].id)->ready);
  EXPECT_EQ(seen.members.size(), 5u);
  ASSERT_NE(seen.member(bot_id), nullptr);
  EXPECT_TRUE(seen.member(bot_id)->connected);

  // They chat again, and everyone sees it.
  for (Player* player : {&amy, &ann, &abe})
    player->lobby->chat(player->nickname + "-back");
  ASSERT_TRUE(pump([&] {
    for (Player* player : {&amy, &ann, &abe, &bob}) {
      for (const char* text : {"amy-back", "ann-back", "abe-back"}) {
        if (!player->shows(text)) return false;
      }
    }
    return true;
  }));

  // What each resumed player shows (the history their welcome carried, then live): every
  // acknowledged line, in the order its sender sent it, and no line twice.
  for (Player* player : {&amy, &ann, &abe}) {
    const std::vector<std::string> shown = player->chat();
    std::vector<std::string> sorted = shown;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
        << player->nickname << " shows a line twice";
    for (const std::string& text : acknowledged) {
      EXPECT_NE(std::find(shown.begin(), shown.end(), text), shown.end())
          << player->nickname << " lost the acknowledged line " << text;
    }
    for (const char* sender : {"amy", "ann", "abe", "bob"}) {
      int last = 0;
      for (const std::string& text : shown) {
        if (text.rfind(std::string(sender) + "-", 0) != 0 || text.ends_with("-back")) continue;
        const int number = std::stoi(text.substr(text.find('-') + 1));
        EXPECT_GT(number, last) << player->nickname << " shows " << sender
                                << "'s lines out of order";
        last = number;
      }
    }
  }
  std::cout << "acknowledged before the kill: " << acknowledged.size() << " lines\n";
}

}  // namespace
}  // namespace tickwire::test
