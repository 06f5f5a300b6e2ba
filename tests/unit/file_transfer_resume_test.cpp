// File transfers that survive a cut connection: both sides keep the transfer, the client
// reconnects with a new transport, and the transfer continues from the receiver's offset, the
// whole file's hash checked at the end. Also the 64 MiB case under loss and latency.

#include <fstream>
#include <map>

#include "file_transfer_fixture.hpp"

namespace tickwire::net {
namespace {

using test::FileTransferTest;

class FileTransferResumeTest : public FileTransferTest {
 protected:
  // Cuts the client's connection once the receiver has `cut_at` bytes of the transfer, then
  // reconnects it with a new transport (as a game does) and calls resume() on `resumer`.
  void cut_and_resume(Client& client, test::TransferSide& receiver, std::uint64_t cut_at,
                      bool client_resumes) {
    ASSERT_TRUE(run_until([&] {
      for (const TransferEvent& event : receiver.events) {
        if (event.type == TransferEventType::progress && event.bytes_done >= cut_at) {
          return true;
        }
      }
      return receiver.ended();
    }));
    ASSERT_FALSE(receiver.ended());
    client.transport->disconnect(client.transport->server(), DisconnectReason::closed);
    ASSERT_TRUE(run_until([&] {
      return client.side.count(TransferEventType::interrupted) == 1 &&
             server_side_.count(TransferEventType::interrupted) == 1;
    }));
    const TransferId id = client.side.last(TransferEventType::interrupted)->id;
    if (before_resume_) before_resume_(id);

    forget(client);
    client.transport = network_->make_client();
    client.files->use_transport(*client.transport);
    client.side.transport = client.transport.get();
    client.side.log = {};
    clients_.push_back(&client);
    const std::size_t before = server_side_.log.connected.size();
    ASSERT_TRUE(run_until([&] {
      return !client.side.log.connected.empty() && server_side_.log.connected.size() > before;
    }));
    if (client_resumes) {
      ASSERT_TRUE(client.files->resume(id, client.transport->server()));
    } else {
      ASSERT_TRUE(server_files_->resume(id, last_peer()));
    }
  }

  std::function<void(TransferId)> before_resume_;
};

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* data = reinterpret_cast<const std::byte*>(chars.data());
  return {data, data + chars.size()};
}

TEST_F(FileTransferResumeTest, an_upload_cut_at_half_resumes_from_the_confirmed_offset) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 30})});
  start_server_files(receiving_config());
  auto client = connect(transfer_config());

  const auto data = test::pattern(11, 3 * 1024 * 1024);
  ASSERT_TRUE(client->files->send_blob(client->transport->server(), data, "up.bin", "replay"));
  cut_and_resume(*client, server_side_, data.size() / 2, /*client_resumes=*/true);
  ASSERT_TRUE(run_until([&] { return server_side_.ended() && client->side.ended(); }));

  ASSERT_NE(server_side_.last(TransferEventType::completed), nullptr);
  EXPECT_EQ(read_file(directory_.path() / "up.bin"), data);
  ASSERT_NE(client->side.last(TransferEventType::completed), nullptr);
  // It went on from where it was: both sides restarted at half or more, and no byte was accepted
  // twice.
  for (const test::TransferSide* side : {&server_side_, &client->side}) {
    ASSERT_EQ(side->count(TransferEventType::started), 2u);
    EXPECT_GE(side->last(TransferEventType::started)->bytes_done, data.size() / 2);
  }
  EXPECT_EQ(server_files_->counters().bytes_received, data.size());
}

TEST_F(FileTransferResumeTest, a_push_resumed_by_the_server_is_checked_against_its_hash) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 30})});
  start_server_files(transfer_config());
  auto client = connect(receiving_config());

  const auto data = test::pattern(12, 2 * 1024 * 1024);
  ASSERT_TRUE(server_files_->send_blob(last_peer(), data, "map.bin", "map"));
  // While the connection is down, the partial file is damaged: the resumed transfer must not
  // deliver it.
  before_resume_ = [&](TransferId) {
    const auto names = directory_.names();
    ASSERT_EQ(names.size(), 1u);
    std::fstream part(directory_.path() / names[0],
                      std::ios::in | std::ios::out | std::ios::binary);
    part.seekp(1000);
    part.put('\x5a');
  };
  cut_and_resume(*client, client->side, data.size() / 2, /*client_resumes=*/false);
  ASSERT_TRUE(run_until([&] { return server_side_.ended() && client->side.ended(); }));

  ASSERT_NE(client->side.last(TransferEventType::failed), nullptr);
  EXPECT_EQ(client->side.last(TransferEventType::failed)->error, TransferError::hash_mismatch);
  EXPECT_EQ(server_side_.last(TransferEventType::failed)->error, TransferError::hash_mismatch);
  EXPECT_TRUE(directory_.names().empty());
  EXPECT_EQ(client->transport->state(), ClientState::connected);
}

