// File transfer over real ENet through the link simulator: an upload by a player admitted with a
// join ticket, under loss, with gameplay beside it, cut half way and resumed from a new
// connection of the same player; and an upload that keeps the transport's send queue within
// max_queued_bytes.

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "../support/temp_directory.hpp"
#include "../support/transfer_pump.hpp"
#include "enet_fixture.hpp"
#include "tickwire/net/file_transfer.hpp"
#include "transfer/transfer_codec.hpp"

namespace tickwire::test {
namespace {

using net::TransferEventType;

class FileTransferEnetTest : public EnetTest {
 protected:
  const TempDirectory directory_{"tickwire-enet-files"};
};

TEST_F(FileTransferEnetTest, a_ticketed_upload_under_loss_survives_a_cut_and_gameplay_flows) {
  // Short timeouts: a DISCONNECT lost to the simulated loss is noticed in seconds.
  net::EnetServerConfig enet_config;
  enet_config.common = fast_common();
  start_server(enet_config);
  simulate(net::NetworkConditions::symmetric({.latency_ms = 10, .loss = 0.05}, test_seed(31)));

  net::FileTransferConfig server_config;
  server_config.receive_directory = directory_.path();
  server_config.receive.require_ticket = true;
  server_config.receive.allowed_kinds = {"replay"};
  server_config.progress_interval_ms = 20;
  auto server_files = std::move(net::FileTransfer::create(*server_, server_config).value());
  TransferSide server_side{server_.get(), server_files.get()};

  net::EnetClientConfig client_config;
  client_config.common = fast_common();
  add_ticket(client_config, 42);
  EventLog connect_log;
  auto client = connect_client(connect_log, client_config);
  ASSERT_NE(client, nullptr);
  // Capped at 1 MiB/s so that the cut comes while chunks are still being sent.
  net::FileTransferConfig files_config;
  files_config.max_bytes_per_second = 1024 * 1024;
  auto client_files = std::move(net::FileTransfer::create(*client, files_config).value());
  TransferSide client_side{client.get(), client_files.get()};

  const auto data = pattern(5, 1024 * 1024);
  auto id = client_files->send_blob(client->server(), data, "match.replay", "replay");
  ASSERT_TRUE(id.ok()) << id.error();

  // Gameplay on channel 0 while the transfer runs.
  std::uint32_t gameplay_sent = 0;
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] {
        if (client->send(0, net::Delivery::reliable_ordered, numbered(gameplay_sent, 64)) ==
            net::SendResult::ok) {
          ++gameplay_sent;
        }
        const auto* progress = server_side.last(TransferEventType::progress);
        return server_side.ended() ||
               (progress != nullptr && progress->bytes_done >= data.size() / 2);
      },
      std::chrono::seconds(60)));
  ASSERT_FALSE(server_side.ended());
  // Gameplay got through beside the transfer, in order.
  const std::size_t gameplay_received = server_side.log.messages.size();
  EXPECT_GT(gameplay_received, 0u);
  for (std::uint32_t i = 0; i < gameplay_received; ++i) {
    EXPECT_EQ(number_of(server_side.log.messages[i].bytes), i);
  }

  // The cut: the link goes dead with chunks in flight, both sides time out; the link comes back
  // and the same player reconnects with a new ticket and a new transport.
  link_->set_conditions(net::NetworkConditions::symmetric({.loss = 1.0}));
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] {
        return server_side.count(TransferEventType::interrupted) == 1 &&
               client_side.count(TransferEventType::interrupted) == 1;
      },
      std::chrono::seconds(20)))
      << "interrupted: server " << server_side.count(TransferEventType::interrupted) << ", client "
      << client_side.count(TransferEventType::interrupted);
  client.reset();
  link_->set_conditions(net::NetworkConditions::symmetric({.latency_ms = 10, .loss = 0.05}));
  net::EnetClientConfig again;
  again.common = fast_common();
  add_ticket(again, 42);
  EventLog reconnect_log;
  client = connect_client(reconnect_log, again);
  ASSERT_NE(client, nullptr);
  client_files->use_transport(*client);
  client_side.transport = client.get();
  ASSERT_TRUE(client_files->resume(*id, client->server()));

  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side}, [&] { return server_side.ended() && client_side.ended(); },
      std::chrono::seconds(60)));
  const net::TransferEvent* done = server_side.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr) << net::to_string(server_side.last(TransferEventType::failed)->error);
  std::ifstream in(done->path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(chars.size(), data.size());
  EXPECT_EQ(std::memcmp(chars.data(), data.data(), data.size()), 0);
  EXPECT_GE(server_side.last(TransferEventType::started)->bytes_done, data.size() / 2);
  EXPECT_NE(client_side.last(TransferEventType::completed), nullptr);
}

