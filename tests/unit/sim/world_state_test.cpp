#include "tickwire/sim/world_state.hpp"

#include <gtest/gtest.h>

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

  const WorldState state = assemble(entities);
  ASSERT_EQ(state.size(), 4u);
  EXPECT_EQ(state.at(2).id, 8u);
  EXPECT_EQ(state.at(2).fields.size(), 8u);
  EXPECT_EQ(state.at(2).fields[7], 11u);
  EXPECT_TRUE(state.at(1).fields.empty());
  EXPECT_EQ(state.field_offset(4), 12u);
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
