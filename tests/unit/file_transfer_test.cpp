// File transfer on the loopback network: what a game sees when it pushes, uploads, cancels and
// resumes files, and the policy a server applies to uploads.

#include <chrono>
#include <fstream>
#include <iterator>

#include "file_transfer_fixture.hpp"

namespace tickwire::net {
namespace {

using test::FileTransferTest;

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(chars.data());
  return {data, data + chars.size()};
}

void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

TEST_F(FileTransferTest, server_pushes_a_blob_that_arrives_whole_with_progress) {
  LoopbackConfig network;
  network.conditions = NetworkConditions::symmetric({.latency_ms = 20, .jitter_ms = 5});
  make(network);
  start_server_files(transfer_config());
  auto client = connect(transfer_config());  // no receive_directory: blobs in memory

  const auto data = test::pattern(7, 1024 * 1024 + 123);  // not a multiple of the chunk size
  auto id = server_files_->send_blob(last_peer(), data, "map.bin", "map");
  ASSERT_TRUE(id.ok()) << id.error();
  ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));

  const TransferEvent* received = client->side.last(TransferEventType::completed);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->id, *id);
  EXPECT_EQ(received->name, "map.bin");
  EXPECT_EQ(received->kind, "map");
  EXPECT_EQ(received->direction, TransferDirection::receiving);
  EXPECT_EQ(received->blob, data);
  EXPECT_EQ(received->total, data.size());
  ASSERT_NE(server_side_.last(TransferEventType::completed), nullptr);
  EXPECT_EQ(server_side_.last(TransferEventType::completed)->bytes_done, data.size());

  // Progress: more than one report on both sides, growing, with the total and a rate.
  for (const test::TransferSide* side : {&client->side, &server_side_}) {
    std::uint64_t previous = 0;
    std::size_t reports = 0;
    for (const TransferEvent& event : side->events) {
      if (event.type != TransferEventType::progress) continue;
      ++reports;
      EXPECT_GT(event.bytes_done, previous);
      EXPECT_EQ(event.total, data.size());
      EXPECT_GT(event.bytes_per_second, 0);
      previous = event.bytes_done;
    }
    EXPECT_GE(reports, 2u);
  }
  EXPECT_EQ(server_files_->active_transfers(), 0u);
  EXPECT_EQ(client->files->active_transfers(), 0u);
}

TEST_F(FileTransferTest, a_blob_handed_over_rather_than_copied_arrives_whole) {
  make({});
  start_server_files(transfer_config());
  auto client = connect(transfer_config());
  const auto data = test::pattern(3, 3 * 1024 * 1024 + 5);
  auto handed_over = data;
  auto id = client->files->send_blob(client->transport->server(), std::move(handed_over),
                                     "report.png", "report");
  ASSERT_TRUE(id.ok()) << id.error();
  ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));
  const TransferEvent* received = server_side_.last(TransferEventType::completed);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->id, *id);
  EXPECT_EQ(received->blob, data);
}

TEST_F(FileTransferTest, an_upload_takes_its_final_name_only_once_complete_and_verified) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 20})});
  start_server_files(receiving_config());
  FileTransferConfig client_config = transfer_config();
  client_config.window_chunks = 2;  // several round trips, so there is a half-way to look at
  auto client = connect(client_config);

  const auto data = test::pattern(3, 300 * 1024);
  ASSERT_TRUE(client->files->send_blob(client->transport->server(), data, "replay.twr", "replay"));
  // Half way, only the temporary file exists, under a hidden name.
  ASSERT_TRUE(run_until([&] {
    const auto* progress = server_side_.last(TransferEventType::progress);
    return progress != nullptr || server_side_.ended();
  }));
  ASSERT_FALSE(server_side_.ended());
  const auto partial = directory_.names();
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_NE(partial[0], "replay.twr");
  EXPECT_EQ(partial[0].front(), '.');

  ASSERT_TRUE(run_until([&] { return server_side_.ended() && client->side.ended(); }));
  const TransferEvent* done = server_side_.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->path, directory_.path() / "replay.twr");
  EXPECT_EQ(directory_.names(), std::vector<std::string>{"replay.twr"});
  EXPECT_EQ(read_file(done->path), data);
  EXPECT_NE(client->side.last(TransferEventType::completed), nullptr);
}

