#include "snapshot_codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../../support/pump.hpp"
#include "test_world.hpp"

namespace tickwire::sim::detail {
namespace {

const EntitySchema kSchema = test::make_test_schema();
constexpr std::size_t kMaxEntities = 100000;

TEST(SnapshotCodec, full_snapshot_decodes_to_the_target) {
  test::TestWorld world(tickwire::test::test_seed(1), 200);
  const WorldState target = world.state(kSchema);
  const EncodedSnapshot encoded = encode_snapshot(kSchema, {}, 0, target, 0, nullptr);
  EXPECT_EQ(encoded.view, target);
  const auto decoded = decode_snapshot(kSchema, {}, 0, encoded.bytes, kMaxEntities);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, target);
}

TEST(SnapshotCodec, delta_equals_full_through_moves_births_deaths_and_type_changes) {
  test::TestWorld world(tickwire::test::test_seed(2), 100);
  WorldState baseline = world.state(kSchema);
  for (int tick = 0; tick < 300; ++tick) {
    world.step();
    WorldState target = world.state(kSchema);
    if (tick % 50 == 0) {
      // Entity 2 becomes a flag: same id, new type.
      WorldState::Builder builder;
      for (std::size_t i = 0; i < target.size(); ++i) {
        const auto e = target.at(i);
        if (e.id != 2) builder.set(e.id, e.type, e.fields);
      }
      const std::uint32_t flag[] = {1, 3};
      builder.set(2, 1, flag);
      target = builder.build();
    }
    const EncodedSnapshot encoded = encode_snapshot(kSchema, baseline, 0, target, 0, nullptr);
    ASSERT_EQ(encoded.view, target);
    ASSERT_TRUE(encoded.deferred.empty());
    const auto decoded = decode_snapshot(kSchema, baseline, 0, encoded.bytes, kMaxEntities);
    ASSERT_TRUE(decoded) << "tick " << tick;
    ASSERT_EQ(*decoded, target) << "tick " << tick;
    baseline = target;
  }
}

TEST(SnapshotCodec, a_type_with_the_most_fields_decodes_whichever_of_them_change) {
  // kMaxFields fields, narrow and wide, the last one included: the encoder keeps a bit per field.
  std::vector<FieldSpec> fields;
  for (std::size_t f = 0; f < EntitySchema::kMaxFields; ++f)
    fields.push_back(FieldSpec::integer(std::to_string(f), 0, f % 2 == 0 ? 3 : 100000));
  EntitySchema schema;
  const TypeId wide = schema.add({"wide", fields});
  ASSERT_TRUE(schema.validate().ok());
  std::mt19937 random(tickwire::test::test_seed(7));
  const auto state = [&](int changing_from) {
    WorldState::Builder builder;
    for (EntityId id = 1; id <= 20; ++id) {
      std::vector<std::uint32_t> values(EntitySchema::kMaxFields, 1);
      for (auto f = static_cast<std::size_t>(changing_from); f < values.size(); f += 3)
        values[f] = static_cast<std::uint32_t>(random() % (f % 2 == 0 ? 4 : 100001));
      builder.set(id, wide, values);
    }
    return builder.build();
  };
  WorldState baseline = state(0);
  for (int step = 0; step < 30; ++step) {
    const WorldState target = state(step % 3);
    const EncodedSnapshot encoded = encode_snapshot(schema, baseline, 0, target, 0, nullptr);
    ASSERT_EQ(encoded.view, target) << "step " << step;
    const auto decoded = decode_snapshot(schema, baseline, 0, encoded.bytes, kMaxEntities);
    ASSERT_TRUE(decoded) << "step " << step;
    ASSERT_EQ(*decoded, target) << "step " << step;
    baseline = target;
  }
}

TEST(SnapshotCodec, a_snapshot_that_skips_the_ranking_is_the_one_the_ranking_gives) {
  // With nothing waiting from the last snapshot the encoder measures everything unranked and
  // ranks only if not all of it fits; a waiting entry for an id that is not there changes no
  // priority but makes it rank first. Both must write the same snapshot, whether all fits or not.
  test::TestWorld world(tickwire::test::test_seed(11), 60);
  const auto priority = [](const WorldState::Entity& e) {
    return 1.0f + static_cast<float>(e.id % 5);
  };
  const EncodedSnapshot::Deferred absent[] = {{1'000'000, 0.0f}};
  WorldState baseline = world.state(kSchema);
  int all_fit = 0, some_wait = 0;
  for (int step = 0; step < 200; ++step) {
    world.step();
    const WorldState target = world.state(kSchema);
    const std::size_t budget = step % 2 == 0 ? 400 : 4000;
    EncodedSnapshot skipped, ranked;
    encode_snapshot(kSchema, baseline, 0, target, budget, priority, skipped);
    encode_snapshot(kSchema, baseline, 0, target, budget, priority, ranked, absent);
    ASSERT_EQ(skipped.bytes, ranked.bytes) << "step " << step;
    ASSERT_EQ(skipped.view, ranked.view) << "step " << step;
    ASSERT_EQ(skipped.included, ranked.included) << "step " << step;
    ASSERT_EQ(skipped.deferred.size(), ranked.deferred.size()) << "step " << step;
    for (std::size_t i = 0; i < ranked.deferred.size(); ++i) {
      EXPECT_EQ(skipped.deferred[i].id, ranked.deferred[i].id);
      EXPECT_EQ(skipped.deferred[i].priority, ranked.deferred[i].priority);
    }
    ++(ranked.deferred.empty() ? all_fit : some_wait);
    baseline = ranked.view;
  }
  // Both cases came up.
  EXPECT_GT(all_fit, 20);
  EXPECT_GT(some_wait, 20);
}

TEST(SnapshotCodec, unchanged_world_costs_almost_nothing) {
  test::TestWorld world(3, 900);
  const WorldState state = world.state(kSchema);
  const EncodedSnapshot encoded = encode_snapshot(kSchema, state, 0, state, 0, nullptr);
  // Two empty counts and a bit per type saying it has no deltas.
  EXPECT_EQ(encoded.bits, 2u + kSchema.type_count());
  EXPECT_EQ(*decode_snapshot(kSchema, state, 0, encoded.bytes, kMaxEntities), state);
}

TEST(SnapshotCodec, budget_defers_changes_by_priority_and_view_tracks_what_was_sent) {
  test::TestWorld world(4, 300);
  const WorldState target = world.state(kSchema);
  const auto priority = [](const WorldState::Entity& e) { return e.id % 7 == 0 ? 10.0f : 1.0f; };
  const EncodedSnapshot encoded = encode_snapshot(kSchema, {}, 0, target, 4000, priority);
  EXPECT_LE(encoded.bits, 4000u);
  EXPECT_GT(encoded.bits, 3800u) << "the budget should be nearly used";
  EXPECT_FALSE(encoded.deferred.empty());
  EXPECT_EQ(encoded.included.size() + encoded.deferred.size(), target.size());
  // Every high-priority entity made it before any other.
  for (const EncodedSnapshot::Deferred& waiting : encoded.deferred) {
    EXPECT_NE(waiting.id % 7, 0u) << waiting.id;
    EXPECT_EQ(waiting.priority, 1.0f);  // as the priority function said, for the next snapshot
  }
  const auto decoded = decode_snapshot(kSchema, {}, 0, encoded.bytes, kMaxEntities);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, encoded.view);
  EXPECT_EQ(decoded->size(), encoded.included.size());
}

