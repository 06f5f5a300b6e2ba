// The sending side of a transfer: the receiver's accept (from an offset, on a resume too), its
// acknowledgements and its Done, and the pacing of chunks within the window, the transport's
// queue and the shared bandwidth budget.

#include <algorithm>

#include "transfer/file_transfer_impl.hpp"

namespace tickwire::net::transfer_detail {

void FileTransferImpl::handle(PeerId peer, const Accept& accept) {
  Transfer* transfer = find(accept.id);
  if (transfer == nullptr || transfer->direction != TransferDirection::sending) {
    ++counters_.dropped_unknown;
    return;
  }
  if (transfer->interrupted) {
    // The receiver resumed from its new connection.
    if (player_of(peer) != transfer->player) {
      ++counters_.dropped_unknown;
      return;
    }
    rebind(*transfer, peer);
  } else if (transfer->peer != peer) {
    ++counters_.dropped_unknown;
    return;
  }
  if (transfer->accepted) return;  // both sides resumed at once: the first Accept counts
  // Chunks start at multiples of the chunk size (each has its check from the source), so an
  // honest receiver resumes at one, or at the end.
  if (accept.offset > transfer->size ||
      (accept.offset % transfer->chunk_size != 0 && accept.offset != transfer->size)) {
    fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
    return;
  }
  transfer->accepted = true;
  transfer->done = accept.offset;
  transfer->next_offset = accept.offset;
  emit(*transfer, TransferEventType::started);
}

void FileTransferImpl::handle(PeerId peer, const Ack& ack) {
  Transfer* transfer = find_for(peer, ack.id, TransferDirection::sending);
  if (transfer == nullptr || !transfer->accepted) return;
  if (ack.offset < transfer->done || ack.offset > transfer->next_offset) {
    fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
    return;
  }
  transfer->done = ack.offset;
}

void FileTransferImpl::handle(PeerId peer, const Done& done) {
  Transfer* transfer = find_for(peer, done.id, TransferDirection::sending);
  if (transfer == nullptr) return;
  if (transfer->done != transfer->size) {
    fail(*transfer, TransferError::protocol_error, /*tell_peer=*/true);
    return;
  }
  complete(*transfer, event_of(*transfer, TransferEventType::completed));
}

void FileTransferImpl::refill_budget(std::uint64_t now) {
  if (config_.max_bytes_per_second == 0) return;
  const double elapsed = static_cast<double>(now - budget_at_us_) / 1e6;
  budget_at_us_ = now;
  // At most a tenth of a second's worth saved up, so an idle moment does not become a burst.
  const double cap = std::max(static_cast<double>(config_.chunk_size),
                              static_cast<double>(config_.max_bytes_per_second) / 10);
  budget_ = std::min(cap, budget_ + elapsed * static_cast<double>(config_.max_bytes_per_second));
}

bool FileTransferImpl::transport_queue_full(PeerId peer) const {
  if (config_.max_queued_bytes == 0) return false;
  const auto stats = transport_->stats(peer);
  return stats && stats->bytes_queued >= config_.max_queued_bytes;
}

// Sends what the window, the transport's queue and the budget allow. False if the transfer
// failed.
bool FileTransferImpl::send_chunks(Transfer& transfer) {
  if (!transfer.accepted) return true;
  const std::uint64_t window = std::uint64_t{config_.window_chunks} * transfer.chunk_size;
  while (transfer.next_offset < transfer.size && transfer.next_offset - transfer.done < window) {
    if (config_.max_bytes_per_second != 0 && budget_ <= 0) break;
    if (transport_queue_full(transfer.peer)) break;
    const auto length = static_cast<std::size_t>(
        std::min<std::uint64_t>(transfer.chunk_size, transfer.size - transfer.next_offset));
    const auto data = transfer.source->read(transfer.next_offset, length, chunk_buffer_);
    if (!data) {
      fail(transfer, TransferError::io_error, /*tell_peer=*/true);
      return false;
    }
    // The check was taken when the source was opened: no hashing per chunk here.
    const Chunk chunk{transfer.id, transfer.next_offset, *data,
                      transfer.source->check_at(transfer.next_offset)};
    const auto result = transport_->send(transfer.peer, config_.channel, Delivery::reliable_ordered,
                                         encode(chunk, chunk_builder_));
    if (result == SendResult::queue_full) break;  // the connection is busy: try next update
    if (result != SendResult::ok) {
      // too_large: the chunk does not fit the transport's max_message_size (a config error);
      // unknown_peer: the disconnect event is on its way.
      if (result == SendResult::too_large) {
        fail(transfer, TransferError::protocol_error, /*tell_peer=*/true);
        return false;
      }
      break;
    }
    transfer.next_offset += length;
    counters_.bytes_sent += length;
    budget_ -= static_cast<double>(length);
  }
  return true;
}

}  // namespace tickwire::net::transfer_detail
