// The pin file of LAN server keys: what it accepts, what it refuses (naming the line), and that
// what it writes reads back the same.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/temp_directory.hpp"
#include "discovery/server_pins.hpp"

namespace tickwire::test {
namespace {

using net::discovery_detail::ServerPins;

net::ServerPublicKey key_of(std::uint8_t first) {
  net::ServerPublicKey key{};
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<std::uint8_t>(first + i);
  return key;
}

constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(ServerPins, reads_keys_and_names_with_spaces_skipping_comments_and_blank_lines) {
  const std::string text = std::string("# pinned\n\n") + kKeyHex + " Tickwire Arena\r\n" +
                           "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF x";
  auto pins = ServerPins::parse(text);
  ASSERT_TRUE(pins.ok()) << pins.error();
  EXPECT_EQ(pins->size(), 2u);
  ASSERT_NE(pins->key_for("Tickwire Arena"), nullptr);
  EXPECT_EQ(*pins->key_for("Tickwire Arena"), key_of(0));
  ASSERT_NE(pins->key_for("x"), nullptr);
  EXPECT_EQ(*pins->key_for("x"), key_of(0xA0));
  EXPECT_EQ(pins->key_for("Tickwire"), nullptr);
}

TEST(ServerPins, a_bad_line_is_refused_with_its_number) {
  const std::string valid = std::string(kKeyHex) + " Arena\n";
  const std::string short_key = std::string(kKeyHex).substr(2) + " Arena\n";
  const std::string not_hex = "zz" + std::string(kKeyHex).substr(2) + " Arena\n";
  const std::string no_name = std::string(kKeyHex) + "\n";
  const std::string long_name = std::string(kKeyHex) + " " + std::string(65, 'n') + "\n";
  const std::string control = std::string(kKeyHex) + " tab\there\n";
  for (const std::string& bad : {short_key, not_hex, no_name, long_name, control}) {
    auto pins = ServerPins::parse("# header\n" + valid + bad);
    ASSERT_FALSE(pins.ok()) << bad;
    EXPECT_NE(pins.error().find("line 3"), std::string::npos) << pins.error();
  }
  auto twice = ServerPins::parse(valid + valid);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().find("pinned twice"), std::string::npos) << twice.error();
}

TEST(ServerPins, a_name_keeps_its_first_key) {
  ServerPins pins;
  EXPECT_TRUE(pins.add("Arena", key_of(1)).ok());
  EXPECT_TRUE(pins.add("Arena", key_of(1)).ok()) << "the same key again is fine";
  const net::Status other = pins.add("Arena", key_of(2));
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.message().find("another key"), std::string::npos);
  EXPECT_EQ(*pins.key_for("Arena"), key_of(1));
  EXPECT_FALSE(pins.add("line\nbreak", key_of(3)).ok());
}

TEST(ServerPins, what_is_saved_loads_back_and_a_missing_file_holds_no_pins) {
  const TempDirectory directory("tickwire-pins-unit");
  const std::filesystem::path path = directory / "pins";
  auto empty = ServerPins::load(path.string());
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty->size(), 0u);

  ServerPins pins;
  ASSERT_TRUE(pins.add("Arena one", key_of(1)).ok());
  ASSERT_TRUE(pins.add("Arena # two", key_of(9)).ok());
  ASSERT_TRUE(pins.save(path.string()).ok());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = ServerPins::load(path.string());
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->size(), 2u);
  EXPECT_EQ(*loaded->key_for("Arena one"), key_of(1));
  EXPECT_EQ(*loaded->key_for("Arena # two"), key_of(9));
}

}  // namespace
}  // namespace tickwire::test
