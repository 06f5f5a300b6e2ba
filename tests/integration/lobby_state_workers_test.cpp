// The lobby's state workers on a real redis-server: a request that waits on the state holds up
// nobody else on the node, a connection's requests are answered in the order it sent them, and a
// connection that piles up requests without waiting for their answers is closed and counted.
//
// A slow Redis is made honestly for one request only: the lobby is given a LobbyState (the public
// interface it takes) that forwards every call to the real Redis state, and holds the creation of
// a room named "slow" on a latch until the test lets it go. DEBUG SLEEP or CLIENT PAUSE would
// stall every connection, the other workers' too, and show nothing about the lobby's thread.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "../support/redis_server.hpp"
#include "lobby_fixture.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;

// The real state, with create_room of a room named "slow" held until release().
class LatchedState final : public net::LobbyState {
 public:
  explicit LatchedState(std::shared_ptr<net::LobbyState> inner) : inner_(std::move(inner)) {}

  // True once a worker waits on the latch (within `timeout`).
  bool wait_until_held(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return held_; });
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
  }

  std::uint64_t next_id() override { return inner_->next_id(); }
  bool claim_nickname(const std::string& key, net::LobbyPlayerId player,
                      std::uint64_t lease) override {
    return inner_->claim_nickname(key, player, lease);
  }
  void renew_nicknames(const std::vector<std::pair<std::string, net::LobbyPlayerId>>& held,
                       std::uint64_t lease) override {
    inner_->renew_nicknames(held, lease);
  }
  void release_nickname(const std::string& key, net::LobbyPlayerId player) override {
    inner_->release_nickname(key, player);
  }
  std::optional<net::LobbyPlayerId> player_by_nickname(const std::string& key) const override {
    return inner_->player_by_nickname(key);
  }
  std::size_t player_count() const override { return inner_->player_count(); }
  void store_resume(const std::string& token, net::ResumeRecord record) override {
    inner_->store_resume(token, std::move(record));
  }
  std::size_t update_resumes(
      const std::vector<std::pair<std::string, net::ResumeRecord>>& records) override {
    return inner_->update_resumes(records);
  }
  std::optional<net::ResumeRecord> take_resume(const std::string& token) override {
    return inner_->take_resume(token);
  }
  std::vector<net::ResumeRecord> take_expired_resumes(std::uint64_t now) override {
    return inner_->take_expired_resumes(now);
  }
  std::vector<net::ResumeRecord> lapse_connections(std::uint64_t now) override {
    return inner_->lapse_connections(now);
  }
  net::StateError create_room(net::RoomInfo room, std::size_t max_rooms) override {
    if (room.name == "slow") {
      std::unique_lock lock(mutex_);
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
    }
    return inner_->create_room(std::move(room), max_rooms);
  }
  std::optional<net::RoomInfo> room(net::LobbyRoomId id) const override { return inner_->room(id); }
  std::vector<net::RoomInfo> list_rooms(const net::RoomFilter& filter) const override {
    return inner_->list_rooms(filter);
  }
  std::size_t room_count() const override { return inner_->room_count(); }
  net::StateError join_room(net::LobbyRoomId id, const net::MemberInfo& member) override {
    return inner_->join_room(id, member);
  }
  net::StateError leave_room(net::LobbyRoomId id, net::LobbyPlayerId player,
                             std::optional<net::RoomInfo>& after) override {
    return inner_->leave_room(id, player, after);
  }
  net::StateError set_ready(net::LobbyRoomId id, net::LobbyPlayerId player, bool ready) override {
    return inner_->set_ready(id, player, ready);
  }
  net::StateError set_connected(net::LobbyRoomId id, net::LobbyPlayerId player,
                                bool connected) override {
    return inner_->set_connected(id, player, connected);
  }
  net::StateError start_match(net::LobbyRoomId id, net::LobbyPlayerId host, std::uint64_t match,
                              const net::MatchServer& server, std::uint32_t reserved,
                              std::uint64_t now, std::optional<net::RoomInfo>& started) override {
    return inner_->start_match(id, host, match, server, reserved, now, started);
  }
  std::optional<net::RoomInfo> room_of_match(std::uint64_t match) const override {
    return inner_->room_of_match(match);
  }
  bool mark_match_began(std::uint64_t match) override { return inner_->mark_match_began(match); }
  std::optional<net::RoomInfo> end_match(std::uint64_t match) override {
    return inner_->end_match(match);
  }
  void append_chat(net::LobbyRoomId id, net::ChatEntry entry, std::size_t keep) override {
    inner_->append_chat(id, std::move(entry), keep);
  }
  std::vector<net::ChatEntry> chat_history(net::LobbyRoomId id) const override {
    return inner_->chat_history(id);
  }
  std::uint64_t version() const override { return inner_->version(); }
  std::uint64_t subscribe(Subscriber deliver) override {
    return inner_->subscribe(std::move(deliver));
  }
  void unsubscribe(std::uint64_t subscription) override { inner_->unsubscribe(subscription); }
  void publish(const net::Broadcast& broadcast) override { inner_->publish(broadcast); }
  void put_game_server(const net::GameServerInfo& server) override {
    inner_->put_game_server(server);
  }
  void set_game_server_load(const std::string& address, std::uint32_t players,
                            std::uint64_t lease) override {
    inner_->set_game_server_load(address, players, lease);
  }
  void disconnect_game_server(const std::string& address) override {
    inner_->disconnect_game_server(address);
  }
  void remove_game_server(const std::string& address) override {
    inner_->remove_game_server(address);
  }
  std::vector<net::GameServerInfo> take_expired_game_servers(std::uint64_t now) override {
    return inner_->take_expired_game_servers(now);
  }
  std::optional<net::GameServerInfo> reserve_game_server(std::uint32_t slots) override {
    return inner_->reserve_game_server(slots);
  }
  void release_game_server(const std::string& address, std::uint32_t slots) override {
    inner_->release_game_server(address, slots);
  }
  bool may_block() const override { return inner_->may_block(); }
  std::uint64_t round_trips() const override { return inner_->round_trips(); }

 private:
  const std::shared_ptr<net::LobbyState> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool released_ = false;
};

