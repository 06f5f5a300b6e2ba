// Pacing of file transfers: a transfer keeps about what the path holds in flight, so that a
// gameplay message sent while it runs is not stuck behind a backlog of chunks, and it still uses
// the path. On the loopback network with a hand-driven clock, and on simulated paths driven
// through the pacing alone.

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include "enet/datagram_inspector.hpp"
#include "enet/message_batch.hpp"
#include "file_transfer_fixture.hpp"
#include "session/session_crypto.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "transfer/send_pacing.hpp"
#include "transfer/transfer_codec.hpp"

namespace tickwire::net {
namespace {

using test::FileTransferTest;

TEST_F(FileTransferTest, a_gameplay_message_sent_during_a_push_arrives_ahead_of_its_backlog) {
  // 20 ms each way: a transfer that filled its whole window (32 chunks, 512 KiB) would put all of
  // it in flight ahead of anything the game sends.
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 20})});
  start_server_files(transfer_config());
  auto client = connect(transfer_config());
  // A match runs meanwhile: the server sends a snapshot every 16 ms, so the connection is not the
  // transfer's alone and it paces itself.
  const auto snapshot = test::bytes_of("snapshot");
  const auto send_snapshots = [&] {
    if (now_us_ % 16'000 == 0) {
      ASSERT_EQ(server_->send(last_peer(), 0, Delivery::unreliable_sequenced, snapshot),
                SendResult::ok);
    }
  };
  on_step_ = send_snapshots;
  const auto data = test::pattern(11, 4 * 1024 * 1024);
  ASSERT_TRUE(server_files_->send_blob(last_peer(), data, "map.bin", "map"));
  // The push has been running for a while (it is past its start).
  ASSERT_TRUE(run_until([&] { return client->files->counters().bytes_received >= 512 * 1024; }));

  const std::uint64_t received_at_send = client->files->counters().bytes_received;
  const auto door = test::bytes_of("door opened");
  ASSERT_EQ(server_->send(last_peer(), 0, Delivery::reliable_ordered, door), SendResult::ok);
  // The client's loop, by hand: what the transfer had delivered when the message came out.
  std::optional<std::uint64_t> received_at_arrival;
  int doors_received = 0;
  for (int step = 0; step < 1000 && !received_at_arrival; ++step) {
    server_side_.pump();
    Event event;
    while (client->transport->poll(event)) {
      if (event.type != EventType::message) continue;
      if (event.channel == 1) {
        client->files->on_message(event.peer, event.payload.bytes());
      } else if (std::ranges::equal(event.payload.bytes(), door)) {
        ++doors_received;
        if (!received_at_arrival) received_at_arrival = client->files->counters().bytes_received;
      }
    }
    client->files->update();
    TransferEvent transfer_event;
    while (client->files->poll(transfer_event))
      client->side.events.push_back(std::move(transfer_event));
    send_snapshots();
    now_us_ += 1000;
  }
  ASSERT_TRUE(received_at_arrival.has_value());
  EXPECT_EQ(doors_received, 1);
  // Ahead of it: at most the transport's send window and the chunk that went past it, while
  // most of the file was still to come.
  const std::uint64_t window = server_->stats(last_peer())->send_window_bytes;
  ASSERT_GT(window, 0u);
  EXPECT_LE(*received_at_arrival - received_at_send, window + transfer_config().chunk_size);
  EXPECT_LT(*received_at_arrival, data.size() / 2);

  // And the push goes on to arrive whole.
  ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));
  const TransferEvent* received = client->side.last(TransferEventType::completed);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->blob, data);
}

