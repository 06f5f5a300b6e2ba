// A dishonest or broken sender: corrupt chunks, offsets past the end, a wrong or missing hash, an
// oversize announcement and undecodable bytes each end that transfer with their own error, sent
// back to the sender, while its connection, its gameplay channel and an honest uploader beside it
// carry on. The same holds for a dishonest receiver of a push that asks to resume inside a chunk
// or past what it was sent. And the hashes are the ones docs/protocol.md names.

#include <array>
#include <cstring>

#include "file_transfer_fixture.hpp"
#include "transfer/transfer_codec.hpp"
#include "transfer/transfer_files.hpp"

namespace tickwire::net {
namespace {

namespace wire = transfer_detail;

class FileTransferBadInputTest : public test::FileTransferTest {
 protected:
  void SetUp() override {
    make(LoopbackConfig{.conditions = NetworkConditions::symmetric({.latency_ms = 5})});
    start_server_files(receiving_config());
    honest_ = connect(transfer_config());
    honest_data_ = test::pattern(21, 1024 * 1024);
    ASSERT_TRUE(honest_->files->send_blob(honest_->transport->server(), honest_data_, "honest.bin",
                                          "replay"));

    rogue_ = network_->make_client();
    on_step_ = [this] {
      Event event;
      while (rogue_->poll(event))
        rogue_log_.record(event);
    };
    ASSERT_TRUE(run_until([&] { return !rogue_log_.connected.empty(); }));
    rogue_peer_ = last_peer();
  }

  void rogue_send(const std::vector<std::byte>& bytes) {
    ASSERT_EQ(rogue_->send(1, Delivery::reliable_ordered, bytes), SendResult::ok);
  }

  // The transfer messages the rogue received, decoded.
  std::vector<wire::Message> rogue_received() const {
    std::vector<wire::Message> out;
    for (const auto& message : rogue_log_.messages) {
      if (message.channel != 1) continue;
      std::optional<schemas::AlignedView> view;
      // Only the control messages are kept: a chunk's data would point into `view`.
      if (auto decoded = wire::decode(message.bytes, view);
          decoded && !std::holds_alternative<wire::Chunk>(*decoded)) {
        out.push_back(*decoded);
      }
    }
    return out;
  }

  // The Cancel the server sent the rogue, if any.
  std::optional<TransferError> rogue_cancelled() const {
    for (const auto& message : rogue_received()) {
      if (const auto* cancel = std::get_if<wire::Cancel>(&message)) return cancel->error;
    }
    return std::nullopt;
  }

  bool rogue_accepted() const {
    for (const auto& message : rogue_received()) {
      if (std::holds_alternative<wire::Accept>(message)) return true;
    }
    return false;
  }

  wire::Offer offer(std::span<const std::byte> data) const {
    wire::Offer offer;
    offer.id = {0x1234, 0x5678};
    offer.name = "rogue.bin";
    offer.kind = "replay";
    offer.size = data.size();
    offer.chunk_size = 16 * 1024;
    return offer;
  }

  // The chunk at `offset` as an honest sender sends it: the last one with the file hash.
  wire::Chunk chunk(const wire::Offer& offer, std::span<const std::byte> data,
                    std::uint64_t offset) const {
    const auto length = std::min<std::uint64_t>(offer.chunk_size, data.size() - offset);
    const auto piece = data.subspan(offset, length);
    std::optional<wire::Hash> file_hash;
    if (offset + length == data.size()) file_hash = wire::file_hash_of(data, offer.chunk_size);
    return {offer.id, offset, piece, wire::check_of(piece), file_hash};
  }

  // Announces `data` (16 KiB chunks) and sends a first chunk of `length` bytes of it, with its
  // check: a chunk only its length makes wrong.
  void send_first_chunk_of_length(std::span<const std::byte> data, std::size_t length) {
    const auto announced = offer(data);
    announce(announced);
    auto first = chunk(announced, data, 0);
    first.data = data.first(length);
    first.check = wire::check_of(first.data);
    rogue_send(wire::encode(first));
  }

