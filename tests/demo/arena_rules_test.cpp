// The demo game's rules: what a player can and cannot do, hits with lag compensation, and that
// the state replicates exactly through the simulation layer.

#include "arena_rules.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include <tickwire/sim/replicator.hpp>

#include "../support/created.hpp"

namespace arena {
namespace {

TEST(Arena, entity_types_come_from_the_games_own_flatbuffers_schema) {
  ASSERT_TRUE(schema().validate().ok()) << schema().validate().message();
  ASSERT_EQ(schema().type_count(), 2u);
  EXPECT_EQ(schema().type(player_type()).name, "arena.Player");
  EXPECT_EQ(schema().type(player_type()).fields.size(), 8u);
  EXPECT_EQ(schema().type(drone_type()).name, "arena.Drone");
  EXPECT_EQ(schema().type(drone_type()).fields.size(), 4u);
  // The game addresses fields by name: each name leads to the field of that name.
  const auto& player = schema().type(player_type()).fields;
  EXPECT_EQ(player[player_fields().aim].name, "aim");
  EXPECT_EQ(player[player_fields().alive].name, "alive");
  EXPECT_EQ(player[player_fields().vy].name, "vy");
  EXPECT_EQ(schema().type(drone_type()).fields[drone_fields().vx].name, "vx");
}

TEST(Arena, no_input_moves_a_player_faster_than_the_rules_allow) {
  Config config;
  config.drones = 0;
  World world(config);
  world.add_player(1);
  world.set_position(1, 0, 0);
  // A hacked client sends the largest move code there is both ways; decoding clamps it,
  // diagonals are normalised.
  const std::vector<std::byte> hacked = {std::byte{0x0F}, std::byte{0}, std::byte{0}};
  const auto decoded = decode_input(hacked, 1);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->move_x, 1);
  EXPECT_EQ(decoded->move_y, 1);
  for (int t = 0; t < 60; ++t)
    world.step({{1, *decoded}});
  const PlayerState* p = world.player(1);
  EXPECT_NEAR(std::hypot(p->x, p->y), config.player_speed, 1e-6) << "one second at full speed";
}

TEST(Arena, an_input_crosses_the_wire_as_sent_within_its_quantization) {
  PlayerInput input;
  input.move_x = -1;
  input.move_y = 1;
  input.aim = -2.5f;  // negative angles come back as the same direction in [0, 2 pi)
  input.fire = true;
  input.view_tick = 993.3;
  const auto decoded = decode_input(encode_input(input, 1000), 1000);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->move_x, -1);
  EXPECT_EQ(decoded->move_y, 1);
  EXPECT_TRUE(decoded->fire);
  EXPECT_NEAR(std::remainder(decoded->aim - input.aim, 2 * std::numbers::pi), 0.0, 1e-4);
  EXPECT_NEAR(decoded->view_tick, 993.3, 1.0 / 32);
  // Without firing, the view tick is not sent: the input is three bytes.
  input.fire = false;
  EXPECT_EQ(encode_input(input, 1000).size(), 3u);
}

TEST(Arena, garbage_and_absurd_inputs_are_refused_or_clamped) {
  EXPECT_FALSE(decode_input(std::vector<std::byte>(40, std::byte{0x7F}), 1));
  EXPECT_FALSE(decode_input(std::vector<std::byte>(4096), 1));
  EXPECT_FALSE(decode_input({}, 1));
  // Reserved bits set; a firing input without its view tick; a view tick without firing.
  EXPECT_FALSE(decode_input(std::vector<std::byte>{std::byte{0x20}, {}, {}}, 1));
  EXPECT_FALSE(decode_input(std::vector<std::byte>{std::byte{0x10}, {}, {}}, 1));
  EXPECT_FALSE(decode_input(std::vector<std::byte>{std::byte{0x05}, {}, {}, {}, {}}, 1));
  PlayerInput absurd;
  absurd.aim = std::numeric_limits<float>::quiet_NaN();
  absurd.fire = true;
  absurd.view_tick = std::numeric_limits<double>::infinity();
  const auto decoded = decode_input(encode_input(absurd, 50), 50);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->aim, 0.0f);
  EXPECT_EQ(decoded->view_tick, 50.0);  // no lag: the shooter's own tick
}

TEST(Arena, three_hits_down_a_player_who_respawns_later) {
  Config config;
  config.drones = 0;
  config.fire_cooldown_ticks = 1;
  config.respawn_ticks = 30;
  World world(config);
  world.add_player(1);
  world.add_player(2);
  world.set_position(1, 0, 0);
  world.set_position(2, 10, 0);
  world.step({});  // record where everyone is
  PlayerInput shot;
  shot.fire = true;
  shot.aim = 0;  // along +x, at player 2
  int hits = 0;
  for (int t = 0; t < 3; ++t) {
    shot.view_tick = static_cast<double>(world.tick());
    world.step({{1, shot}});
    hits += static_cast<int>(world.hits().size());
  }
  EXPECT_EQ(hits, 3);
  EXPECT_FALSE(world.player(2)->alive);
  EXPECT_EQ(world.player(1)->score, 5);
  for (int t = 0; t < 31; ++t)
    world.step({});
  EXPECT_TRUE(world.player(2)->alive);
  EXPECT_EQ(world.player(2)->health, 100);
}

