// What the lobby serves from a folder: which names are looked up at all, the Content-Type a file
// goes out with, and how a Range header is read. The end-to-end checks (curl against
// tickwire-server) are demo_replay_http and demo_served_files.

#include <gtest/gtest.h>

#include "lobby/served_folder.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::net::lobby_detail {
namespace {

TEST(ServedFolder, only_plain_safe_names_are_served_files) {
  for (const char* name : {"arena-dunes.v2.map", "mod_pack.zip", "README", "a", "1.0.tar.gz"}) {
    EXPECT_TRUE(is_served_file_name(name)) << name;
  }
  for (const char* name : {"", ".", "..", ".hidden", "a..b", "../x", "maps/inner.map", "a\\b",
                           "with space", "percent%2F", "tab\t"}) {
    EXPECT_FALSE(is_served_file_name(name)) << name;
  }
  EXPECT_TRUE(is_served_file_name(std::string(128, 'a')));
  EXPECT_FALSE(is_served_file_name(std::string(129, 'a')));
  EXPECT_FALSE(is_served_file_name(std::string("nul\0x", 5)));
}

TEST(ServedFolder, content_type_follows_the_extension_and_never_names_a_page) {
  EXPECT_EQ(content_type_for("motd.json"), "application/json");
  EXPECT_EQ(content_type_for("NOTES.TXT"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("shot.JPEG"), "image/jpeg");
  EXPECT_EQ(content_type_for("pack.zip"), "application/zip");
  EXPECT_EQ(content_type_for("pack.tar.gz"), "application/gzip");
  // Unknown, none, and types a browser would run as a page of the lobby's origin.
  for (const char* name :
       {"dunes.map", "README", "match.twreplay", "page.html", "icon.svg", "code.js", "x.htm"}) {
    EXPECT_EQ(content_type_for(name), "application/octet-stream") << name;
  }
}

TEST(ServedFolder, a_range_is_one_satisfiable_span_or_the_whole_file_or_416) {
  ByteRange range;
  EXPECT_EQ(parse_range("bytes=10-19", 100, range), RangeRequest::partial);
  EXPECT_EQ(range.first, 10u);
  EXPECT_EQ(range.last, 19u);
  EXPECT_EQ(parse_range("bytes=90-", 100, range), RangeRequest::partial);
  EXPECT_EQ(range.last, 99u);
  EXPECT_EQ(parse_range("bytes=-10", 100, range), RangeRequest::partial);
  EXPECT_EQ(range.first, 90u);
  EXPECT_EQ(parse_range("bytes=50-5000", 100, range), RangeRequest::partial);
  EXPECT_EQ(range.last, 99u);
  EXPECT_EQ(parse_range("bytes=100-", 100, range), RangeRequest::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 100, range), RangeRequest::whole);
  EXPECT_EQ(parse_range("items=0-1", 100, range), RangeRequest::whole);
  EXPECT_EQ(parse_range("bytes=9-1", 100, range), RangeRequest::whole);
  EXPECT_EQ(parse_range("bytes=x-1", 100, range), RangeRequest::whole);
}

}  // namespace
}  // namespace tickwire::net::lobby_detail
