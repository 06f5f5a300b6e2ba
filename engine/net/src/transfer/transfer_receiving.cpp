// The receiving side of a transfer: offers checked against the policy (or resuming one we hold),
// chunks checked, written and acknowledged in order, and the whole file's hash (from the last
// chunk) verified before it takes its final name. Cancels from either direction end up here too.

#include <algorithm>

#include "transfer/file_transfer_impl.hpp"

namespace tickwire::net::transfer_detail {
namespace {

// Bytes of chunks that may wait for update() per transfer before they are taken at once: a game
// that calls update() once a frame holds a frame's worth of a fast transfer, never more.
constexpr std::uint64_t kMaxPendingBytes = 256 * 1024;

}  // namespace

void FileTransferImpl::handle(PeerId peer, const Offer& offer) {
  if (Transfer* existing = find(offer.id)) {
    // The offer is answered with what has been written: take what waits first.
    if (existing->peer == peer && !take_pending(*existing)) return;
    resume_incoming(peer, *existing, offer);
    return;
  }
  const TransferError refusal = check_offer(peer, offer);
  if (refusal != TransferError::none) {
    send(peer, encode(Cancel{offer.id, refusal}));
    TransferEvent event;
    event.type = TransferEventType::failed;
    event.id = offer.id;
    event.peer = peer;
    event.direction = TransferDirection::receiving;
    event.name = offer.name;
    event.kind = offer.kind;
    event.total = offer.size;
    event.error = refusal;
    count_failure(refusal);
    events_.push_back(std::move(event));
    return;
  }
  const auto stats = transport_->stats(peer);
  const bool alone = stats && !carries_other_traffic(peer, *stats, now_us());
  auto sink = TransferSink::create(config_.receive_directory, offer.name, offer.id,
                                   offer.chunk_size, offer.size, /*huge_pages=*/alone);
  if (!sink) {
    send(peer, encode(Cancel{offer.id, TransferError::io_error}));
    count_failure(TransferError::io_error);
    return;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->id = offer.id;
  transfer->peer = peer;
  transfer->direction = TransferDirection::receiving;
  transfer->name = offer.name;
  transfer->kind = offer.kind;
  transfer->size = offer.size;
  transfer->chunk_size = offer.chunk_size;
  transfer->player = player_of(peer);
  transfer->sink = std::move(*sink);
  transfer->progress_at_us = now_us();
  Transfer& added = *transfers_.emplace_back(std::move(transfer));
  send(peer, encode(Accept{added.id, 0}));
  emit(added, TransferEventType::started);
  if (added.size == 0) finish_incoming(added);
}

TransferError FileTransferImpl::check_offer(PeerId peer, const Offer& offer) const {
  const TransferReceivePolicy& policy = config_.receive;
  if (!policy.accept) return TransferError::uploads_disabled;
  if (policy.require_ticket && !player_of(peer)) return TransferError::not_authenticated;
  if (offer.size > policy.max_file_size) return TransferError::too_large;
  if (!policy.allowed_kinds.empty() &&
      std::find(policy.allowed_kinds.begin(), policy.allowed_kinds.end(), offer.kind) ==
          policy.allowed_kinds.end()) {
    return TransferError::kind_not_allowed;
  }
  if (!plain_file_name(offer.name)) return TransferError::bad_name;
  if (transfers_with(peer) >= config_.max_transfers_per_peer) {
    return TransferError::too_many_transfers;
  }
  return TransferError::none;
}

// The sender offered a transfer we have: it resumes (after a reconnect) or repeats its offer.
void FileTransferImpl::resume_incoming(PeerId peer, Transfer& transfer, const Offer& offer) {
  const bool same_file = transfer.direction == TransferDirection::receiving &&
                         offer.name == transfer.name && offer.size == transfer.size &&
                         offer.chunk_size == transfer.chunk_size;
  const bool same_party =
      transfer.peer == peer || (transfer.interrupted && player_of(peer) == transfer.player);
  if (!same_file || !same_party) {
    // Someone else's id, or the same id for another file: answer only that peer.
    send(peer, encode(Cancel{offer.id, TransferError::protocol_error}));
    ++counters_.dropped_unknown;
    return;
  }
  if (transfer.interrupted) {
    rebind(transfer, peer);
    if (!transfer.sink->rehash_from_storage()) {
      fail(transfer, TransferError::io_error, /*tell_peer=*/true);
      return;
    }
    emit(transfer, TransferEventType::started);
  }
  send(peer, encode(Accept{transfer.id, transfer.done}));
  transfer.ack_sent = transfer.done;
}

void FileTransferImpl::handle(PeerId peer, const Chunk& chunk) {
  Transfer* transfer = find_for(peer, chunk.id, TransferDirection::receiving);
  if (transfer == nullptr) return;
  if (transfer->finished) {
    fail(*transfer, TransferError::protocol_error, /*tell_peer=*/true);
    return;
  }
  const std::uint64_t offset = transfer->done + transfer->pending_bytes;
  if (chunk.offset != offset || chunk.offset >= transfer->size) {
    fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
    return;
  }
  // 1 KiB to the offered chunk size (the sender sends shorter chunks beside the game's messages),
  // less only for the last, and nothing past the end. The floor bounds what a sender can make the
  // receiver keep per byte (a length per chunk, for a resume) and hash per byte.
  const std::uint64_t remaining = transfer->size - chunk.offset;
  const std::uint64_t most = std::min<std::uint64_t>(transfer->chunk_size, remaining);
  const std::uint64_t least = std::min<std::uint64_t>(kMinChunkSize, remaining);
  if (chunk.data.size() < least || chunk.data.size() > most) {
    fail(*transfer, TransferError::corrupt_chunk, /*tell_peer=*/true);
    return;
  }
  // The file hash comes with the last chunk, and only with it.
  const bool last = chunk.offset + chunk.data.size() == transfer->size;
  if (last != chunk.file_hash.has_value()) {
    fail(*transfer, TransferError::protocol_error, /*tell_peer=*/true);
    return;
  }
  if (last) transfer->hash = chunk.file_hash;
  // Checked and written in update() (or once this much waits, whichever comes first): a copy
  // costs a fraction of the check and the write.
  std::vector<std::byte> data;
  if (!spare_chunks_.empty()) {
    data = std::move(spare_chunks_.back());
    spare_chunks_.pop_back();
  }
  data.assign(chunk.data.begin(), chunk.data.end());
  transfer->pending.push_back(Transfer::PendingChunk{chunk.offset, chunk.check, std::move(data)});
  transfer->pending_bytes += chunk.data.size();
  if (transfer->pending_bytes >= kMaxPendingBytes) take_pending(*transfer);
}

bool FileTransferImpl::take_pending(Transfer& transfer) {
  if (transfer.pending.empty()) return true;
  bool failed = false;
  for (Transfer::PendingChunk& chunk : transfer.pending) {
    // The one pass over the data on this side: the check it computes also feeds the file hash.
    const Check check = check_of(chunk.data);
    if (check != chunk.check) {
      failed = true;
      break;
    }
    if (!transfer.sink->write(chunk.offset, chunk.data, check)) {
      fail(transfer, TransferError::io_error, /*tell_peer=*/true);
      return false;
    }
    transfer.done += chunk.data.size();
    counters_.bytes_received += chunk.data.size();
    ++counters_.chunks_received;
  }
  for (Transfer::PendingChunk& chunk : transfer.pending)
    spare_chunks_.push_back(std::move(chunk.data));
  transfer.pending.clear();
  transfer.pending_bytes = 0;
  if (failed) {
    fail(transfer, TransferError::corrupt_chunk, /*tell_peer=*/true);
    return false;
  }
  // One acknowledgement for every chunk taken.
  if (send(transfer.peer, encode(Ack{transfer.id, transfer.done})) == SendResult::ok) {
    transfer.ack_sent = transfer.done;
    ++acks_sent_;
  }
  if (transfer.done == transfer.size) {
    finish_incoming(transfer);  // completed or failed: gone either way
    return false;
  }
  return true;
}

void FileTransferImpl::take_all_pending(PeerId peer) {
  // Snapshot: take_pending() may remove transfers.
  std::vector<Transfer*> receiving;
  for (auto& transfer : transfers_) {
    if (transfer->direction == TransferDirection::receiving && !transfer->pending.empty() &&
        transfer->peer == peer) {
      receiving.push_back(transfer.get());
    }
  }
  for (Transfer* transfer : receiving)
    take_pending(*transfer);
}

void FileTransferImpl::finish_incoming(Transfer& transfer) {
  transfer.finished = true;
  // An empty file has no chunk to carry a hash, and nothing to check.
  if (transfer.sink->bytes_written() != transfer.size ||
      (transfer.size != 0 && transfer.hash != transfer.sink->hash_written())) {
    fail(transfer, TransferError::hash_mismatch, /*tell_peer=*/true);
    return;
  }
  if (!transfer.sink->commit()) {
    fail(transfer, TransferError::io_error, /*tell_peer=*/true);
    return;
  }
  send(transfer.peer, encode(Done{transfer.id}));
  TransferEvent event = event_of(transfer, TransferEventType::completed);
  event.path = transfer.sink->final_path();
  if (config_.receive_directory.empty()) event.blob = transfer.sink->take_bytes();
  complete(transfer, std::move(event));
}

void FileTransferImpl::handle(PeerId peer, const Cancel& cancel) {
  Transfer* transfer = find(cancel.id);
  if (transfer == nullptr || transfer->peer != peer) {
    ++counters_.dropped_unknown;
    return;
  }
  fail(*transfer, cancel.error, /*tell_peer=*/false);
}

}  // namespace tickwire::net::transfer_detail