  // The server pushes `data` to the rogue: the offer the rogue received, or nothing if none came.
  std::optional<wire::Offer> push_to_rogue(std::span<const std::byte> data) {
    if (!server_files_->send_blob(rogue_peer_, data, "map.bin", "map").ok()) return std::nullopt;
    std::optional<wire::Offer> offered;
    run_until([&] {
      for (const auto& message : rogue_received()) {
        if (const auto* offer = std::get_if<wire::Offer>(&message)) offered = *offer;
      }
      return offered.has_value();
    });
    return offered;
  }

  // Sends the offer and waits for the server's answer.
  void announce(const wire::Offer& offer) {
    rogue_send(wire::encode(offer));
    ASSERT_TRUE(run_until([&] { return rogue_accepted() || rogue_cancelled().has_value(); }));
  }

  // What must hold after any bad input: that transfer failed with `error` on the server and the
  // rogue was told; the rogue's connection and gameplay channel work both ways; the honest
  // upload completes; no file took the rogue's name.
  void expect_only_the_transfer_dropped(TransferError error) {
    ASSERT_TRUE(run_until([&] { return rogue_cancelled().has_value(); }));
    EXPECT_EQ(*rogue_cancelled(), error);
    const TransferEvent* failed = server_side_.last(TransferEventType::failed);
    ASSERT_NE(failed, nullptr);
    EXPECT_EQ(failed->error, error);
    EXPECT_EQ(failed->peer, rogue_peer_);
    EXPECT_EQ(server_files_->counters().failed_by_error[static_cast<std::size_t>(error)], 1u);

    const std::size_t server_got = server_side_.log.messages.size();
    ASSERT_EQ(rogue_->send(0, Delivery::reliable_ordered, test::bytes_of("still here")),
              SendResult::ok);
    ASSERT_EQ(server_->send(rogue_peer_, 0, Delivery::reliable_ordered, test::bytes_of("hi")),
              SendResult::ok);
    ASSERT_TRUE(run_until([&] {
      return server_side_.log.messages.size() > server_got &&
             std::any_of(rogue_log_.messages.begin(), rogue_log_.messages.end(),
                         [](const auto& m) { return m.channel == 0; });
    }));
    EXPECT_EQ(server_side_.log.messages.back().bytes, test::bytes_of("still here"));
    EXPECT_EQ(rogue_->state(), ClientState::connected);
    EXPECT_TRUE(rogue_log_.disconnected.empty());

    ASSERT_TRUE(run_until([&] { return honest_->side.ended(); }));
    EXPECT_NE(honest_->side.last(TransferEventType::completed), nullptr);
    EXPECT_EQ(directory_.names(), std::vector<std::string>{"honest.bin"});
  }

