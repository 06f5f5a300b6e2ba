#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tickwire/sim/entity_schema.hpp"

namespace tickwire::sim {
namespace {

std::vector<std::byte> read_file(const char* path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
  return {data, data + bytes.size()};
}

TEST(EntitySchemaFromFlatBuffers, tables_marked_as_entities_become_types_with_their_fields) {
  const auto bfbs = read_file(TICKWIRE_TEST_ENTITIES_BFBS);
  ASSERT_FALSE(bfbs.empty());
  const EntitySchema schema = EntitySchema::from_flatbuffers(bfbs);
  ASSERT_TRUE(schema.validate().ok()) << schema.validate().message();
  ASSERT_EQ(schema.type_count(), 2u);
  const EntityType& drone = schema.type(0);
  EXPECT_EQ(drone.name, "game.Drone");
  ASSERT_EQ(drone.fields.size(), 5u);
  EXPECT_EQ(drone.fields[0].name, "x");  // declaration order, not alphabetical
  EXPECT_EQ(drone.fields[0].rate_field, "vx");
  EXPECT_EQ(drone.fields[2].kind, FieldKind::angle);
  EXPECT_EQ(drone.fields[3].kind, FieldKind::integer);
  EXPECT_EQ(schema.field_bits(0, 3), 7u);  // 0..100
  EXPECT_EQ(drone.fields[4].kind, FieldKind::boolean);
  EXPECT_EQ(schema.type(1).name, "game.Pickup");
  EXPECT_EQ(schema.field_bits(1, 0), 3u);
}

TEST(EntitySchemaFromFlatBuffers, garbage_is_refused_with_a_message) {
  const std::vector<std::byte> garbage(64, std::byte{0x5A});
  EXPECT_NE(EntitySchema::from_flatbuffers(garbage).validate().message().find(
                "binary FlatBuffers schema"),
            std::string::npos);
}

}  // namespace
}  // namespace tickwire::sim