TEST_F(FileTransferEnetTest, an_upload_parks_no_more_than_max_queued_bytes_in_the_transport) {
  // With 20 ms each way, ENet's acknowledgements come back slowly: without the bound the whole
  // window (1 MiB here) would wait in the client's send queue, and gameplay behind it.
  net::EnetServerConfig enet_config;
  enet_config.common = fast_common();
  start_server(enet_config);
  simulate(net::NetworkConditions::symmetric({.latency_ms = 20}, test_seed(37)));
  auto server_files = std::move(net::FileTransfer::create(*server_, {}).value());
  TransferSide server_side{server_.get(), server_files.get()};

  net::EnetClientConfig client_config;
  client_config.common = fast_common();
  add_ticket(client_config, 7);
  EventLog connect_log;
  auto client = connect_client(connect_log, client_config);
  ASSERT_NE(client, nullptr);
  net::FileTransferConfig files_config;
  files_config.window_chunks = 64;
  files_config.max_queued_bytes = 64 * 1024;
  auto client_files = std::move(net::FileTransfer::create(*client, files_config).value());
  TransferSide client_side{client.get(), client_files.get()};

  const auto data = pattern(9, 3 * 1024 * 1024);
  ASSERT_TRUE(client_files->send_blob(client->server(), data, "map.bin", "map").ok());
  std::uint64_t most_queued = 0;
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] {
        if (const auto stats = client->stats(client->server())) {
          most_queued = std::max(most_queued, stats->bytes_queued);
        }
        return server_side.ended() && client_side.ended();
      },
      std::chrono::seconds(60)));
  const net::TransferEvent* done = server_side.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->blob, data);
  // The bound is checked before each chunk, so one chunk (with its framing and seal) may pass it.
  EXPECT_LE(most_queued, files_config.max_queued_bytes + files_config.chunk_size + 1024);
  EXPECT_GT(most_queued, 0u);  // the reading saw the queue at all
}

TEST_F(FileTransferEnetTest, a_bulk_upload_fills_whole_datagrams_with_its_chunks) {
  // ENet splits a large message into fragments of fragment_payload_bytes: a chunk message that
  // spills a few bytes into one more fragment costs a whole datagram for them. Alone on its
  // connection the upload sends chunk_size chunks, cut to fill their datagrams.
  start_server();
  auto server_files = std::move(net::FileTransfer::create(*server_, {}).value());
  TransferSide server_side{server_.get(), server_files.get()};
  EventLog connect_log;
  auto client = connect_client(connect_log);
  ASSERT_NE(client, nullptr);
  auto client_files = std::move(net::FileTransfer::create(*client, {}).value());
  TransferSide client_side{client.get(), client_files.get()};

  const auto data = pattern(5, 1024 * 1024);
  ASSERT_TRUE(client_files->send_blob(client->server(), data, "mod.bin", "mod").ok());
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side}, [&] { return server_side.ended() && client_side.ended(); },
      std::chrono::seconds(60)));
  const net::TransferEvent* done = server_side.last(TransferEventType::completed);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->blob, data);

  const auto stats = client->stats(client->server());
  ASSERT_TRUE(stats.has_value());
  // ENet's fragment: the MTU less its header (4), Tickwire's tag (4) and the fragment command (24).
  ASSERT_EQ(stats->fragment_payload_bytes, stats->mtu - 32);
  EXPECT_EQ(stats->message_overhead_bytes, 19u);  // the seal: 3-byte counter and 16-byte tag
  const std::size_t per_datagram = stats->fragment_payload_bytes;
  // The chunks of more than one datagram: not the offer, nor any paced chunk sent before the
  // transfer found the connection to itself.
  std::vector<std::size_t> chunks;
  std::copy_if(server_side.transfer_message_sizes.begin(), server_side.transfer_message_sizes.end(),
               std::back_inserter(chunks), [&](std::size_t size) { return size > per_datagram; });
  ASSERT_GT(chunks.size(), 50u);
  chunks.pop_back();  // the last chunk is as long as what remained
  for (const std::size_t size : chunks) {
    const std::size_t on_wire = size + stats->message_overhead_bytes;
    const std::size_t datagrams = (on_wire + per_datagram - 1) / per_datagram;
    // Full but for what the encoding bound leaves free (16 KiB chunks spilled 150-odd bytes into
    // a 13th datagram of 1,368).
    EXPECT_GE(on_wire + net::transfer_detail::kMaxChunkEncodingBytes, datagrams * per_datagram)
        << "a chunk message of " << size << " bytes spills into datagram " << datagrams;
  }
}

