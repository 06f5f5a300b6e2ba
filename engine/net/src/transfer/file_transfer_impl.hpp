#pragma once
// The state of every transfer a FileTransfer runs and the class that runs them, shared by the
// files that implement it (file_transfer.cpp, transfer_receiving.cpp, transfer_sending.cpp).

#include <algorithm>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sodium_ready.hpp"
#include "tickwire/net/file_transfer.hpp"
#include "transfer/send_pacing.hpp"
#include "transfer/transfer_codec.hpp"
#include "transfer/transfer_files.hpp"

namespace tickwire::net::transfer_detail {

struct Transfer {
  TransferId id;
  PeerId peer = kInvalidPeer;
  TransferDirection direction = TransferDirection::sending;
  std::string name;
  std::string kind;
  std::uint64_t size = 0;
  std::uint32_t chunk_size = 0;
  // The join ticket's player the transfer belongs to, when its peer had one: a resume from
  // another connection must come from the same player.
  std::optional<std::uint64_t> player;
  bool interrupted = false;
  std::uint64_t interrupted_at_us = 0;
  std::uint64_t done = 0;  // sending: acknowledged; receiving: written
  std::uint64_t progress_reported = 0;
  std::uint64_t progress_at_us = 0;
  double rate = 0;

  // Sending.
  std::optional<TransferSource> source;
  bool accepted = false;
  std::uint64_t next_offset = 0;
  std::uint64_t sent_until = 0;  // the furthest next_offset has been: what a receiver can hold
  SendPacing pacing;

  // Receiving.
  std::optional<TransferSink> sink;
  std::uint64_t ack_sent = 0;
  bool finished = false;  // Done sent, or waiting for Done
  // Chunks that arrived in order but are not checked and written yet (take_pending): that work
  // waits until the game has polled what else arrived, so that a gameplay message that came in
  // behind a chunk does not wait for it.
  struct PendingChunk {
    std::uint64_t offset = 0;
    Check check{};
    std::vector<std::byte> data;
  };
  std::vector<PendingChunk> pending;
  std::uint64_t pending_bytes = 0;
  // The whole file's hash, from the last chunk (nothing until it arrived).
  std::optional<Hash> hash;
};

// A name without directories that a file system accepts: what an offer may carry.
inline bool plain_file_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return c == '/' || c == '\\' || c == '\0'; });
}

class FileTransferImpl final : public FileTransfer {
 public:
  FileTransferImpl(Transport& transport, FileTransferConfig config)
      : transport_(&transport), config_(std::move(config)) {
    ensure_sodium();
    budget_at_us_ = now_us();
  }

  Result<TransferId> send_file(PeerId peer, const std::filesystem::path& path,
                               std::string_view kind) override;
  Result<TransferId> send_blob(PeerId peer, std::span<const std::byte> bytes, std::string_view name,
                               std::string_view kind) override;
  Result<TransferId> send_blob(PeerId peer, std::vector<std::byte>&& bytes, std::string_view name,
                               std::string_view kind) override;
  Status cancel(TransferId id) override;
  Status resume(TransferId id, PeerId peer) override;
  void use_transport(Transport& transport) override {
    transport_ = &transport;
    traffic_.clear();  // a new connection counts from zero
  }
  void on_message(PeerId peer, std::span<const std::byte> bytes) override;
  void on_disconnected(PeerId peer) override;
  void update() override;
  bool poll(TransferEvent& event) override;
  std::size_t active_transfers() const override { return transfers_.size(); }
  FileTransferCounters counters() const override { return counters_; }

 private:
  // --- bookkeeping (file_transfer.cpp) -------------------------------------------------------
  std::uint64_t now_us() const;
  // Every message of the transfer goes through here (counted in traffic_).
  SendResult send(PeerId peer, std::span<const std::byte> bytes);
  // Whether the game's own messages have shared the connection to `peer` lately (OtherTraffic):
  // what decides the pacing and a received blob's pages.
  bool carries_other_traffic(PeerId peer, const ConnectionStats& stats, std::uint64_t now);
  Transfer* find(TransferId id);
  // A transfer of `id` with `peer`, or nothing (counted: a message about someone else's
  // transfer, or one already gone, is dropped).
  Transfer* find_for(PeerId peer, TransferId id, TransferDirection direction);
  std::size_t transfers_with(PeerId peer) const;
  std::optional<std::uint64_t> player_of(PeerId peer) const;
  void rebind(Transfer& transfer, PeerId peer);
  Result<TransferId> start(PeerId peer, TransferSource source, std::string name,
                           std::string_view kind);
  void send_offer(Transfer& transfer);

  // --- receiving (transfer_receiving.cpp) ----------------------------------------------------
  void handle(PeerId peer, const Offer& offer);
  TransferError check_offer(PeerId peer, const Offer& offer) const;
  // The sender offered a transfer we have: it resumes (after a reconnect) or repeats its offer.
  void resume_incoming(PeerId peer, Transfer& transfer, const Offer& offer);
  void handle(PeerId peer, const Chunk& chunk);
  // Checks and writes the chunks that wait, acknowledges them, and finishes the transfer when
  // that was the last. False if the transfer is gone (it failed, or that was the last).
  bool take_pending(Transfer& transfer);
  // take_pending() for every receiving transfer of `peer`.
  void take_all_pending(PeerId peer);
  void finish_incoming(Transfer& transfer);
  void handle(PeerId peer, const Cancel& cancel);

  // --- sending (transfer_sending.cpp) --------------------------------------------------------
  void handle(PeerId peer, const Accept& accept);
  void handle(PeerId peer, const Ack& ack);
  void handle(PeerId peer, const Done& done);
  void refill_budget(std::uint64_t now);
  // The transport may take another chunk for `peer`: its queue is under max_queued_bytes and
  // under its send window.
  bool transport_has_room(PeerId peer) const;
  // Sends what the window, the pacing, the transport's queue and the budget allow. False if the
  // transfer failed.
  bool send_chunks(Transfer& transfer, std::uint64_t now);

  // --- events and endings (file_transfer.cpp) -------------------------------------------------
  TransferEvent event_of(const Transfer& transfer, TransferEventType type) const;
  void emit(const Transfer& transfer, TransferEventType type);
  void report_progress(Transfer& transfer, std::uint64_t now);
  void count_failure(TransferError error);
  void fail(Transfer& transfer, TransferError error, bool tell_peer);
  void complete(Transfer& transfer, TransferEvent event);
  void remove(Transfer& transfer);

  Transport* transport_;
  FileTransferConfig config_;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::deque<TransferEvent> events_;
  // Per peer: whether the game's own messages share the connection (the pacing stands aside when
  // they do not).
  std::unordered_map<PeerId, OtherTraffic> traffic_;
  FileTransferCounters counters_;
  std::vector<std::byte> chunk_buffer_;               // a chunk read from a file
  std::vector<std::vector<std::byte>> spare_chunks_;  // PendingChunk buffers to reuse
  std::uint64_t acks_sent_ = 0;  // update() flushes the transport when it sent any
  flatbuffers::FlatBufferBuilder
      chunk_builder_;  // every chunk is encoded in it, reusing its memory
  double budget_ = 0;
  std::uint64_t budget_at_us_ = 0;
};

}  // namespace tickwire::net::transfer_detail
