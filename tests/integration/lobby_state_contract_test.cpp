// The LobbyState contract, run against every implementation: the in-memory state (two handles on
// one state, as two LobbyServers of one process share it) and the Redis state (two instances on
// one real redis-server, as two lobby processes share it). What the lobby relies on when two
// processes race: one nickname claim wins, one player gets the last seat, a match starts only if
// everyone is still ready, a game server's slots are not promised twice, a crashed owner's lease
// runs out, and fan-out keeps each publisher's order.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/raw_tcp_client.hpp"
#include "../support/redis_server.hpp"
#include "tickwire/net/lobby_state.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::Broadcast;
using net::GameServerInfo;
using net::LobbyState;
using net::MatchServer;
using net::MemberInfo;
using net::RoomInfo;
using net::StateError;

enum class Kind { in_memory, redis };

std::string name_of(const testing::TestParamInfo<Kind>& info) {
  return info.param == Kind::in_memory ? "in_memory" : "redis";
}

// Waits for `done` until a generous deadline (never a timing assertion: only a bound on a hang).
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class LobbyStateContract : public testing::TestWithParam<Kind> {
 protected:
  static void TearDownTestSuite() { redis_.reset(); }

  void SetUp() override {
    if (GetParam() == Kind::in_memory) {
      a_ = net::make_in_memory_lobby_state();
      b_ = a_;
      return;
    }
    if (!redis_) {
      std::string error;
      redis_ = RedisServer::start(error);
      if (!redis_) GTEST_SKIP() << error;
    }
    // A key prefix per test: the tests share one server but never each other's rooms.
    prefix_ = "test" + std::to_string(++test_count_) + ":";
    a_ = make_redis();
    b_ = make_redis();
    ASSERT_TRUE(a_ && b_);
  }

  std::shared_ptr<LobbyState> make_redis() {
    net::RedisLobbyStateConfig config;
    config.port = redis_->port();
    config.key_prefix = prefix_;
    config.timeout_ms = 5000;  // generous: CI runs under sanitizers
    auto made = net::make_redis_lobby_state(config);
    EXPECT_TRUE(made.ok()) << made.error();
    return made.ok() ? std::move(made.value()) : nullptr;
  }

  RoomInfo room_for(std::uint64_t id, net::LobbyPlayerId host, std::size_t seats) {
    RoomInfo room;
    room.id = id;
    room.name = "room " + std::to_string(id);
    room.game_mode = "ffa";
    room.max_players = seats;
    room.host = host;
    room.members.push_back({host, "host" + std::to_string(host), false, true});
    return room;
  }

  static std::unique_ptr<RedisServer> redis_;
  static inline int test_count_ = 0;
  std::string prefix_;
  std::shared_ptr<LobbyState> a_;  // "process" A
  std::shared_ptr<LobbyState> b_;  // "process" B
};

std::unique_ptr<RedisServer> LobbyStateContract::redis_;

TEST_P(LobbyStateContract, ids_are_unique_across_instances) {
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    ids.push_back(a_->next_id());
    ids.push_back(b_->next_id());
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_NE(ids.front(), 0u);
}

TEST_P(LobbyStateContract, a_nickname_race_has_one_winner) {
  const std::uint64_t lease = net::unix_time_ms() + 60'000;
  for (int round = 0; round < 20; ++round) {
    const std::string nickname = "ace" + std::to_string(round);
    std::atomic<int> wins{0};
    std::thread other([&] { wins += b_->claim_nickname(nickname, 2000 + round, lease) ? 1 : 0; });
    wins += a_->claim_nickname(nickname, 1000 + round, lease) ? 1 : 0;
    other.join();
    ASSERT_EQ(wins.load(), 1) << nickname;
    // Both instances name the same winner, and the loser cannot take it afterwards either.
    const auto holder = a_->player_by_nickname(nickname);
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(b_->player_by_nickname(nickname), holder);
    const net::LobbyPlayerId loser = *holder == 1000u + round ? 2000 + round : 1000 + round;
    EXPECT_FALSE(b_->claim_nickname(nickname, loser, lease));
  }
  EXPECT_EQ(b_->player_count(), 20u);
  // A release frees only the holder's own claim.
  const net::LobbyPlayerId holder = *a_->player_by_nickname("ace0");
  b_->release_nickname("ace0", holder + 1);
  EXPECT_EQ(a_->player_by_nickname("ace0"), holder);
  b_->release_nickname("ace0", holder);
  EXPECT_FALSE(a_->player_by_nickname("ace0").has_value());
  EXPECT_TRUE(a_->claim_nickname("ace0", 7, lease));
}