  std::unique_ptr<Client> honest_;
  std::vector<std::byte> honest_data_;
  std::unique_ptr<ClientTransport> rogue_;
  test::EventLog rogue_log_;
  PeerId rogue_peer_ = kInvalidPeer;
};

TEST_F(FileTransferBadInputTest, an_oversize_announcement_is_refused_with_too_large) {
  auto announced = offer(test::pattern(1, 100));
  announced.size = 64ull * 1024 * 1024 + 1;  // the default max_file_size is 64 MiB
  announce(announced);
  expect_only_the_transfer_dropped(TransferError::too_large);
}

TEST_F(FileTransferBadInputTest, a_corrupt_chunk_drops_the_transfer) {
  const auto data = test::pattern(2, 40'000);
  const auto announced = offer(data);
  announce(announced);
  ASSERT_TRUE(rogue_accepted());
  rogue_send(wire::encode(chunk(announced, data, 0)));
  auto damaged = data;
  damaged[20'000] ^= std::byte{1};
  auto bad = chunk(announced, damaged, 16 * 1024);
  bad.check = chunk(announced, data, 16 * 1024).check;  // the check of the undamaged bytes
  rogue_send(wire::encode(bad));
  expect_only_the_transfer_dropped(TransferError::corrupt_chunk);
}

TEST_F(FileTransferBadInputTest, a_chunk_longer_than_the_offered_chunk_size_is_a_corrupt_chunk) {
  send_first_chunk_of_length(test::pattern(3, 40'000), 16 * 1024 + 1);
  expect_only_the_transfer_dropped(TransferError::corrupt_chunk);
}

TEST_F(FileTransferBadInputTest, a_chunk_under_a_kib_that_is_not_the_last_is_a_corrupt_chunk) {
  // Chunks of a few bytes would make the receiver keep a length and take a hash per few bytes.
  send_first_chunk_of_length(test::pattern(3, 40'000), 100);
  expect_only_the_transfer_dropped(TransferError::corrupt_chunk);
}

TEST_F(FileTransferBadInputTest, a_last_chunk_past_the_end_is_a_corrupt_chunk) {
  const auto data = test::pattern(3, 20'000);
  const auto announced = offer(data);
  announce(announced);
  rogue_send(wire::encode(chunk(announced, data, 0)));
  const auto longer = test::pattern(3, 24'000);
  auto past = chunk(announced, longer, announced.chunk_size);  // 7,616 bytes where 3,616 remain
  past.file_hash = wire::file_hash_of(data, announced.chunk_size);
  rogue_send(wire::encode(past));
  expect_only_the_transfer_dropped(TransferError::corrupt_chunk);
}

TEST_F(FileTransferBadInputTest, an_offset_past_the_end_drops_the_transfer) {
  const auto data = test::pattern(4, 40'000);
  const auto announced = offer(data);
  announce(announced);
  auto past = chunk(announced, data, 0);
  past.offset = 1'000'000;
  rogue_send(wire::encode(past));
  expect_only_the_transfer_dropped(TransferError::offset_out_of_range);
}

TEST_F(FileTransferBadInputTest, a_hash_mismatch_discards_the_file) {
  const auto data = test::pattern(5, 40'000);
  const auto announced = offer(data);
  announce(announced);
  for (std::uint64_t offset = 0; offset < data.size(); offset += announced.chunk_size) {
    auto sent = chunk(announced, data, offset);
    if (sent.file_hash) (*sent.file_hash)[0] ^= std::byte{0xff};
    rogue_send(wire::encode(sent));
  }
  expect_only_the_transfer_dropped(TransferError::hash_mismatch);
}

TEST_F(FileTransferBadInputTest, a_last_chunk_without_the_file_hash_is_a_protocol_error) {
  const auto data = test::pattern(6, 20'000);
  const auto announced = offer(data);
  announce(announced);
  rogue_send(wire::encode(chunk(announced, data, 0)));
  auto last = chunk(announced, data, announced.chunk_size);
  last.file_hash.reset();
  rogue_send(wire::encode(last));
  expect_only_the_transfer_dropped(TransferError::protocol_error);
}

TEST_F(FileTransferBadInputTest, an_accept_inside_a_chunk_drops_the_push) {
  // A chunk's check covers it from its boundary: a receiver may go on only from a boundary (or
  // the end).
  const auto offered = push_to_rogue(test::pattern(9, 40'000));
  ASSERT_TRUE(offered);
  rogue_send(wire::encode(wire::Accept{offered->id, 100}));
  expect_only_the_transfer_dropped(TransferError::offset_out_of_range);
}

TEST_F(FileTransferBadInputTest, an_accept_past_what_was_sent_drops_the_push) {
  // A receiver holds only chunks it was sent: one that claims more than that is not resuming.
  const auto offered = push_to_rogue(test::pattern(10, 40'000));
  ASSERT_TRUE(offered);
  rogue_send(wire::encode(wire::Accept{offered->id, 16 * 1024}));
  expect_only_the_transfer_dropped(TransferError::offset_out_of_range);
}

TEST_F(FileTransferBadInputTest, a_name_with_a_directory_is_refused) {
  auto announced = offer(test::pattern(6, 100));
  announced.name = "../escape.bin";
  announce(announced);
  expect_only_the_transfer_dropped(TransferError::bad_name);
  EXPECT_FALSE(std::filesystem::exists(directory_.path().parent_path() / "escape.bin"));
}

TEST_F(FileTransferBadInputTest, undecodable_messages_are_counted_and_change_nothing) {
  rogue_send(test::bytes_of("not a flatbuffer at all"));
  auto truncated = wire::encode(offer(test::pattern(7, 100)));
  truncated.resize(truncated.size() / 2);
  rogue_send(truncated);
  // A chunk for a transfer nobody started.
  const auto data = test::pattern(8, 100);
  rogue_send(wire::encode(chunk(offer(data), data, 0)));
  ASSERT_TRUE(run_until([&] {
    const auto counters = server_files_->counters();
    return counters.dropped_malformed == 2 && counters.dropped_unknown == 1;
  }));
  ASSERT_TRUE(run_until([&] { return honest_->side.ended(); }));
  EXPECT_NE(honest_->side.last(TransferEventType::completed), nullptr);
  EXPECT_EQ(rogue_->state(), ClientState::connected);
  EXPECT_EQ(server_files_->counters().transfers_failed, 0u);
}

// What a peer built on docs/protocol.md alone must compute: a chunk's check is the SHA-256 of its
// data, and the file hash the SHA-256 of the chunk size (32-bit little-endian) and every check.
TEST(FileTransferWire, checks_and_the_file_hash_are_the_sha256_that_protocol_md_names) {
  const auto abc = test::bytes_of("abc");
  const auto check = wire::check_of(abc);
  // FIPS 180-2's example "abc".
  const std::array<std::uint8_t, 32> expected = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                                 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                                 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                                 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(std::memcmp(check.data(), expected.data(), expected.size()), 0);

  const auto data = test::pattern(9, 2500);  // chunks of 1024, 1024 and 452 bytes
  std::vector<std::byte> list = {std::byte{0x00}, std::byte{0x04}, std::byte{0}, std::byte{0}};
  for (std::size_t offset = 0; offset < data.size(); offset += 1024) {
    const auto piece =
        std::span(data).subspan(offset, std::min<std::size_t>(1024, data.size() - offset));
    const auto piece_check = wire::check_of(piece);
    list.insert(list.end(), piece_check.begin(), piece_check.end());
  }
  const auto file_hash = wire::file_hash_of(data, 1024);
  const auto list_hash = wire::check_of(list);
  EXPECT_EQ(std::memcmp(file_hash.data(), list_hash.data(), file_hash.size()), 0);
}

// A sender sizes its chunks to whole datagrams with kMaxChunkEncodingBytes: no chunk message is
// longer than its data and that, and none much shorter (or chunks would fill datagrams less).
TEST(FileTransferWire, a_chunk_message_is_its_data_and_at_most_the_encoding_bound) {
  flatbuffers::FlatBufferBuilder builder;
  std::size_t least = wire::kMaxChunkEncodingBytes;
  // Every alignment FlatBuffers pads for, at the smallest, the default and the largest size.
  std::vector<std::size_t> lengths;
  for (std::size_t pad = 0; pad < 8; ++pad) {
    lengths.insert(lengths.end(), {wire::kMinChunkSize + pad, 16 * 1024 - pad,
                                   std::size_t{wire::kMaxChunkSize} - pad});
  }
  for (const std::size_t length : lengths) {
    const auto data = test::pattern(3, length);
    for (const bool last : {false, true}) {
      wire::Chunk chunk{net::TransferId{}, 1234567, data, wire::check_of(data), std::nullopt};
      if (last) chunk.file_hash = wire::Hash{};
      const std::size_t encoding = wire::encode(chunk, builder).size() - length;
      EXPECT_LE(encoding, wire::kMaxChunkEncodingBytes) << length << (last ? " last" : "");
      least = std::min(least, encoding);
    }
  }
  EXPECT_GE(least + 64, wire::kMaxChunkEncodingBytes);
}

}  // namespace
}  // namespace tickwire::net