TEST_F(FileTransferResumeTest, a_push_whose_chunks_shrank_when_a_match_began_resumes_intact) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 30})});
  start_server_files(transfer_config());
  auto client = connect(receiving_config());
  const auto data = test::pattern(14, 4 * 1024 * 1024);
  ASSERT_TRUE(server_files_->send_blob(last_peer(), data, "map.bin", "map"));
  // Alone (chunk_size chunks) for the first quarter, then beside a match (paced_chunk_size ones):
  // the partial file holds both when the connection is cut, and the receiver's file hash, taken
  // again from the partial file on the resume, must follow the chunks as they were.
  ASSERT_TRUE(
      run_until([&] { return client->files->counters().bytes_received >= data.size() / 4; }));
  const auto snapshot = test::bytes_of("snapshot");
  on_step_ = [&] {
    // Sent to whichever connection the client has (none while it is cut).
    if (now_us_ % 16'000 == 0)
      (void)server_->send(last_peer(), 0, Delivery::unreliable_sequenced, snapshot);
  };
  cut_and_resume(*client, client->side, data.size() * 3 / 4, /*client_resumes=*/true);
  ASSERT_TRUE(run_until([&] { return server_side_.ended() && client->side.ended(); }));

  ASSERT_NE(client->side.last(TransferEventType::completed), nullptr);
  EXPECT_EQ(read_file(directory_.path() / "map.bin"), data);
  const FileTransferCounters sent = server_files_->counters();
  const std::uint32_t large = transfer_config().chunk_size;
  const std::uint32_t small = transfer_config().paced_chunk_size;
  // Both kinds went: more bytes than small chunks carry, more chunks than large ones need.
  EXPECT_GT(sent.bytes_sent, sent.chunks_sent * small);
  EXPECT_GT(sent.chunks_sent, 2 * data.size() / large);
}

TEST_F(FileTransferResumeTest, an_interrupted_transfer_not_resumed_in_time_fails) {
  make();
  FileTransferConfig server_config = receiving_config();
  server_config.resume_timeout_ms = 5000;
  start_server_files(server_config);
  auto client = connect(transfer_config());
  ASSERT_TRUE(client->files->send_blob(client->transport->server(), test::pattern(1, 4 << 20),
                                       "up.bin", "replay"));
  ASSERT_TRUE(run_until([&] { return server_side_.count(TransferEventType::progress) > 0; }));
  client->transport->disconnect(client->transport->server(), DisconnectReason::closed);
  ASSERT_TRUE(run_until([&] { return server_side_.ended(); }, 10'000));
  EXPECT_EQ(server_side_.last(TransferEventType::failed)->error, TransferError::connection_lost);
  EXPECT_TRUE(directory_.names().empty());
}

// The case: 64 MiB under 5 % loss and 80 ms each way, cut at 50 % and resumed, while the
// server keeps sending snapshot-like gameplay messages. On the loopback network loss hits the
// unreliable gameplay traffic (reliable messages get the latency; ENet's retransmission is
// exercised in the ENet test), in simulated time: about a minute of it.
TEST_F(FileTransferResumeTest, sixty_four_mib_under_loss_and_latency_arrive_intact_after_a_cut) {
  const std::uint64_t seed = test::test_seed(13);
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric(
                          {.latency_ms = 80, .jitter_ms = 10, .loss = 0.05}, seed)});
  start_server_files(transfer_config());
  auto client = connect(receiving_config());

  test::TempDirectory source{"tickwire-files-source"};
  const auto data = test::pattern(static_cast<std::uint32_t>(seed), 64 * 1024 * 1024);
  {
    std::ofstream out(source.path() / "big.pak", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }
  // Gameplay: a 200-byte unreliable snapshot every 16 ms from the server to the connected client.
  std::map<PeerId, std::uint64_t> snapshots_sent;
  on_step_ = [&] {
    if (now_us_ % 16'000 != 0) return;
    const PeerId peer = last_peer();
    if (server_->send(peer, 0, Delivery::unreliable, test::pattern(1, 200)) == SendResult::ok) {
      ++snapshots_sent[peer];
    }
  };
  ASSERT_TRUE(server_files_->send_file(last_peer(), source.path() / "big.pak", "mod"));
  cut_and_resume(*client, client->side, data.size() / 2, /*client_resumes=*/true);
  ASSERT_TRUE(run_until([&] { return server_side_.ended() && client->side.ended(); }));

  const TransferEvent* done = client->side.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr) << "failed: "
                           << to_string(client->side.last(TransferEventType::failed)->error);
  EXPECT_EQ(read_file(done->path) == data, true);
  EXPECT_EQ(directory_.names(), std::vector<std::string>{"big.pak"});
  EXPECT_GE(client->side.last(TransferEventType::started)->bytes_done, data.size() / 2);
  EXPECT_EQ(client->files->counters().bytes_received, data.size());
  // Gameplay kept flowing beside it: of the snapshots sent to the connection that finished the
  // transfer about 95 % arrive (5 % loss, a few still in flight); far fewer would mean the
  // transfer held them up.
  std::uint64_t received = 0;
  for (const auto& message : client->side.log.messages)
    received += message.channel == 0;
  const std::uint64_t sent = snapshots_sent[last_peer()];
  EXPECT_GT(sent, 100u);
  EXPECT_GE(static_cast<double>(received), 0.85 * static_cast<double>(sent));
}

}  // namespace
}  // namespace tickwire::net