TEST_F(FileTransferTest, a_bandwidth_cap_paces_the_transfer) {
  make();
  FileTransferConfig capped = transfer_config();
  capped.max_bytes_per_second = 256 * 1024;
  start_server_files(capped);
  auto client = connect(transfer_config());

  const auto data = test::pattern(4, 512 * 1024);
  const std::uint64_t start_us = now_us_;
  ASSERT_TRUE(server_files_->send_blob(last_peer(), data, "mod.pak", "mod"));
  ASSERT_TRUE(run_until([&] { return client->side.ended(); }));
  ASSERT_NE(client->side.last(TransferEventType::completed), nullptr);
  // Simulated time: 512 KiB at 256 KiB/s cannot take less than about two seconds (one tenth of a
  // second's budget may be spent up front). Uncapped on this link it takes a few milliseconds.
  EXPECT_GE(now_us_ - start_us, 1'800'000u);
}

TEST_F(FileTransferTest, sender_cancel_ends_it_on_both_sides_and_leaves_no_file) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 10})});
  start_server_files(transfer_config());
  auto client = connect(receiving_config());

  auto id = server_files_->send_blob(last_peer(), test::pattern(1, 2 * 1024 * 1024), "a.bin", "x");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(run_until([&] { return client->side.count(TransferEventType::progress) > 0; }));
  ASSERT_TRUE(server_files_->cancel(*id));
  ASSERT_TRUE(run_until([&] { return client->side.ended(); }));

  for (const test::TransferSide* side : {&client->side, &server_side_}) {
    const TransferEvent* failed = side->last(TransferEventType::failed);
    ASSERT_NE(failed, nullptr);
    EXPECT_EQ(failed->error, TransferError::cancelled);
    EXPECT_EQ(side->count(TransferEventType::completed), 0u);
  }
  EXPECT_TRUE(directory_.names().empty());
  EXPECT_EQ(client->transport->state(), ClientState::connected);
  EXPECT_FALSE(server_files_->cancel(*id).ok());  // gone
}

TEST_F(FileTransferTest, receiver_cancel_stops_the_sender) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 10})});
  start_server_files(receiving_config());
  auto client = connect(transfer_config());

  auto id = client->files->send_blob(client->transport->server(), test::pattern(2, 2 << 20),
                                     "big.bin", "x");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(run_until([&] { return server_side_.count(TransferEventType::progress) > 0; }));
  ASSERT_TRUE(server_files_->cancel(*id));
  ASSERT_TRUE(run_until([&] { return client->side.ended(); }));
  run_for(100);

  ASSERT_NE(client->side.last(TransferEventType::failed), nullptr);
  EXPECT_EQ(client->side.last(TransferEventType::failed)->error, TransferError::cancelled);
  EXPECT_EQ(server_side_.last(TransferEventType::failed)->error, TransferError::cancelled);
  EXPECT_LT(client->files->counters().bytes_sent, 2u << 20);  // it stopped sending
  EXPECT_TRUE(directory_.names().empty());
  EXPECT_EQ(client->files->active_transfers(), 0u);
}

// The server's upload policy: each refusal reaches the uploader as its error, and the server
// counts it; the connection stays.
TEST_F(FileTransferTest, uploads_the_policy_refuses_fail_with_the_reason) {
  make();
  struct Case {
    std::function<void(TransferReceivePolicy&)> policy;
    std::uint64_t size;
    std::string kind;
    TransferError expected;
  };
  const std::vector<Case> cases = {
      {[](TransferReceivePolicy& p) { p.accept = false; }, 1000, "replay",
       TransferError::uploads_disabled},
      {[](TransferReceivePolicy& p) { p.max_file_size = 4096; }, 4097, "replay",
       TransferError::too_large},
      {[](TransferReceivePolicy& p) { p.allowed_kinds = {"replay"}; }, 1000, "map",
       TransferError::kind_not_allowed},
      // The loopback transport admits nobody with a ticket.
      {[](TransferReceivePolicy& p) { p.require_ticket = true; }, 1000, "replay",
       TransferError::not_authenticated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.expected)));
    server_.reset();
    make();
    FileTransferConfig server_config = receiving_config();
    c.policy(server_config.receive);
    start_server_files(server_config);
    server_side_.events.clear();
    clients_.clear();
    auto client = connect(transfer_config());

    ASSERT_TRUE(client->files->send_blob(client->transport->server(), test::pattern(5, c.size),
                                         "upload.bin", c.kind));
    ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));
    ASSERT_NE(client->side.last(TransferEventType::failed), nullptr);
    EXPECT_EQ(client->side.last(TransferEventType::failed)->error, c.expected);
    EXPECT_EQ(server_side_.last(TransferEventType::failed)->error, c.expected);
    EXPECT_EQ(server_files_->counters().failed_by_error[static_cast<std::size_t>(c.expected)], 1u);
    EXPECT_EQ(client->transport->state(), ClientState::connected);
    EXPECT_TRUE(directory_.names().empty());
    forget(*client);
  }
}