TEST_F(FileTransferTest,
       a_push_beside_a_match_goes_in_one_datagram_chunks_and_alone_in_large_ones) {
  make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 5})});
  start_server_files(transfer_config());
  auto client = connect(transfer_config());
  const auto data = test::pattern(13, 2 * 1024 * 1024);
  ASSERT_TRUE(server_files_->send_blob(last_peer(), data, "map.bin", "map"));
  // Alone on the connection, as a map downloaded before a match: chunks of chunk_size.
  ASSERT_TRUE(run_until([&] { return server_files_->counters().bytes_sent >= 512 * 1024; }));
  const FileTransferCounters alone = server_files_->counters();
  EXPECT_EQ(alone.bytes_sent, alone.chunks_sent * transfer_config().chunk_size);

  // The match starts: a snapshot every 16 ms from now on.
  std::optional<FileTransferCounters> at_match;
  const auto snapshot = test::bytes_of("snapshot");
  on_step_ = [&] {
    if (now_us_ % 16'000 != 0) return;
    ASSERT_EQ(server_->send(last_peer(), 0, Delivery::unreliable_sequenced, snapshot),
              SendResult::ok);
    if (!at_match) at_match = server_files_->counters();
  };
  ASSERT_TRUE(run_until([&] { return client->side.ended() && server_side_.ended(); }));
  const TransferEvent* received = client->side.last(TransferEventType::completed);
  ASSERT_NE(received, nullptr);
  EXPECT_EQ(received->blob, data);

  // From the first snapshot on, every chunk was paced_chunk_size (the last one up to it).
  ASSERT_TRUE(at_match.has_value());
  const std::uint32_t paced = transfer_config().paced_chunk_size;
  const FileTransferCounters end = server_files_->counters();
  const std::uint64_t bytes = end.bytes_sent - at_match->bytes_sent;
  const std::uint64_t chunks = end.chunks_sent - at_match->chunks_sent;
  ASSERT_GE(bytes, data.size() / 4);
  EXPECT_EQ(chunks, (bytes + paced - 1) / paced);
  EXPECT_EQ(client->files->counters().chunks_received, end.chunks_sent);
}

TEST(PacedChunk, a_paced_chunk_fits_one_encrypted_enet_datagram_at_the_default_mtu) {
  // The largest paced chunk: the last one, which carries the file hash too.
  const std::vector<std::byte> data(FileTransferConfig{}.paced_chunk_size, std::byte{7});
  const transfer_detail::Chunk chunk{
      {~0ull, ~0ull}, ~0ull, data, transfer_detail::check_of(data), transfer_detail::Hash{}};
  const std::size_t message = transfer_detail::encode(chunk).size();
  // What one datagram carries: the fragment payload at the MTU, less the seal.
  const std::size_t datagram =
      enet_detail::enet_fragment_payload(EnetCommonConfig{}.mtu, true) - session::kSealOverhead;
  EXPECT_LE(enet_detail::OpenBatch::framed_size(message), datagram);
}

// Whether the game's messages share a transfer's connection: the counts a FileTransfer reads.
TEST(OtherTraffic, a_connection_that_carries_only_the_transfers_own_messages_is_its_alone) {
  transfer_detail::OtherTraffic traffic;
  for (int i = 0; i < 100; ++i)
    traffic.count_own_message();
  EXPECT_FALSE(traffic.present(100, 0));
  EXPECT_FALSE(traffic.present(100, 10'000'000));
}