std::vector<std::byte> list_rooms(std::uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  return finish(fbb, id, wire::LobbyBody::ListRooms, wire::CreateListRooms(fbb));
}
// The names of the rooms a RoomList reply lists.
std::vector<std::string> listed(const wire::LobbyMessage* reply) {
  std::vector<std::string> names;
  if (reply == nullptr || reply->body_as_RoomList() == nullptr) return names;
  if (const auto* rooms = reply->body_as_RoomList()->rooms()) {
    for (const auto* room : *rooms)
      names.push_back(room->name()->str());
  }
  return names;
}
// Where the reply to `id` is among the player's messages (-1: none).
std::ptrdiff_t position(const Player& player, std::uint64_t id) {
  const auto& messages = player.messages();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i]->result() != nullptr && messages[i]->request_id() == id) {
      return static_cast<std::ptrdiff_t>(i);
    }
  }
  return -1;
}

class LobbyStateWorkersTest : public LobbyTest {
 protected:
  void SetUp() override {
    std::string error;
    redis_ = RedisServer::start(error);
    if (!redis_) GTEST_SKIP() << error;
    net::RedisLobbyStateConfig redis;
    redis.port = redis_->port();
    redis.timeout_ms = 5000;
    auto made = net::make_redis_lobby_state(redis);
    ASSERT_TRUE(made.ok()) << made.error();
    state_ = std::make_shared<LatchedState>(std::move(made.value()));
  }
  void TearDown() override {
    // A worker still on the latch would hold the lobby's stop.
    if (state_) state_->release();
    players_.clear();
    lobby_.reset();
  }
  void start_lobby(net::LobbyConfig config) {
    config.chat_burst = 20;
    lobby_ = std::make_unique<net::LobbyServer>(config, issuer_, state_);
    ASSERT_TRUE(lobby_->start().ok());
  }

  std::unique_ptr<RedisServer> redis_;
  std::shared_ptr<LatchedState> state_;
};