TEST(SnapshotCodec, budgeted_delta_fits_decodes_to_its_view_and_defers_the_rest_in_id_order) {
  // Hundreds of changes against a baseline and room for a few dozen: only the changes that may
  // fit are measured, and the delta header is chosen from them alone, so an entity coded under
  // it must come from them (a field marked always-changed must really have changed).
  test::TestWorld world(6, 400);
  const WorldState baseline = world.state(kSchema);
  for (int i = 0; i < 30; ++i)
    world.step();
  const WorldState target = world.state(kSchema);
  const auto priority = [](const WorldState::Entity& e) {
    return 1.0f + static_cast<float>(e.id % 13);
  };
  constexpr std::size_t kBudget = 1280;  // the Arena server's 160 bytes
  const EncodedSnapshot encoded = encode_snapshot(kSchema, baseline, 0, target, kBudget, priority);
  EXPECT_LE(encoded.bits, kBudget);
  EXPECT_GT(encoded.bits, kBudget * 3 / 4) << "the budget should be mostly used";
  ASSERT_GT(encoded.deferred.size(), encoded.included.size());
  for (std::size_t i = 1; i < encoded.deferred.size(); ++i)
    ASSERT_LT(encoded.deferred[i - 1].id, encoded.deferred[i].id);
  const auto decoded = decode_snapshot(kSchema, baseline, 0, encoded.bytes, kMaxEntities);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, encoded.view);
  for (const EntityId id : encoded.included) {
    const auto sent = decoded->find(id);
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->fields[0], target.find(id)->fields[0]) << id;
  }
}

