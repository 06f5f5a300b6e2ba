#include "tickwire/sim/entity_schema.hpp"

#include <gtest/gtest.h>

#include <numbers>

namespace tickwire::sim {
namespace {

TEST(EntitySchema, real_fields_keep_their_precision_and_clamp) {
  EntitySchema schema;
  const TypeId type = schema.add({"ball", {FieldSpec::real("x", -100, 100, 0.01)}});
  ASSERT_TRUE(schema.validate().ok()) << schema.validate().message();
  EXPECT_EQ(schema.field_bits(type, 0), 15u);  // 20001 steps
  for (const double x : {-100.0, -3.14159, 0.0, 42.424242, 99.995}) {
    EXPECT_NEAR(schema.dequantize(type, 0, schema.quantize(type, 0, x)), x, 0.005);
  }
  EXPECT_DOUBLE_EQ(schema.dequantize(type, 0, schema.quantize(type, 0, 1e9)), 100.0);
  EXPECT_DOUBLE_EQ(schema.dequantize(type, 0, schema.quantize(type, 0, -1e9)), -100.0);
}

TEST(EntitySchema, fields_are_found_by_name_and_unknown_names_give_nothing) {
  EntitySchema schema;
  const TypeId ball =
      schema.add({"ball", {FieldSpec::real("x", -1, 1, 0.1), FieldSpec::boolean("on")}});
  const TypeId flag = schema.add({"flag", {FieldSpec::boolean("on")}});
  ASSERT_TRUE(schema.validate().ok()) << schema.validate().message();
  EXPECT_EQ(schema.find_field(ball, "on"), 1u);
  EXPECT_EQ(schema.find_field(flag, "on"), 0u);
  EXPECT_EQ(schema.find_field(ball, "x"), 0u);
  EXPECT_FALSE(schema.find_field(flag, "x"));  // another type's field
  EXPECT_FALSE(schema.find_field(ball, "X"));  // names are exact
  EXPECT_FALSE(schema.find_field(7, "x"));     // no such type
}

TEST(EntitySchema, angles_wrap_around) {
  EntitySchema schema;
  const TypeId type = schema.add({"turret", {FieldSpec::angle("yaw", 2 * std::numbers::pi / 256)}});
  EXPECT_EQ(schema.field_bits(type, 0), 8u);
  EXPECT_EQ(schema.quantize(type, 0, 2 * std::numbers::pi), 0u);
  EXPECT_EQ(schema.quantize(type, 0, -std::numbers::pi / 2), 192u);
  EXPECT_NEAR(schema.dequantize(type, 0, schema.quantize(type, 0, 1.0)), 1.0, 0.0125);
}

TEST(EntitySchema, integers_and_booleans) {
  EntitySchema schema;
  const TypeId type =
      schema.add({"player", {FieldSpec::integer("health", 0, 100), FieldSpec::boolean("alive")}});
  EXPECT_EQ(schema.field_bits(type, 0), 7u);
  EXPECT_EQ(schema.field_bits(type, 1), 1u);
  EXPECT_EQ(schema.dequantize(type, 0, schema.quantize(type, 0, 73)), 73);
  EXPECT_EQ(schema.quantize(type, 1, 1), 1u);
}

// validate() is what every factory taking a schema checks (in Release builds too): it names the
// type, the field, the values and the rule.
TEST(EntitySchema, invalid_fields_are_named_with_their_values_in_validate) {
  EntitySchema schema;
  schema.add({"bad", {FieldSpec::real("x", 10, 0, 0.1)}});
  EXPECT_EQ(schema.validate().message(),
            "entity type 'bad' field 'x': precision = 0.1, min = 10, max = 0 is invalid: use "
            "precision > 0 and max > min");
  // The first error is kept: a later good type does not hide it, a later bad one does not
  // replace it.
  schema.add({"good", {FieldSpec::boolean("on")}});
  schema.add({"worse", {FieldSpec::angle("heading", 0)}});
  EXPECT_NE(schema.validate().message().find("'bad' field 'x'"), std::string::npos)
      << schema.validate().message();
  EntitySchema no_turn;
  no_turn.add({"turret", {FieldSpec::angle("heading", 7)}});
  EXPECT_NE(no_turn.validate().message().find("'turret' field 'heading': precision = 7"),
            std::string::npos)
      << no_turn.validate().message();
  EntitySchema too_fine;
  too_fine.add({"fine", {FieldSpec::real("x", -1e9, 1e9, 1e-9)}});
  EXPECT_NE(too_fine.validate().message().find("32 bits"), std::string::npos)
      << too_fine.validate().message();
}

}  // namespace
}  // namespace tickwire::sim