TEST(Arena, a_shot_hits_where_the_shooter_saw_the_target) {
  Config config;
  config.drones = 0;
  World world(config);
  world.add_player(1);
  world.add_player(2);
  world.set_position(1, 0, 0);
  world.set_position(2, 10, -3);
  PlayerInput up;
  up.move_y = 1;  // player 2 runs across the line of fire at 6 m/s
  std::uint64_t crossing = 0;
  for (int t = 0; t < 60 && crossing == 0; ++t) {
    world.step({{2, up}});
    if (std::abs(world.player(2)->y) < 0.05) crossing = world.tick();
  }
  ASSERT_NE(crossing, 0u);
  for (int t = 0; t < 6; ++t)
    world.step({{2, up}});  // 100 ms later the shot arrives
  PlayerInput shot;
  shot.fire = true;
  shot.view_tick = static_cast<double>(crossing);
  world.step({{1, shot}, {2, up}});
  ASSERT_EQ(world.hits().size(), 1u);
  EXPECT_EQ(world.hits()[0].target, 2u);
  // A shooter claiming to have seen the target longer ago than the 200 ms cap is tested at the
  // cap, when the target had already moved on: a miss.
  world.step({{2, up}});
  shot.view_tick = static_cast<double>(world.tick());
  for (int t = 0; t < 20; ++t)
    world.step({{2, up}});
  world.step({{1, shot}, {2, up}});
  EXPECT_TRUE(world.hits().empty());
}

TEST(Arena, same_inputs_give_the_same_world_and_the_state_replicates_exactly) {
  const auto run = [] {
    World world;
    for (PlayerId id = 1; id <= 4; ++id)
      world.add_player(id);
    std::vector<std::uint64_t> hashes;
    for (int t = 0; t < 600; ++t) {
      std::map<PlayerId, PlayerInput> inputs;
      for (PlayerId id = 1; id <= 4; ++id) {
        PlayerInput input;
        input.move_x = static_cast<std::int8_t>((t / 40 + id) % 3 - 1);
        input.move_y = static_cast<std::int8_t>((t / 25 + id) % 3 - 1);
        input.aim = static_cast<float>(t * 0.05 + id);
        input.fire = t % 7 == 0;
        input.view_tick = static_cast<double>(world.tick());
        inputs[id] = input;
      }
      world.step(inputs);
      hashes.push_back(world.state().hash());
    }
    return std::make_pair(hashes, world.state());
  };
  const auto [first, first_state] = run();
  const auto [second, second_state] = run();
  EXPECT_EQ(first, second);
  // Through the replicator and back, bit for bit.
  const auto server = tickwire::test::created(tickwire::sim::ServerReplicator::create(schema()));
  const auto client = tickwire::test::created(tickwire::sim::ClientReplicator::create(schema()));
  server->add_client(1);
  ASSERT_TRUE(client->on_message(server->snapshot_for(1, 1, first_state)));
  EXPECT_EQ(client->latest(), first_state);
}

TEST(Arena, the_state_holds_every_player_and_drone_quantized_also_in_a_recycled_state) {
  Config config;
  config.drones = 5;
  World world(config);
  for (const PlayerId id : {3u, 1u, 7u})
    world.add_player(id);
  std::map<PlayerId, PlayerInput> inputs;
  inputs[1].move_x = 1;
  inputs[7].move_y = -1;
  for (int t = 0; t < 30; ++t)
    world.step(inputs);
  const tickwire::sim::WorldState fresh = world.state();
  ASSERT_EQ(fresh.size(), 3u + 5u);
  const std::vector<tickwire::sim::EntityId> ids = {1,
                                                    3,
                                                    7,
                                                    World::kFirstDrone,
                                                    World::kFirstDrone + 1,
                                                    World::kFirstDrone + 2,
                                                    World::kFirstDrone + 3,
                                                    World::kFirstDrone + 4};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(fresh.id_at(i), ids[i]) << i;
    EXPECT_EQ(fresh.at(i).type, i < 3 ? player_type() : drone_type()) << i;
  }
  const PlayerFields& pf = player_fields();
  for (const PlayerId id : {1u, 3u, 7u}) {
    const PlayerState* p = world.player(id);
    ASSERT_NE(p, nullptr);
    const auto entity = fresh.find(id);
    ASSERT_TRUE(entity);
    EXPECT_EQ(entity->fields[pf.x], schema().quantize(player_type(), pf.x, p->x)) << id;
    EXPECT_EQ(entity->fields[pf.y], schema().quantize(player_type(), pf.y, p->y)) << id;
    EXPECT_EQ(entity->fields[pf.health], schema().quantize(player_type(), pf.health, p->health));
  }
  // Into the buffers of a larger, older state: the same state, nothing of the old one left.
  World bigger(config);
  for (PlayerId id = 1; id <= 40; ++id)
    bigger.add_player(id);
  EXPECT_EQ(world.state(bigger.state()), fresh);
  EXPECT_THROW(world.add_player(World::kFirstDrone), std::invalid_argument)
      << "a player id among the drones' would break the state's id order";
}

}  // namespace
}  // namespace arena