TEST_P(LobbyStateContract, a_crashed_owners_nickname_lease_runs_out) {
  // A claims with a short lease and then "crashes": it never renews nor releases.
  ASSERT_TRUE(a_->claim_nickname("ghost", 1, net::unix_time_ms() + 400));
  ASSERT_TRUE(a_->claim_nickname("kept", 2, net::unix_time_ms() + 60'000));
  EXPECT_FALSE(b_->claim_nickname("ghost", 9, net::unix_time_ms() + 60'000));
  ASSERT_TRUE(
      eventually([&] { return b_->claim_nickname("ghost", 9, net::unix_time_ms() + 60'000); }));
  EXPECT_EQ(a_->player_by_nickname("ghost"), 9u);
  // A lease renewed by its owner holds; one renewed by someone else's claim does not change.
  a_->renew_nicknames({{"kept", 2}, {"ghost", 1}}, net::unix_time_ms() + 60'000);
  EXPECT_FALSE(b_->claim_nickname("kept", 9, net::unix_time_ms() + 60'000));
  EXPECT_EQ(b_->player_by_nickname("ghost"), 9u);
  EXPECT_EQ(b_->player_count(), 2u);
}

TEST_P(LobbyStateContract, the_last_seat_goes_to_one_player) {
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t id = a_->next_id();
    ASSERT_EQ(a_->create_room(room_for(id, 1, 2), 1000), StateError::none);
    StateError from_b = StateError::none;
    std::thread other([&] { from_b = b_->join_room(id, {3, "bee", false, true}); });
    const StateError from_a = a_->join_room(id, {2, "ay", false, true});
    other.join();
    EXPECT_TRUE((from_a == StateError::none) != (from_b == StateError::none))
        << static_cast<int>(from_a) << " " << static_cast<int>(from_b);
    EXPECT_TRUE(from_a == StateError::room_full || from_b == StateError::room_full);
    const auto room = b_->room(id);
    ASSERT_TRUE(room);
    EXPECT_EQ(room->members.size(), 2u);
  }
}

TEST_P(LobbyStateContract, rooms_list_in_order_and_close_when_empty) {
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(a_->next_id());
    ASSERT_EQ((i % 2 ? a_ : b_)->create_room(room_for(ids.back(), 10 + i, 4), 1000),
              StateError::none);
  }
  EXPECT_EQ(b_->create_room(room_for(b_->next_id(), 99, 4), 5), StateError::too_many_rooms);
  net::RoomFilter filter;
  filter.after = ids[1];
  filter.limit = 2;
  const auto page = b_->list_rooms(filter);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, ids[2]);
  EXPECT_EQ(page[1].id, ids[3]);
  std::optional<RoomInfo> after;
  ASSERT_EQ(a_->join_room(ids[0], {50, "second", false, true}), StateError::none);
  ASSERT_EQ(b_->leave_room(ids[0], 10, after), StateError::none);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->host, 50u);  // the host left: the next member hosts
  a_->append_chat(ids[0], {net::ChatScope::room, ids[0], 50, "second", "", "hi", 1}, 10);
  // A networked store may store the line after append_chat returns (with its broadcasts).
  EXPECT_TRUE(eventually([&] { return b_->chat_history(ids[0]).size() == 1u; }));
  ASSERT_EQ(a_->leave_room(ids[0], 50, after), StateError::none);
  EXPECT_FALSE(after);
  EXPECT_FALSE(b_->room(ids[0]));
  EXPECT_TRUE(b_->chat_history(ids[0]).empty());
  EXPECT_EQ(a_->room_count(), 4u);
}

TEST_P(LobbyStateContract, start_match_rechecks_readiness_inside_the_state) {
  const std::uint64_t id = a_->next_id();
  ASSERT_EQ(a_->create_room(room_for(id, 1, 4), 1000), StateError::none);
  ASSERT_EQ(b_->join_room(id, {2, "guest", false, true}), StateError::none);
  ASSERT_EQ(a_->set_ready(id, 1, true), StateError::none);
  ASSERT_EQ(b_->set_ready(id, 2, true), StateError::none);
  // The host's process read "everyone ready"; meanwhile the guest, on B, unreadies.
  ASSERT_EQ(b_->set_ready(id, 2, false), StateError::none);
  std::optional<RoomInfo> started;
  const MatchServer server{"127.0.0.1:7777", "", std::nullopt};
  EXPECT_EQ(a_->start_match(id, 1, a_->next_id(), server, 0, net::unix_time_ms(), started),
            StateError::not_all_ready);
  EXPECT_FALSE(started);
  ASSERT_EQ(b_->set_ready(id, 2, true), StateError::none);
  EXPECT_EQ(a_->start_match(id, 2, a_->next_id(), server, 0, net::unix_time_ms(), started),
            StateError::not_host);
  ASSERT_EQ(b_->set_connected(id, 2, false), StateError::none);
  EXPECT_EQ(a_->start_match(id, 1, a_->next_id(), server, 0, net::unix_time_ms(), started),
            StateError::not_all_ready);
  ASSERT_EQ(b_->set_connected(id, 2, true), StateError::none);
  const std::uint64_t match = a_->next_id();
  ASSERT_EQ(a_->start_match(id, 1, match, server, 0, net::unix_time_ms(), started),
            StateError::none);
  ASSERT_TRUE(started);
  EXPECT_EQ(started->members.size(), 2u);
  EXPECT_EQ(b_->start_match(id, 1, b_->next_id(), server, 0, net::unix_time_ms(), started),
            StateError::match_in_progress);
  EXPECT_EQ(b_->room_of_match(match)->id, id);
  EXPECT_TRUE(b_->mark_match_began(match));
  // Each match ends once, whichever process ends it.
  std::optional<RoomInfo> first_end;
  std::optional<RoomInfo> second_end;
  std::thread other([&] { second_end = b_->end_match(match); });
  first_end = a_->end_match(match);
  other.join();
  EXPECT_TRUE(first_end.has_value() != second_end.has_value());
  const auto room = a_->room(id);
  ASSERT_TRUE(room);
  EXPECT_EQ(room->match_id, 0u);
  EXPECT_FALSE(room->members[0].ready);
  EXPECT_FALSE(a_->room_of_match(match));
}

TEST_P(LobbyStateContract, game_server_capacity_is_reserved_once) {
  GameServerInfo server;
  server.address = "127.0.0.1:9000";
  server.capacity = 4;
  server.lease_expires_unix_ms = net::unix_time_ms() + 60'000;
  a_->put_game_server(server);
  // Two lobbies place a 2-player match each at once: both fit, exactly.
  std::optional<GameServerInfo> from_b;
  std::thread other([&] { from_b = b_->reserve_game_server(2); });
  const std::optional<GameServerInfo> from_a = a_->reserve_game_server(2);
  other.join();
  ASSERT_TRUE(from_a);
  ASSERT_TRUE(from_b);
  EXPECT_FALSE(a_->reserve_game_server(1)) << "its 4 slots are promised already";
  b_->release_game_server(server.address, 2);  // B's match did not start
  EXPECT_TRUE(a_->reserve_game_server(2));
  EXPECT_FALSE(b_->reserve_game_server(1));
  // A match on it ends: its reservation comes back with it.
  const std::uint64_t id = a_->next_id();
  ASSERT_EQ(a_->create_room(room_for(id, 1, 2), 1000), StateError::none);
  ASSERT_EQ(a_->set_ready(id, 1, true), StateError::none);
  std::optional<RoomInfo> started;
  const std::uint64_t match = a_->next_id();
  ASSERT_EQ(a_->start_match(id, 1, match, {server.address, "", std::nullopt}, 2,
                            net::unix_time_ms(), started),
            StateError::none);
  ASSERT_TRUE(b_->end_match(match));
  EXPECT_TRUE(b_->reserve_game_server(2));
  // A server that reports more players than are reserved is full by its own count.
  a_->set_game_server_load(server.address, 4, net::unix_time_ms() + 60'000);
  a_->release_game_server(server.address, 4);
  EXPECT_FALSE(b_->reserve_game_server(1));
  // A disconnected one gets nothing.
  a_->set_game_server_load(server.address, 0, net::unix_time_ms() + 60'000);
  a_->disconnect_game_server(server.address);
  EXPECT_FALSE(b_->reserve_game_server(1));
}

TEST_P(LobbyStateContract, expired_leases_and_resumes_are_taken_once) {
  GameServerInfo server;
  server.address = "127.0.0.1:9100";
  server.capacity = 8;
  server.lease_expires_unix_ms = net::unix_time_ms() + 60'000;
  a_->put_game_server(server);
  EXPECT_TRUE(b_->take_expired_game_servers(net::unix_time_ms()).empty());
  // Its owner stopped renewing: past the lease, one process takes it.
  const std::uint64_t later = net::unix_time_ms() + 120'000;
  const auto taken_a = a_->take_expired_game_servers(later);
  const auto taken_b = b_->take_expired_game_servers(later);
  EXPECT_EQ(taken_a.size() + taken_b.size(), 1u);
  EXPECT_FALSE(a_->reserve_game_server(1));

  net::ResumeRecord record{42, "sleeper", 0, net::unix_time_ms() + 1000, "127.0.0.1"};
  a_->store_resume("token-1", record);
  a_->store_resume("token-2", record);
  EXPECT_TRUE(b_->take_expired_resumes(net::unix_time_ms()).empty());
  const auto taken = b_->take_resume("token-1");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->nickname, "sleeper");
  EXPECT_FALSE(a_->take_resume("token-1"));
  // Wall-clock deadlines: any process, with its own clock, reads the same one.
  const auto expired_b = b_->take_expired_resumes(record.expires_unix_ms);
  const auto expired_a = a_->take_expired_resumes(record.expires_unix_ms);
  EXPECT_EQ(expired_a.size() + expired_b.size(), 1u);
}

// A connected player's record is renewed by its owner; a record taken by a resume (its token
// used, perhaps on another process) is never written back by the owner's late renewal, so that a
// token works once. A record whose owner stopped renewing (killed) expires at its deadline.
TEST_P(LobbyStateContract, resume_records_are_renewed_but_never_made_again) {
  const std::uint64_t now = net::unix_time_ms();
  net::ResumeRecord live{7, "keeper", 3, now + 60'000, "127.0.0.1"};
  a_->store_resume("live-token", live);
  net::ResumeRecord moved = live;
  moved.room = 9;  // the player changed rooms
  moved.expires_unix_ms = now + 120'000;
  EXPECT_EQ(a_->update_resumes({{"live-token", moved}, {"never-stored", moved}}), 1u);
  EXPECT_TRUE(b_->take_expired_resumes(now + 90'000).empty()) << "the renewed deadline holds";
  const auto taken = b_->take_resume("live-token");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->player, 7u);
  EXPECT_EQ(taken->nickname, "keeper");
  EXPECT_EQ(taken->room, 9u);
  EXPECT_EQ(taken->expires_unix_ms, now + 120'000);
  // The owner's renewal after the take: the record stays gone.
  EXPECT_EQ(a_->update_resumes({{"live-token", moved}}), 0u);
  EXPECT_FALSE(a_->take_resume("live-token"));
  EXPECT_TRUE(a_->take_expired_resumes(now + 200'000).empty());
  EXPECT_TRUE(b_->take_expired_resumes(now + 200'000).empty());

  // An owner that stops renewing: the record is taken once, by whichever process looks first
  // after its deadline.
  a_->store_resume("orphan", {8, "orphan", 3, now + 1000, "127.0.0.1"});
  EXPECT_TRUE(b_->take_expired_resumes(now + 500).empty());
  const auto expired_b = b_->take_expired_resumes(now + 1000);
  const auto expired_a = a_->take_expired_resumes(now + 1000);
  ASSERT_EQ(expired_a.size() + expired_b.size(), 1u);
  EXPECT_EQ((expired_b.empty() ? expired_a : expired_b).front().nickname, "orphan");
}

// A connected player whose process stops renewing their record (killed) is shown disconnected in
// their room once its connected_until passes, by one process only, and their record stays for
// their resume. A renewal puts it off; a dropped player (connected_until 0) and one whose record a
// resume took meanwhile are left alone.
TEST_P(LobbyStateContract, a_dead_processs_connected_players_lapse_once) {
  const std::uint64_t now = net::unix_time_ms();
  const std::uint64_t id = a_->next_id();
  ASSERT_EQ(a_->create_room(room_for(id, 1, 4), 1000), StateError::none);
  ASSERT_EQ(a_->join_room(id, {2, "gone", false, true}), StateError::none);
  ASSERT_EQ(a_->join_room(id, {3, "back", false, true}), StateError::none);
  const net::ResumeRecord gone{2, "gone", id, now + 60'000, "127.0.0.1", now + 1000};
  a_->store_resume("gone-token", gone);
  a_->store_resume("back-token", {3, "back", id, now + 60'000, "127.0.0.1", now + 1000});
  a_->store_resume("host-token", {1, "host1", id, now + 60'000, "127.0.0.1", 0});
  net::ResumeRecord renewed = gone;
  renewed.connected_until_unix_ms = now + 2000;
  EXPECT_EQ(a_->update_resumes({{"gone-token", renewed}}), 1u);

  ASSERT_TRUE(b_->take_resume("back-token"));  // resumed meanwhile
  EXPECT_TRUE(b_->lapse_connections(now + 1500).empty()) << "the renewal vouches until +2000";
  const auto lapsed_b = b_->lapse_connections(now + 2000);
  const auto lapsed_a = a_->lapse_connections(now + 2000);
  ASSERT_EQ(lapsed_a.size() + lapsed_b.size(), 1u);
  EXPECT_EQ((lapsed_b.empty() ? lapsed_a : lapsed_b).front().player, 2u);
  const auto room = b_->room(id);
  ASSERT_TRUE(room);
  for (const MemberInfo& member : room->members)
    EXPECT_EQ(member.connected, member.player != 2) << member.player;
  EXPECT_TRUE(a_->lapse_connections(now + 10'000).empty());
  const auto kept = a_->take_resume("gone-token");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->room, id);
}

TEST_P(LobbyStateContract, fan_out_keeps_each_publishers_order) {
  struct Inbox {
    std::mutex mutex;
    std::vector<std::pair<std::uint64_t, std::uint8_t>> got;  // (target, first byte)
  };
  Inbox at_a;
  Inbox at_b;
  const auto collect = [](Inbox& inbox) {
    return [&inbox](Broadcast broadcast) {
      std::lock_guard lock(inbox.mutex);
      inbox.got.emplace_back(broadcast.target,
                             static_cast<std::uint8_t>(broadcast.message->front()));
    };
  };
  const std::uint64_t sub_a = a_->subscribe(collect(at_a));
  const std::uint64_t sub_b = b_->subscribe(collect(at_b));
  constexpr std::uint64_t kEach = 200;
  // Two publishers at once; target says who published, the first byte the sequence (mod 256).
  std::thread other([&] {
    for (std::uint64_t i = 0; i < kEach; ++i) {
      b_->publish({Broadcast::Audience::room, 2,
                   std::make_shared<const std::vector<std::byte>>(1, std::byte(i & 0xff))});
    }
  });
  for (std::uint64_t i = 0; i < kEach; ++i) {
    a_->publish({Broadcast::Audience::room, 1,
                 std::make_shared<const std::vector<std::byte>>(1, std::byte(i & 0xff))});
  }
  other.join();
  for (Inbox* inbox : {&at_a, &at_b}) {
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(inbox->mutex);
      return inbox->got.size() >= 2 * kEach;
    }));
    std::lock_guard lock(inbox->mutex);
    EXPECT_EQ(inbox->got.size(), 2 * kEach);
    std::uint64_t next[3] = {0, 0, 0};
    for (const auto& [publisher, sequence] : inbox->got) {
      ASSERT_TRUE(publisher == 1 || publisher == 2);
      EXPECT_EQ(sequence, next[publisher] & 0xff) << "publisher " << publisher;
      ++next[publisher];
    }
  }
  a_->unsubscribe(sub_a);
  b_->unsubscribe(sub_b);
  // After unsubscribe, nothing more arrives.
  a_->publish({Broadcast::Audience::everyone, 0,
               std::make_shared<const std::vector<std::byte>>(1, std::byte{0})});
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock(at_b.mutex);
  EXPECT_EQ(at_b.got.size(), 2 * kEach);
}

// A player who joins reads the history, then gets the broadcasts: a line whose broadcast has
// arrived anywhere must be in the history already, else a joiner in between misses it.
TEST_P(LobbyStateContract, a_chat_line_is_stored_before_its_broadcast_arrives) {
  const std::uint64_t id = a_->next_id();
  ASSERT_EQ(a_->create_room(room_for(id, 1, 4), 1000), StateError::none);
  std::mutex mutex;
  std::size_t arrived = 0;
  const std::uint64_t subscription = b_->subscribe([&](Broadcast) {
    std::lock_guard lock(mutex);
    ++arrived;
  });
  constexpr std::size_t kLines = 20;
  for (std::size_t i = 0; i < kLines; ++i) {
    a_->append_chat(id, {net::ChatScope::room, id, 1, "host1", "", std::to_string(i), i}, 100);
    a_->publish({Broadcast::Audience::room, id,
                 std::make_shared<const std::vector<std::byte>>(1, std::byte{1}), false});
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mutex);
      return arrived == i + 1;
    }));
    const auto history = b_->chat_history(id);
    ASSERT_EQ(history.size(), i + 1);
    EXPECT_EQ(history.back().text, std::to_string(i));
  }
  b_->unsubscribe(subscription);
}

INSTANTIATE_TEST_SUITE_P(Implementations, LobbyStateContract,
                         testing::Values(Kind::in_memory, Kind::redis), name_of);

}  // namespace
}  // namespace tickwire::test

namespace tickwire::test {
namespace {

TEST(RedisLobbyState, authenticates_with_the_password_and_says_when_it_is_wrong) {
  std::string error;
  const auto redis = RedisServer::start(error, "s3cret-pass");
  if (!redis) GTEST_SKIP() << error;
  net::RedisLobbyStateConfig config;
  config.port = redis->port();
  config.timeout_ms = 5000;
  auto refused = net::make_redis_lobby_state(config);  // no password
  ASSERT_FALSE(refused.ok());
  config.password = "wrong";
  refused = net::make_redis_lobby_state(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("AUTH"), std::string::npos) << refused.error();
  EXPECT_EQ(refused.error().find("wrong"), std::string::npos) << "the password is not echoed";
  config.password = "s3cret-pass";
  auto state = net::make_redis_lobby_state(config);
  ASSERT_TRUE(state.ok()) << state.error();
  EXPECT_NE(state.value()->next_id(), 0u);
  EXPECT_GT(state.value()->round_trips(), 0u);
}

// The lobby re-reads every room when version() changes: another node's chat must not change it
// (one re-read per chat line), its room changes must. A message on the channel that is no
// broadcast (another version's layout, damage) is dropped and counted, and what follows it
// still arrives.
TEST(RedisLobbyState, only_room_changes_move_the_version_and_a_bad_message_is_counted) {
  std::string error;
  const auto redis = RedisServer::start(error);
  if (!redis) GTEST_SKIP() << error;
  net::RedisLobbyStateConfig config;
  config.port = redis->port();
  config.timeout_ms = 5000;
  config.refresh_ms = 60'000;  // the timer's share of version() moves at most once in the test
  auto a = net::make_redis_lobby_state(config);
  auto b = net::make_redis_lobby_state(config);
  ASSERT_TRUE(a.ok() && b.ok());
  std::mutex mutex;
  std::vector<std::uint8_t> got;  // first bytes, as b receives them
  const std::uint64_t subscription = b.value()->subscribe([&](Broadcast broadcast) {
    std::lock_guard lock(mutex);
    got.push_back(static_cast<std::uint8_t>(broadcast.message->front()));
  });
  const auto received = [&] {
    std::lock_guard lock(mutex);
    return got.size();
  };
  const auto line = [](std::uint8_t first, bool changes_rooms) {
    return Broadcast{Broadcast::Audience::room, 1,
                     std::make_shared<const std::vector<std::byte>>(1, std::byte{first}),
                     changes_rooms};
  };

  const std::uint64_t before = b.value()->version();
  constexpr std::size_t kChat = 50;
  for (std::size_t i = 0; i < kChat; ++i)
    a.value()->publish(line(1, /*changes_rooms=*/false));
  a.value()->publish(line(2, /*changes_rooms=*/true));
  ASSERT_TRUE(eventually([&] { return received() == kChat + 1; }));
  const std::uint64_t after = b.value()->version();
  EXPECT_GE(after - before, 1u) << "a room change from another node moves the version";
  EXPECT_LE(after - before, 2u) << "chat moved the version (1 is the room change, 1 the timer)";

  RawTcpClient raw(redis->port());
  ASSERT_TRUE(raw.connected());
  const std::string channel = config.key_prefix + "fanout";
  ASSERT_TRUE(raw.send_bytes("PUBLISH " + channel + " not-a-broadcast\r\n"));
  a.value()->publish(line(3, /*changes_rooms=*/false));
  ASSERT_TRUE(eventually([&] { return received() == kChat + 2; }));
  EXPECT_EQ(b.value()->dropped_broadcasts(), 1u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(got.back(), 3u) << "the honest broadcast after the bad one arrives";
  b.value()->unsubscribe(subscription);
}

TEST(RedisLobbyState, a_bad_config_names_the_field) {
  net::RedisLobbyStateConfig config;
  config.key_prefix = "has space";
  const auto made = net::make_redis_lobby_state(config);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("key_prefix"), std::string::npos) << made.error();
}

}  // namespace
}  // namespace tickwire::test