TEST(SnapshotCodec, decoder_refuses_too_many_entities) {
  test::TestWorld world(5, 50);
  const WorldState target = world.state(kSchema);
  const EncodedSnapshot encoded = encode_snapshot(kSchema, {}, 0, target, 0, nullptr);
  EXPECT_FALSE(decode_snapshot(kSchema, {}, 0, encoded.bytes, 10));
}

TEST(SnapshotCodec, truncated_and_garbage_bodies_are_refused_without_crashing) {
  test::TestWorld world(tickwire::test::test_seed(6), 60);
  const WorldState baseline = world.state(kSchema);
  world.step();
  world.step();
  const WorldState target = world.state(kSchema);
  const EncodedSnapshot encoded = encode_snapshot(kSchema, baseline, 0, target, 0, nullptr);
  for (std::size_t size = 0; size < encoded.bytes.size(); ++size) {
    // A truncated body must never decode to something else than... nothing, or (if the cut fell
    // into padding) the same state.
    const std::span<const std::uint8_t> cut(encoded.bytes.data(), size);
    const auto decoded = decode_snapshot(kSchema, baseline, 0, cut, kMaxEntities);
    if (decoded) {
      EXPECT_EQ(*decoded, target);
    }
  }
  std::mt19937_64 random(tickwire::test::test_seed(7));
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::uint8_t> garbage(random() % 200);
    for (auto& b : garbage)
      b = static_cast<std::uint8_t>(random());
    refused += decode_snapshot(kSchema, baseline, 0, garbage, kMaxEntities) ? 0 : 1;
  }
  EXPECT_GT(refused, 4500);
}

TEST(SnapshotCodec, entities_keeping_their_velocity_cost_nothing_and_turns_decode_exactly) {
  EntitySchema schema;
  schema.add({"ship",
              {FieldSpec::real("x", -1000, 1000, 0.01).with_rate("vx"),
               FieldSpec::real("y", -1000, 1000, 0.01).with_rate("vy"),
               FieldSpec::real("vx", -50, 50, 0.01), FieldSpec::real("vy", -50, 50, 0.01)}});
  ASSERT_TRUE(schema.validate().ok()) << schema.validate().message();
  const auto world_at = [&](double t, double turn) {
    WorldState::Builder builder;
    for (EntityId id = 1; id <= 100; ++id) {
      const double vx = 3.0 + id % 5, vy = -2.0 + turn * id;
      const double values[] = {vx * t, vy * t - 0.5 * turn * id * t * t, vx, vy};
      builder.set_values(schema, id, 0, values);
    }
    return builder.build();
  };
  // Steady motion: the baseline's velocities predict every position exactly (to rounding).
  const WorldState then = world_at(1.0, 0), now = world_at(1.25, 0);
  const EncodedSnapshot steady = encode_snapshot(schema, then, 0.25, now, 0, nullptr);
  EXPECT_LT(steady.bits, 100u * 4) << "at most a correction of rounding per moving entity";
  const auto decoded = decode_snapshot(schema, then, 0.25, steady.bytes, kMaxEntities);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, now);
  // Without the prediction the same change costs far more.
  const EncodedSnapshot plain = encode_snapshot(schema, then, 0, now, 0, nullptr);
  EXPECT_GT(plain.bits, steady.bits * 4);
  // Turning entities: prediction is off, deltas carry the difference, decode is exact.
  const WorldState turning = world_at(1.25, 0.3);
  const EncodedSnapshot turned = encode_snapshot(schema, then, 0.25, turning, 0, nullptr);
  EXPECT_EQ(*decode_snapshot(schema, then, 0.25, turned.bytes, kMaxEntities), turning);
}