TEST_F(FileTransferEnetTest, another_player_cannot_take_over_an_interrupted_upload) {
  start_server();
  net::FileTransferConfig server_config;
  server_config.receive_directory = directory_.path();
  server_config.receive.require_ticket = true;
  auto server_files = std::move(net::FileTransfer::create(*server_, server_config).value());
  TransferSide server_side{server_.get(), server_files.get()};

  // Player 7 uploads slowly (a bandwidth cap), and its connection drops part way.
  net::FileTransferConfig client_config;
  client_config.max_bytes_per_second = 32 * 1024;
  net::EnetClientConfig first_config;
  add_ticket(first_config, 7);
  EventLog first_log;
  auto first = connect_client(first_log, first_config);
  auto client_files = std::move(net::FileTransfer::create(*first, client_config).value());
  TransferSide client_side{first.get(), client_files.get()};
  const auto data = pattern(1, 128 * 1024);
  auto id = client_files->send_blob(first->server(), data, "a.replay", "replay");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] { return server_side.count(TransferEventType::progress) > 0; },
      std::chrono::seconds(20)));
  first->disconnect(first->server(), net::DisconnectReason::closed);
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] {
        return server_side.count(TransferEventType::interrupted) == 1 &&
               client_side.count(TransferEventType::interrupted) == 1;
      },
      std::chrono::seconds(20)));

  // Player 8 has learnt the id and size, and offers to go on with it.
  net::EnetClientConfig thief_config;
  add_ticket(thief_config, 8);
  EventLog thief_log;
  auto thief = connect_client(thief_log, thief_config);
  net::transfer_detail::Offer offer;
  offer.id = *id;
  offer.name = "a.replay";
  offer.kind = "replay";
  offer.size = data.size();
  offer.chunk_size = client_config.chunk_size;
  ASSERT_EQ(thief->send(1, net::Delivery::reliable_ordered, net::transfer_detail::encode(offer)),
            net::SendResult::ok);
  thief->flush();
  ASSERT_TRUE(pump_sides_until(
      {&server_side}, [&] { return server_files->counters().dropped_unknown == 1; },
      std::chrono::seconds(20)));
  EXPECT_EQ(server_side.count(TransferEventType::started), 1u);  // not resumed for the thief

  // Player 7 comes back and finishes it.
  net::EnetClientConfig again;
  add_ticket(again, 7);
  EventLog again_log;
  auto second = connect_client(again_log, again);
  client_files->use_transport(*second);
  client_side.transport = second.get();
  ASSERT_TRUE(client_files->resume(*id, second->server()));
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side}, [&] { return server_side.ended() && client_side.ended(); },
      std::chrono::seconds(30)));
  EXPECT_NE(server_side.last(TransferEventType::completed), nullptr);
  EXPECT_EQ(thief->state(), net::ClientState::connected);
}

}  // namespace
}  // namespace tickwire::test