TEST_F(LobbyStateWorkersTest, a_request_waiting_on_the_state_holds_up_no_other_player) {
  start_lobby(fast_config());
  Player& amy = add_player();
  Player& bob = add_player();
  hello_ok(amy, "amy");
  hello_ok(bob, "bob");
  ASSERT_TRUE(ok(call(bob, 2, create_room(2, "open", 4))));

  // Amy's room creation waits on the state; her room list, sent right after, waits for it.
  amy.send(create_room(2, "slow", 4));
  amy.send(list_rooms(3));
  ASSERT_TRUE(state_->wait_until_held(10s)) << "the slow creation never reached the state";

  // Meanwhile the node serves Bob: his room list, and his chat line, which comes back to him
  // through Redis and the node's delivery.
  const auto* bobs_list = call(bob, 3, list_rooms(3));
  ASSERT_TRUE(ok(bobs_list));
  EXPECT_EQ(listed(bobs_list), std::vector<std::string>{"open"});
  ASSERT_TRUE(ok(call(bob, 4, chat(4, "still served"))));
  ASSERT_TRUE(pump_players(
      players_, [&] { return bob.chat_lines() == 1; }, 10s));
  // Amy has no answer while her creation is held, not even to the list behind it.
  EXPECT_EQ(amy.reply(2), nullptr);
  EXPECT_EQ(amy.reply(3), nullptr);

  state_->release();
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.reply(3) != nullptr; }, 10s));
  ASSERT_TRUE(ok(amy.reply(2)));
  EXPECT_EQ(amy.reply(2)->body_as_RoomDetail()->summary()->name()->str(), "slow");
  // Answered in order, and the list made after the creation shows the room.
  EXPECT_LT(position(amy, 2), position(amy, 3));
  EXPECT_EQ(listed(amy.reply(3)), (std::vector<std::string>{"open", "slow"}));
  EXPECT_EQ(lobby_->counters().rooms, 2u);
}

TEST_F(LobbyStateWorkersTest, a_connection_s_requests_are_answered_in_the_order_it_sent_them) {
  net::LobbyConfig config = fast_config();
  config.state_workers = 4;
  start_lobby(config);
  state_->release();  // nothing held
  Player& amy = add_player();
  hello_ok(amy, "amy");
  // Sent at once, without waiting: each depends on the one before, which only holds if they
  // are handled one at a time in order, whatever worker takes each.
  const std::vector<std::vector<std::byte>> requests = {create_room(2, "mine", 4),
                                                        set_ready(3, true),
                                                        set_ready(4, false),
                                                        set_ready(5, true),
                                                        list_rooms(6),
                                                        leave_room(7),
                                                        list_rooms(8),
                                                        create_room(9, "again", 4),
                                                        set_ready(10, true),
                                                        list_rooms(11)};
  for (const auto& request : requests)
    amy.send(request);
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.reply(11) != nullptr; }, 10s));
  for (std::uint64_t id = 2; id <= 11; ++id) {
    EXPECT_TRUE(ok(amy.reply(id))) << "request " << id;
    if (id > 2) {
      EXPECT_LT(position(amy, id - 1), position(amy, id)) << "request " << id;
    }
  }
  EXPECT_EQ(listed(amy.reply(6)), std::vector<std::string>{"mine"});
  EXPECT_TRUE(listed(amy.reply(8)).empty());  // she left: the room closed
  EXPECT_EQ(listed(amy.reply(11)), std::vector<std::string>{"again"});
}

TEST_F(LobbyStateWorkersTest, a_connection_that_does_not_wait_for_its_answers_is_closed) {
  net::LobbyConfig config = fast_config();
  config.max_queued_requests = 4;
  start_lobby(config);
  Player& amy = add_player();
  Player& bob = add_player();
  hello_ok(amy, "amy");
  hello_ok(bob, "bob");
  amy.send(create_room(2, "slow", 4));
  ASSERT_TRUE(state_->wait_until_held(10s));
  // Four wait behind the held creation; the fifth is one too many.
  for (std::uint64_t id = 3; id < 8; ++id)
    amy.send(list_rooms(id));
  ASSERT_TRUE(pump_players(
      players_, [&] { return amy.disconnected(); }, 10s));
  EXPECT_EQ(amy.log().disconnected.at(0).second, net::DisconnectReason::rate_limited);
  EXPECT_EQ(lobby_->counters().disconnected_request_queue_full, 1u);
  // Bob, on the same node at the same time, is served as ever.
  ASSERT_TRUE(ok(call(bob, 2, list_rooms(2))));
  ASSERT_TRUE(ok(call(bob, 3, create_room(3, "bobs", 4))));
  state_->release();
  // Amy's held creation ends all the same (what she sent before her close is handled, as it
  // would be had the state answered at once); the node goes on serving Bob.
  std::uint64_t id = 10;
  std::vector<std::string> names;
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        ++id;
        names = listed(call(bob, id, list_rooms(id)));
        return names.size() == 2;
      },
      10s));
  EXPECT_EQ(names, (std::vector<std::string>{"slow", "bobs"}));
}

