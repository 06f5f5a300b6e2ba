// HttpFetch against the lobby's HTTP on loopback: the replay list into memory, a replay into a
// file that appears under its name only once whole, and the failures a menu shows (a missing
// replay, a body over max_bytes, a cancel), none of which leaves a file behind.

#include "tickwire/net/http_fetch.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "../support/temp_directory.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class HttpFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "served");
    fs::create_directories(root_ / "saved");
    replay_.resize(2 * 1024 * 1024 + 3);
    for (std::size_t i = 0; i < replay_.size(); ++i)
      replay_[i] = static_cast<char>((i * 2654435761u) >> 11);
    std::ofstream(root_ / "served" / "m-1.twreplay", std::ios::binary) << replay_;

    net::LobbyConfig config;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.port = 0;
    config.replay_directory = (root_ / "served").string();
    lobby_ = std::make_unique<net::LobbyServer>(config, net::JoinTicketIssuer::generate());
    const net::Status status = lobby_->start();
    ASSERT_TRUE(status.ok()) << status.message();
  }
  void TearDown() override { lobby_.reset(); }
  net::HttpFetchConfig fetch_config(std::string target) const {
    net::HttpFetchConfig config;
    config.port = lobby_->port();
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.target = std::move(target);
    return config;
  }
  static net::HttpFetch::Progress finish(net::HttpFetch& fetch) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (fetch.progress().state == net::HttpFetch::State::running &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    return fetch.progress();
  }

  const TempDirectory root_{"tickwire-fetch"};
  std::string replay_;
  std::unique_ptr<net::LobbyServer> lobby_;
};

TEST_F(HttpFetchTest, the_replay_list_arrives_in_memory_and_a_replay_in_its_file) {
  auto list = net::HttpFetch::start(fetch_config("/api/replays"));
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(finish(*list.value()).state, net::HttpFetch::State::done);
  EXPECT_NE(list.value()->body().find("\"url\":\"/replays/m-1.twreplay\""), std::string::npos)
      << list.value()->body();

  net::HttpFetchConfig config = fetch_config("/replays/m-1.twreplay");
  config.save_to = (root_ / "saved" / "m-1.twreplay").string();
  auto download = net::HttpFetch::start(config);
  ASSERT_TRUE(download.ok()) << download.error();
  const net::HttpFetch::Progress done = finish(*download.value());
  EXPECT_EQ(done.state, net::HttpFetch::State::done) << done.error;
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.bytes, replay_.size());
  EXPECT_EQ(done.total, replay_.size());
  EXPECT_TRUE(read_file(config.save_to) == replay_);
  EXPECT_FALSE(fs::exists(config.save_to + ".part"));
}

TEST_F(HttpFetchTest, a_missing_replay_an_oversize_body_and_a_cancel_leave_no_file) {
  net::HttpFetchConfig missing = fetch_config("/replays/none.twreplay");
  missing.save_to = (root_ / "saved" / "none.twreplay").string();
  auto fetch = net::HttpFetch::start(missing);
  ASSERT_TRUE(fetch.ok());
  net::HttpFetch::Progress progress = finish(*fetch.value());
  EXPECT_EQ(progress.state, net::HttpFetch::State::failed);
  EXPECT_EQ(progress.status, 404);
  EXPECT_NE(progress.error.find("404"), std::string::npos) << progress.error;

  net::HttpFetchConfig small = fetch_config("/replays/m-1.twreplay");
  small.save_to = (root_ / "saved" / "m-1.twreplay").string();
  small.max_bytes = 1024 * 1024;
  fetch = net::HttpFetch::start(small);
  ASSERT_TRUE(fetch.ok());
  progress = finish(*fetch.value());
  EXPECT_EQ(progress.state, net::HttpFetch::State::failed);
  EXPECT_NE(progress.error.find("max_bytes"), std::string::npos) << progress.error;

  net::HttpFetchConfig cancelled = fetch_config("/replays/m-1.twreplay");
  cancelled.save_to = small.save_to;
  fetch = net::HttpFetch::start(cancelled);
  ASSERT_TRUE(fetch.ok());
  fetch.value()->cancel();
  progress = finish(*fetch.value());
  // A cancel can come after the last byte on a fast machine: then the file is whole.
  if (progress.state == net::HttpFetch::State::done) {
    EXPECT_TRUE(read_file(cancelled.save_to) == replay_);
    fs::remove(cancelled.save_to);
  } else {
    EXPECT_EQ(progress.state, net::HttpFetch::State::cancelled);
  }
  fetch.value().reset();
  EXPECT_TRUE(fs::is_empty(root_ / "saved"));

  net::HttpFetchConfig bad = fetch_config("no-slash");
  const auto refused = net::HttpFetch::start(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("target"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace tickwire::test