TEST(SnapshotCodec, a_selection_of_a_world_encodes_exactly_as_a_copy_of_those_entities) {
  // A server encodes each client's part of the world through indices into it instead of a copy:
  // the bytes, the view, and what is included or waits must be what the copy gives, with rates,
  // a budget that defers most changes, priorities, and entities entering and leaving the part.
  EntitySchema schema;
  schema.add({"ship",
              {FieldSpec::real("x", -1000, 1000, 0.01).with_rate("vx"),
               FieldSpec::real("y", -1000, 1000, 0.01).with_rate("vy"),
               FieldSpec::real("vx", -50, 50, 0.01), FieldSpec::real("vy", -50, 50, 0.01),
               FieldSpec::integer("hp", 0, 100)}});
  ASSERT_TRUE(schema.validate().ok()) << schema.validate().message();
  const std::uint64_t seed = tickwire::test::test_seed(7);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(-1, 1);
  const EntityPriority priority = [](const WorldState::Entity& e) {
    return 1.0f + static_cast<float>(e.id % 7);
  };
  WorldState copied_baseline, selected_baseline;
  int compared = 0;
  for (int step = 1; step <= 40; ++step) {
    WorldState::Builder builder;
    for (EntityId id = 1; id <= 150; ++id) {
      const double t = step / 30.0;
      const double vx = 5 * std::sin(id + t), vy = 5 * std::cos(id * 0.5 + t);
      const double values[] = {id * 3.0 + vx * t, vy * t + unit(random) * 0.02, vx, vy,
                               static_cast<double>((id + step / 10) % 100)};
      builder.set_values(schema, id, 0, values);
    }
    const WorldState world = builder.build();
    std::vector<std::uint32_t> indices;  // a part that shifts as the steps go
    for (std::uint32_t i = 0; i < world.size(); ++i) {
      if ((i + static_cast<std::uint32_t>(step)) % 3 != 0) indices.push_back(i);
    }
    WorldStateAssembler assembler;
    for (const std::uint32_t i : indices) {
      const WorldState::Entity e = world.at(i);
      assembler.append(e.id, e.type, e.fields);
    }
    const WorldState part = assembler.finish();
    constexpr std::size_t kBudgetBits = 160 * 8;
    const EncodedSnapshot copy =
        encode_snapshot(schema, copied_baseline, 2 / 60.0, part, kBudgetBits, priority);
    const EncodedSnapshot selection =
        encode_snapshot(schema, selected_baseline, 2 / 60.0, EntitySelection(world, indices),
                        kBudgetBits, priority);
    ASSERT_EQ(selection.bytes, copy.bytes) << "step " << step << ", seed " << seed;
    ASSERT_EQ(selection.view, copy.view) << "step " << step << ", seed " << seed;
    ASSERT_EQ(selection.included, copy.included) << "step " << step;
    ASSERT_EQ(selection.deferred.size(), copy.deferred.size()) << "step " << step;
    for (std::size_t i = 0; i < copy.deferred.size(); ++i) {
      EXPECT_EQ(selection.deferred[i].id, copy.deferred[i].id);
      EXPECT_EQ(selection.deferred[i].priority, copy.deferred[i].priority);
    }
    EXPECT_FALSE(copy.deferred.empty()) << "the budget must leave changes waiting";
    const auto decoded =
        decode_snapshot(schema, selected_baseline, 2 / 60.0, selection.bytes, kMaxEntities);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, selection.view);
    copied_baseline = copy.view;
    selected_baseline = selection.view;
    ++compared;
  }
  EXPECT_EQ(compared, 40);
}

TEST(EntitySchemaRates, rate_must_name_another_real_field) {
  EntitySchema schema;
  schema.add({"bad", {FieldSpec::real("x", 0, 1, 0.1).with_rate("nope")}});
  EXPECT_NE(schema.validate().message().find("rate_field 'nope'"), std::string::npos)
      << schema.validate().message();
}

}  // namespace
}  // namespace tickwire::sim::detail
