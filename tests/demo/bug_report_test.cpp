// Bug reports over the game connection: a player's client sends a PNG (what F8 in the game's
// client saves) to the Arena server over real ENet on 127.0.0.1 while the match runs, and the
// server keeps it under its match, tick and player. Refused reports (too large, reports off) and
// one that is not a PNG cost the sender the report, never the match, and another player is not
// disturbed by any of it.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "arena_client.hpp"
#include "arena_server.hpp"
#include "ticketed_arena.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::ServerThread;
using test::TestLobby;
using tickwire::test::TempDirectory;

// `size` bytes that start as a PNG does (the server checks no more than that) or not.
std::vector<char> report_bytes(std::size_t size, bool png, unsigned seed) {
  std::vector<char> bytes(size);
  std::mt19937 random(seed);
  for (char& b : bytes)
    b = static_cast<char>(random());
  if (png) {
    constexpr std::array<char, 8> kSignature = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
    std::copy(kSignature.begin(), kSignature.end(), bytes.begin());
  }
  return bytes;
}

fs::path write_file(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::vector<char> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> files_in(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

// A reporter and an honest player in match 7 of a server with `config`, on this thread.
class BugReportTest : public ::testing::Test {
 protected:
  void start(ServerConfig config) {
    config.match_seconds = 120;
    auto started = ArenaServer::start(config);
    ASSERT_TRUE(started.ok()) << started.error();
    server_ = std::move(started.value());
    thread_ = std::make_unique<ServerThread>(*server_);
    reporter_ = connect(1);
    honest_ = connect(2);
    ASSERT_TRUE(reporter_ && honest_);
    ASSERT_TRUE(play_until([&] {
      return reporter_->net_graph().snapshots >= 10 && honest_->net_graph().snapshots >= 10;
    })) << "the players never got into the match";
  }
  std::unique_ptr<ArenaClient> connect(std::uint64_t player) {
    auto client = ArenaClient::connect(lobby_.client_config(player, server_->port()));
    EXPECT_TRUE(client.ok()) << client.error();
    return client.ok() ? std::move(client.value()) : nullptr;
  }
  // Runs both players' frames (every 10 ms, the reporter walking right) until `done` or a
  // generous deadline for a loaded machine.
  bool play_until(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(40);
    auto last = Clock::now();
    while (Clock::now() < deadline) {
      const auto now = Clock::now();
      reporter_->update(now - last, Intent{.move_x = 1});
      honest_->update(now - last, Intent{.move_y = 1});
      last = now;
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  bool report_ended() const {
    return reporter_->report().state == ReportProgress::State::sent ||
           reporter_->report().state == ReportProgress::State::failed;
  }
  // Stops the server's thread, so that its stats can be read.
  const ServerStats& stop_server() {
    thread_.reset();
    return server_->stats();
  }
  // Both players still in the match, the honest one receiving snapshots all along.
  void expect_both_still_playing(std::uint64_t honest_snapshots_before) {
    EXPECT_EQ(reporter_->phase(), ClientPhase::playing) << reporter_->disconnect_text();
    EXPECT_EQ(honest_->phase(), ClientPhase::playing) << honest_->disconnect_text();
    EXPECT_GT(honest_->net_graph().snapshots, honest_snapshots_before + 10);
  }

  TestLobby lobby_;
  TempDirectory folder_{"tickwire-arena-test"};
  std::unique_ptr<ArenaServer> server_;
  std::unique_ptr<ServerThread> thread_;
  std::unique_ptr<ArenaClient> reporter_;
  std::unique_ptr<ArenaClient> honest_;
};

TEST_F(BugReportTest, a_report_is_kept_under_its_match_tick_and_player_while_the_match_goes_on) {
  ServerConfig config = lobby_.server_config();
  config.reports_directory = (folder_.path() / "reports").string();
  std::vector<fs::path> told;
  config.on_report = [&](const fs::path& report) { told.push_back(report); };
  ASSERT_NO_FATAL_FAILURE(start(config));

  // 600 KiB: many chunks, sent while both players play.
  const std::vector<char> png = report_bytes(600 * 1024, /*png=*/true, 5);
  const fs::path sent = write_file(folder_.path() / "bug-report-1.png", png);
  const std::uint64_t honest_before = honest_->net_graph().snapshots;
  const std::uint64_t reporter_before = reporter_->net_graph().snapshots;
  ASSERT_TRUE(reporter_->send_report(sent).ok());
  EXPECT_EQ(reporter_->report().state, ReportProgress::State::sending);
  // One at a time.
  EXPECT_FALSE(reporter_->send_report(sent).ok());
  ASSERT_TRUE(play_until([&] { return report_ended(); }));
  EXPECT_EQ(reporter_->report().state, ReportProgress::State::sent) << reporter_->report().error;
  EXPECT_EQ(reporter_->report().bytes_done, png.size());
  play_until([&] { return honest_->net_graph().snapshots >= honest_before + 30; });

  const ServerStats& stats = stop_server();
  EXPECT_EQ(stats.reports_received, 1u);
  EXPECT_EQ(stats.reports_failed, 0u);
  const std::vector<fs::path> kept = files_in(config.reports_directory);
  ASSERT_EQ(kept.size(), 1u);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], kept[0]);
  const std::string name = kept[0].filename().string();
  EXPECT_TRUE(is_report_file_name(name)) << name;
  EXPECT_NE(name.find("-match-7-tick-"), std::string::npos) << name;
  EXPECT_TRUE(name.ends_with("-player-1.png")) << name;
  // The match's tick when it began: the match had run for a while by then.
  const std::size_t tick_at = name.find("-tick-") + 6;
  EXPECT_GT(std::stoul(name.substr(tick_at)), 10u) << name;
  EXPECT_EQ(read_file(kept[0]), png);
  EXPECT_TRUE(files_in(fs::path(config.reports_directory) / "incoming").empty());
  // The reporter played on through it too.
  EXPECT_GT(reporter_->net_graph().snapshots, reporter_before + 10);
  expect_both_still_playing(honest_before);
}

TEST_F(BugReportTest, a_report_too_large_or_not_a_png_is_refused_and_its_sender_plays_on) {
  ServerConfig config = lobby_.server_config();
  config.reports_directory = (folder_.path() / "reports").string();
  config.max_report_bytes = 64 * 1024;
  ASSERT_NO_FATAL_FAILURE(start(config));
  const std::uint64_t honest_before = honest_->net_graph().snapshots;

  // Over the size limit: refused before any of it is sent, with the reason.
  const fs::path large =
      write_file(folder_.path() / "large.png", report_bytes(100 * 1024, /*png=*/true, 6));
  ASSERT_TRUE(reporter_->send_report(large).ok());
  ASSERT_TRUE(play_until([&] { return report_ended(); }));
  EXPECT_EQ(reporter_->report().state, ReportProgress::State::failed);
  EXPECT_EQ(reporter_->report().error, net::describe(net::TransferError::too_large));

  // Not an image: it arrives, and is not kept.
  const fs::path text =
      write_file(folder_.path() / "notes.png", report_bytes(20 * 1024, /*png=*/false, 7));
  ASSERT_TRUE(reporter_->send_report(text).ok());
  ASSERT_TRUE(play_until([&] { return report_ended(); }));
  play_until([&] { return honest_->net_graph().snapshots >= honest_before + 30; });

  const ServerStats& stats = stop_server();
  EXPECT_EQ(stats.reports_received, 0u);
  EXPECT_EQ(stats.reports_failed, 2u);
  EXPECT_TRUE(files_in(config.reports_directory).empty());
  EXPECT_TRUE(files_in(fs::path(config.reports_directory) / "incoming").empty());
  expect_both_still_playing(honest_before);
}

TEST_F(BugReportTest, a_server_without_a_reports_folder_refuses_reports_saying_so) {
  ASSERT_NO_FATAL_FAILURE(start(lobby_.server_config()));  // reports_directory empty
  const std::uint64_t honest_before = honest_->net_graph().snapshots;
  const fs::path png =
      write_file(folder_.path() / "report.png", report_bytes(8 * 1024, /*png=*/true, 8));
  ASSERT_TRUE(reporter_->send_report(png).ok());
  ASSERT_TRUE(play_until([&] { return report_ended(); }));
  EXPECT_EQ(reporter_->report().state, ReportProgress::State::failed);
  EXPECT_EQ(reporter_->report().error, net::describe(net::TransferError::uploads_disabled));
  play_until([&] { return honest_->net_graph().snapshots >= honest_before + 30; });
  EXPECT_EQ(stop_server().reports_failed, 1u);
  expect_both_still_playing(honest_before);
}

TEST(BugReportConfig, a_bad_report_limit_is_refused_naming_the_field) {
  TestLobby lobby;
  ServerConfig config = lobby.server_config();
  config.max_report_bytes = 10;
  auto started = ArenaServer::start(config);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("max_report_bytes = 10"), std::string::npos) << started.error();
  config = lobby.server_config();
  config.keep_reports = 0;
  started = ArenaServer::start(config);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("keep_reports = 0"), std::string::npos) << started.error();
}

TEST(BugReportNames, only_names_the_server_gives_reports_count_as_reports) {
  EXPECT_TRUE(is_report_file_name("20261201-184500-123-match-7-tick-1234-player-42.png"));
  EXPECT_FALSE(is_report_file_name("20261201-184500-123-match-7.twreplay"));
  EXPECT_FALSE(is_report_file_name("../20261201-match-7-tick-1.png"));
  EXPECT_FALSE(is_report_file_name("notes.png"));
  EXPECT_FALSE(is_report_file_name(".x-match-1-tick-2.png.part"));
}

}  // namespace
}  // namespace arena