// A client that leaves while its request waits on the state: the request still completes, and
// then the drop, in that order, so the player waits for their resume in the room they made and
// comes back to it.
TEST_F(LobbyStateWorkersTest, a_connection_that_closes_while_its_request_is_out_drops_after_it) {
  start_lobby(fast_config());
  Player& amy = add_player();
  Player& bob = add_player();
  const auto* welcome = call(amy, 1, hello(1, "amy"));
  ASSERT_TRUE(ok(welcome));
  const std::string token = welcome->body_as_Welcome()->resume_token()->str();
  hello_ok(bob, "bob");
  amy.send(create_room(2, "slow", 4));
  ASSERT_TRUE(state_->wait_until_held(10s));
  players_.erase(players_.begin());  // Amy's client goes away
  ASSERT_TRUE(pump_players(
      players_, [&] { return lobby_->counters().connections == 1; }, 10s));
  ASSERT_TRUE(ok(call(bob, 2, list_rooms(2))));  // served meanwhile
  state_->release();
  // The creation completes: Bob sees the room and joins it.
  std::uint64_t id = 10;
  std::uint64_t room = 0;
  ASSERT_TRUE(pump_players(
      players_,
      [&] {
        ++id;
        const auto* list = call(bob, id, list_rooms(id));
        if (listed(list) != std::vector<std::string>{"slow"}) return false;
        room = list->body_as_RoomList()->rooms()->Get(0)->room_id();
        return true;
      },
      10s));
  const auto* joined = call(bob, 100, join_room(100, room));
  ASSERT_TRUE(ok(joined));
  // Then her drop: she stays in the room, disconnected (her seat waits for her), whether the
  // drop came before Bob's join (his RoomDetail says so) or after (a Presence tells him).
  const auto amy_shown_dropped = [&] {
    for (const auto* member : *joined->body_as_RoomDetail()->members()) {
      if (member->nickname()->str() == "amy" && !member->connected()) return true;
    }
    for (const auto* event : bob.events(wire::LobbyBody::Presence)) {
      if (event->body_as_Presence()->kind() == wire::PresenceKind::disconnected) return true;
    }
    return false;
  };
  ASSERT_TRUE(pump_players(players_, amy_shown_dropped, 10s));
  Player& back = add_player();
  const auto* resumed = call(back, 1, hello(1, "", token));
  ASSERT_TRUE(ok(resumed));
  ASSERT_NE(resumed->body_as_Welcome()->room(), nullptr);
  EXPECT_EQ(resumed->body_as_Welcome()->room()->summary()->name()->str(), "slow");
  EXPECT_EQ(resumed->body_as_Welcome()->room()->members()->size(), 2u);
}

class LobbyStateWorkersConfig : public LobbyTest {};

TEST_F(LobbyStateWorkersConfig, the_pool_and_queue_limits_are_validated_by_name) {
  net::LobbyConfig config = fast_config();
  ASSERT_TRUE(config.validate().ok()) << config.validate().message();
  config.state_workers = 0;
  EXPECT_NE(config.validate().message().find("state_workers"), std::string::npos);
  config.state_workers = 4;
  config.max_queued_requests = 0;
  EXPECT_NE(config.validate().message().find("max_queued_requests"), std::string::npos);
  net::RedisLobbyStateConfig redis;
  redis.connections = 0;
  EXPECT_NE(redis.validate().message().find("connections"), std::string::npos);
  redis.connections = 4;
  EXPECT_TRUE(redis.validate().ok());
}

}  // namespace
}  // namespace tickwire::test