TEST(OtherTraffic, the_games_messages_make_it_shared_until_a_quiet_spell) {
  constexpr std::uint64_t kQuiet = transfer_detail::OtherTraffic::kQuietUs;
  transfer_detail::OtherTraffic traffic;
  traffic.count_own_message();
  EXPECT_FALSE(traffic.present(1, 1'000));
  // A snapshot goes out: shared from then on until kQuiet has passed without another.
  EXPECT_TRUE(traffic.present(2, 2'000));
  traffic.count_own_message();  // a chunk of the transfer's own is no one else's
  EXPECT_TRUE(traffic.present(3, 2'000 + kQuiet - 1));
  EXPECT_FALSE(traffic.present(3, 2'000 + kQuiet));
  // The match starts again.
  EXPECT_TRUE(traffic.present(4, 2'000 + 2 * kQuiet));
}

TEST(OtherTraffic, messages_from_before_the_first_look_count_as_recent) {
  constexpr std::uint64_t kQuiet = transfer_detail::OtherTraffic::kQuietUs;
  transfer_detail::OtherTraffic traffic;
  // The game had sent 40 messages before the transfer began: when is not known.
  EXPECT_TRUE(traffic.present(40, 5'000'000));
  EXPECT_TRUE(traffic.present(40, 5'000'000 + kQuiet - 1));
  EXPECT_FALSE(traffic.present(40, 5'000'000 + kQuiet));
}

// A path with a bottleneck: a link of `bytes_per_us` that sends one chunk after the other, and
// `one_way_us` of delay each way. Sends a transfer through it as the pacing allows, as
// FileTransfer does (at most the allowance unacknowledged, always one chunk), and reports over
// the second half the rate and how long a gameplay message sent every `message_interval_us`
// would wait for the link behind the transfer's chunks (its 99th percentile).
struct PathOutcome {
  double bytes_per_us = 0;
  double wait_p99_us = 0;
};

PathOutcome drive(double bytes_per_us, double one_way_us, double seconds,
                  double message_interval_us, std::uint32_t chunk = 16 * 1024) {
  transfer_detail::SendPacing pacing;
  struct InFlight {
    double acknowledged_at_us;
    std::uint64_t end_offset;
  };
  std::deque<InFlight> in_flight;
  std::uint64_t next_offset = 0;
  std::uint64_t acknowledged = 0;
  double now = 0;
  double link_free_at = 0;
  const double end = seconds * 1e6;
  std::uint64_t acknowledged_at_half = 0;
  double next_message = end / 2;
  std::vector<double> waits;
  while (now < end) {
    const auto now_us = static_cast<std::uint64_t>(now);
    for (;;) {
      const std::uint64_t unacknowledged = next_offset - acknowledged;
      if (unacknowledged != 0 && unacknowledged + chunk > pacing.allowance(chunk, now_us, false))
        break;
      pacing.on_sent(next_offset, next_offset + chunk, acknowledged, now_us);
      link_free_at = std::max(link_free_at, now) + chunk / bytes_per_us;
      next_offset += chunk;
      in_flight.push_back({link_free_at + 2 * one_way_us, next_offset});
    }
    // On to the next acknowledgement; the messages sent meanwhile wait for what the link holds.
    const InFlight acked = in_flight.front();
    in_flight.pop_front();
    for (; next_message < acked.acknowledged_at_us && next_message < end;
         next_message += message_interval_us) {
      waits.push_back(std::max(0.0, link_free_at - next_message));
    }
    if (now < end / 2 && acked.acknowledged_at_us >= end / 2) acknowledged_at_half = acknowledged;
    now = acked.acknowledged_at_us;
    acknowledged = acked.end_offset;
    pacing.on_acknowledged(acknowledged, static_cast<std::uint64_t>(now));
  }
  PathOutcome outcome;
  outcome.bytes_per_us = static_cast<double>(acknowledged - acknowledged_at_half) / (now - end / 2);
  std::sort(waits.begin(), waits.end());
  if (!waits.empty()) outcome.wait_p99_us = waits[waits.size() * 99 / 100];
  return outcome;
}

TEST(SendPacing, a_slow_long_path_is_used_fully_and_a_message_waits_under_half_a_round_trip) {
  // 1 MiB/s, 20 ms each way: a chunk takes 15.6 ms on the link. A snapshot every 16 ms.
  const double rate = 1024 * 1024 / 1e6;
  const PathOutcome outcome = drive(rate, 20'000, 30, 16'000);
  EXPECT_GE(outcome.bytes_per_us, 0.8 * rate);
  // Behind the chunk on the link and what is queued: under half the round trip of a chunk
  // (40 ms and 15.6 ms on the link). With the whole window of 32 chunks in flight it would be
  // about half a second.
  EXPECT_LE(outcome.wait_p99_us, (40'000 + 16 * 1024 / rate) / 2);
}

TEST(SendPacing, a_fast_long_path_is_found_and_filled) {
  // 10 MiB/s, 50 ms each way: about 64 chunks in flight keep it busy; the pacing starts at 4.
  const double rate = 10 * 1024 * 1024 / 1e6;
  const PathOutcome outcome = drive(rate, 50'000, 10, 16'000);
  EXPECT_GE(outcome.bytes_per_us, 0.8 * rate);
  EXPECT_LE(outcome.wait_p99_us, 50'000);
}

TEST(SendPacing, on_a_short_fast_path_a_message_waits_behind_two_chunks_at_most) {
  // Loopback-like: 200 MB/s, 40 us each way; a chunk takes 82 us on the link. A message every
  // 37 us, out of step with the chunks.
  const double rate = 200;
  const PathOutcome outcome = drive(rate, 40, 2, 37);
  EXPECT_LE(outcome.wait_p99_us, 2 * 16 * 1024 / rate);
  EXPECT_GE(outcome.bytes_per_us, 0.4 * rate);
}

TEST(SendPacing, on_a_short_fast_path_one_datagram_chunks_hold_a_message_under_half_a_large_one) {
  // The same path with 1 KiB chunks (paced_chunk_size): what waits ahead of a message is a
  // quarter of the path and a datagram, not two 16 KiB chunks.
  const double rate = 200;
  const PathOutcome outcome = drive(rate, 40, 2, 37, 1024);
  EXPECT_LE(outcome.wait_p99_us, 16 * 1024 / rate / 2);
  EXPECT_GE(outcome.bytes_per_us, 0.4 * rate);
}

}  // namespace
}  // namespace tickwire::net
