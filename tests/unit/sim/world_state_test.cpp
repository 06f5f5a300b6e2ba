#include "tickwire/sim/world_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace tickwire::sim {
namespace {

WorldState assemble(std::vector<std::pair<EntityId, std::vector<std::uint32_t>>> entities,
                    WorldState recycled = {}) {
  WorldStateAssembler assembler(std::move(recycled));
  for (const auto& [id, fields] : entities)
    EXPECT_TRUE(assembler.append(id, static_cast<TypeId>(fields.size() % 2), fields));
  return assembler.finish();
}

TEST(WorldStateAssembler, builds_what_a_builder_builds_whatever_buffers_it_reuses) {
  const std::vector<std::pair<EntityId, std::vector<std::uint32_t>>> entities = {
      {3, {1, 2, 3}}, {7, {}}, {8, {4, 5, 6, 7, 8, 9, 10, 11}}, {40, {12}}};
  WorldState::Builder builder;
  for (const auto& [id, fields] : entities)
    builder.set(id, static_cast<TypeId>(fields.size() % 2), fields);
  const WorldState built = builder.build();

  EXPECT_EQ(assemble(entities), built);
  // A larger state's buffers, and a smaller one's, give the same state.
  WorldState larger = assemble({{1, std::vector<std::uint32_t>(8, 9)},
                                {2, std::vector<std::uint32_t>(8, 9)},
                                {5, std::vector<std::uint32_t>(8, 9)},
                                {6, std::vector<std::uint32_t>(8, 9)},
                                {9, std::vector<std::uint32_t>(8, 9)}});
  EXPECT_EQ(assemble(entities, std::move(larger)), built);
  EXPECT_EQ(assemble(entities, assemble({{1, {1}}})), built);
  // Room reserved for fewer or more than are appended changes nothing either.
  for (const std::size_t room : {2u, 40u}) {
    WorldStateAssembler reserved;
    reserved.reserve(room, room * 3);
    for (const auto& [id, fields] : entities)
      ASSERT_TRUE(reserved.append(id, static_cast<TypeId>(fields.size() % 2), fields));
    EXPECT_EQ(reserved.finish(), built) << room;
  }
  // And so does room made in reused buffers, before the first append or between appends.
  for (const std::size_t before : {0u, 2u}) {
    WorldStateAssembler reused(assemble({{1, {1}}, {2, {2, 3}}}));
    for (std::size_t i = 0; i < entities.size(); ++i) {
      if (i == before) reused.reserve(40, 120);
      const auto& [id, fields] = entities[i];
      ASSERT_TRUE(reused.append(id, static_cast<TypeId>(fields.size() % 2), fields));
    }
    EXPECT_EQ(reused.finish(), built) << before;
  }

  const WorldState state = assemble(entities);
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state.at(2).id, 8u);
  EXPECT_EQ(state.at(2).fields.size(), 8u);
  EXPECT_EQ(state.at(2).fields[7], 11u);
  EXPECT_TRUE(state.at(1).fields.empty());
  EXPECT_EQ(state.field_offset(4), 12u);
}

TEST(WorldState, predicted_fields_are_each_entitys_own_prediction_in_the_states_layout) {
  EntitySchema schema;
  const TypeId mover =
      schema.add({"mover",
                  {FieldSpec::real("x", -100, 100, 0.01).with_rate("vx"),
                   FieldSpec::real("vx", -10, 10, 0.01), FieldSpec::integer("health", 0, 100)}});
  const TypeId still = schema.add({"still", {FieldSpec::integer("team", 0, 3)}});
  ASSERT_TRUE(schema.validate().ok());
  WorldState::Builder builder;
  const double first[] = {-99.5, -3.25, 40};
  const double second[] = {10, 7.5, 100};
  const double team[] = {2};
  builder.set_values(schema, 4, mover, first);
  builder.set_values(schema, 9, still, team);
  builder.set_values(schema, 12, mover, second);
  const WorldState state = builder.build();

  for (const double elapsed : {0.0, 0.1, 2.0}) {
    std::vector<std::uint32_t> predicted = {7, 7};  // a reused buffer's old contents go
    state.predict_fields(schema, elapsed, predicted);
    ASSERT_EQ(predicted.size(), state.field_offset(state.size()));
    for (std::size_t i = 0; i < state.size(); ++i) {
      const WorldState::Entity entity = state.at(i);
      std::vector<std::uint32_t> own(entity.fields.size());
      schema.predict(entity.type, entity.fields, elapsed, own);
      EXPECT_TRUE(std::equal(own.begin(), own.end(), predicted.begin() + state.field_offset(i)))
          << "entity " << entity.id << " after " << elapsed << " s";
    }
  }
  const WorldState moved = state.predicted(schema, 2.0);
  ASSERT_EQ(moved.size(), state.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(moved.id_at(i), state.id_at(i));
    EXPECT_EQ(moved.field_offset(i), state.field_offset(i));
  }
  // The first mover ran into the end of its range: clamped there, as a client predicts it.
  EXPECT_EQ(moved.at(0).fields[0], 0u);
  EXPECT_NE(moved.at(2).fields[0], state.at(2).fields[0]);
  EXPECT_EQ(moved.at(1).fields[0], state.at(1).fields[0]);
}

TEST(WorldStateAssembler, an_id_out_of_order_is_refused_and_changes_nothing) {
  WorldStateAssembler assembler;
  const std::uint32_t fields[] = {1, 2};
  ASSERT_TRUE(assembler.append(5, 0, fields));
  EXPECT_FALSE(assembler.append(5, 0, fields));
  EXPECT_FALSE(assembler.append(4, 1, fields));
  const WorldState state = assembler.finish();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state.field_offset(1), 2u);
}

TEST(WorldStateAssembler, nothing_appended_is_an_empty_state_even_in_used_buffers) {
  EXPECT_EQ(WorldStateAssembler().finish(), WorldState());
  EXPECT_EQ(WorldStateAssembler(assemble({{1, {1, 2}}, {2, {3}}})).finish(), WorldState());
  EXPECT_EQ(WorldState().field_offset(0), 0u);
}

}  // namespace
}  // namespace tickwire::sim