TEST_F(FileTransferTest, an_upload_within_the_policy_is_accepted) {
  make();
  FileTransferConfig server_config = transfer_config();
  server_config.receive.max_file_size = 4096;
  server_config.receive.allowed_kinds = {"replay"};
  start_server_files(server_config);
  auto client = connect(transfer_config());
  ASSERT_TRUE(client->files->send_blob(client->transport->server(), test::pattern(5, 4096),
                                       "ok.bin", "replay"));
  ASSERT_TRUE(run_until([&] { return client->side.ended(); }));
  EXPECT_NE(client->side.last(TransferEventType::completed), nullptr);
}

TEST_F(FileTransferTest, files_are_read_from_disk_and_an_unreadable_one_is_refused_up_front) {
  make();
  start_server_files(transfer_config());
  auto client = connect(receiving_config());

  test::TempDirectory source{"tickwire-files-source"};
  const auto data = test::pattern(9, 100'000);
  write_file(source.path() / "level.map", data);
  ASSERT_TRUE(server_files_->send_file(last_peer(), source.path() / "level.map", "map"));
  auto missing = server_files_->send_file(last_peer(), source.path() / "nope.map", "map");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope.map"), std::string::npos);

  ASSERT_TRUE(run_until([&] { return client->side.ended(); }));
  const TransferEvent* done = client->side.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(read_file(directory_.path() / "level.map"), data);
}

TEST_F(FileTransferTest, a_file_changed_while_it_is_sent_fails_rather_than_arriving_mixed) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 20})});
  start_server_files(transfer_config());
  auto client = connect(receiving_config());

  test::TempDirectory source{"tickwire-files-source"};
  const auto path = source.path() / "level.map";
  write_file(path, test::pattern(11, 1024 * 1024));
  ASSERT_TRUE(server_files_->send_file(last_peer(), path, "map"));
  ASSERT_TRUE(run_until([&] { return server_files_->counters().bytes_sent > 0; }));
  // The level is saved again, same size, new bytes. Its modification time is set a second on: a
  // save this soon after the first may fall in the same tick of the file system's clock.
  write_file(path, test::pattern(12, 1024 * 1024));
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(1));

  ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));
  ASSERT_NE(server_side_.last(TransferEventType::failed), nullptr);
  EXPECT_EQ(server_side_.last(TransferEventType::failed)->error, TransferError::io_error);
  ASSERT_NE(client->side.last(TransferEventType::failed), nullptr);
  EXPECT_EQ(client->side.last(TransferEventType::failed)->error, TransferError::io_error);
  EXPECT_LT(server_files_->counters().bytes_sent, 1024u * 1024u);
  EXPECT_TRUE(directory_.names().empty());
  EXPECT_EQ(client->transport->state(), ClientState::connected);
}

TEST(FileTransferConfigTest, invalid_fields_are_named) {
  FileTransferConfig config;
  EXPECT_TRUE(config.validate().ok());
  config.chunk_size = 100;
  EXPECT_NE(config.validate().message().find("chunk_size"), std::string::npos);
  config = {};
  config.paced_chunk_size = config.chunk_size + 1;
  EXPECT_NE(config.validate().message().find("paced_chunk_size"), std::string::npos);
  config = {};
  config.window_chunks = 0;
  EXPECT_NE(config.validate().message().find("window_chunks"), std::string::npos);
  config = {};
  config.max_bytes_per_second = 10;
  EXPECT_NE(config.validate().message().find("max_bytes_per_second"), std::string::npos);
  config = {};
  config.receive_directory = "/no/such/directory";
  EXPECT_NE(config.validate().message().find("receive_directory"), std::string::npos);
  config = {};
  config.receive.allowed_kinds = {""};
  EXPECT_NE(config.validate().message().find("allowed_kinds"), std::string::npos);

  auto network = LoopbackNetwork::create().value();
  auto server = network->make_server().value();
  config = {};
  config.max_transfers_per_peer = 0;
  auto made = FileTransfer::create(*server, config);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.error().find("max_transfers_per_peer"), std::string::npos);
}

}  // namespace
}  // namespace tickwire::net
