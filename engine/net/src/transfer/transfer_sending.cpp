// The sending side of a transfer: the receiver's accept (from an offset, on a resume too), its
// acknowledgements and its Done, and the pacing of chunks within the window, the transport's
// queue and the shared bandwidth budget.

#include <algorithm>

#include "transfer/file_transfer_impl.hpp"

namespace tickwire::net::transfer_detail {
namespace {

// Round-trip loss (ConnectionStats::packet_loss) from which the pacing stands aside
// (send_pacing.hpp).
constexpr double kLossyLink = 0.01;

// The longest chunk of at most `max_length` bytes whose message fills whole datagrams where the
// transport splits messages into them (ConnectionStats::fragment_payload_bytes). A 16 KiB chunk's
// message at ENet's default MTU is 12 datagrams and some 150 bytes: the 13th datagram carries
// almost nothing and costs both ends as much as a full one (on loopback the kernel's work per
// datagram is most of a bulk transfer's time), so the chunk is cut to what 12 carry.
std::uint32_t whole_datagram_length(std::uint32_t max_length,
                                    const std::optional<ConnectionStats>& stats) {
  if (!stats || stats->fragment_payload_bytes == 0) return max_length;
  const std::uint64_t per_datagram = stats->fragment_payload_bytes;
  const std::uint64_t framing = kMaxChunkEncodingBytes + stats->message_overhead_bytes;
  const std::uint64_t whole = (max_length + framing) / per_datagram;
  // Within one datagram already, or filling whole ones.
  if (whole == 0 || (max_length + framing) % per_datagram == 0) return max_length;
  const std::uint64_t fitted = whole * per_datagram - framing;
  return fitted >= kMinChunkSize ? static_cast<std::uint32_t>(fitted) : max_length;
}

}  // namespace

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
  // An honest receiver goes on from a chunk boundary (or the end) that it has been sent: it holds
  // whole chunks, and the file hash covers the chunks from the first in order.
  if (accept.offset > transfer->sent_until ||
      (!transfer->source->chunk_starts_at(accept.offset) && accept.offset != transfer->size)) {
    fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
    return;
  }
  transfer->accepted = true;
  transfer->done = accept.offset;
  transfer->next_offset = accept.offset;
  transfer->pacing.restart();
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
  // The acknowledgement opened the transfer's window: the next chunks go now rather than at the
  // next update(), so that a transfer needs only what is about one round trip in flight to keep
  // the path busy, however often the game calls update().
  const std::uint64_t now = now_us();
  transfer->pacing.on_acknowledged(ack.offset, now);
  const std::uint64_t sent_before = counters_.bytes_sent;
  refill_budget(now);
  if (!send_chunks(*transfer, now)) return;
  if (counters_.bytes_sent != sent_before) transport_->flush();
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

bool FileTransferImpl::transport_has_room(PeerId peer) const {
  const auto stats = transport_->stats(peer);
  if (!stats) return true;  // gone: send() says so
  if (config_.max_queued_bytes != 0 && stats->bytes_queued >= config_.max_queued_bytes) {
    return false;
  }
  // About one window waiting in the transport beyond what is on the wire, and no more: the
  // window is what it puts on the wire as acknowledgements free it, and whatever waits beyond
  // that would wait ahead of the game's reliable messages sent later. (Not bytes_queued alone:
  // over a lossy link a chunk with one fragment still to be acknowledged counts whole in it.)
  if (stats->send_window_bytes == 0) return true;
  const std::uint64_t waiting =
      stats->bytes_queued - std::min(stats->bytes_queued, stats->reliable_bytes_in_flight);
  return waiting < stats->send_window_bytes;
}

// Sends what the window, the pacing, the transport's queue and the budget allow. False if the
// transfer failed.
bool FileTransferImpl::send_chunks(Transfer& transfer, std::uint64_t now) {
  if (!transfer.accepted) return true;
  // At most this much unacknowledged, and always one chunk when nothing is.
  const auto stats = transport_->stats(transfer.peer);
  const bool unpaced = stats && (stats->packet_loss >= kLossyLink ||
                                 !carries_other_traffic(transfer.peer, *stats, now));
  // Paced, a chunk is one datagram's worth (paced_chunk_size): a gameplay message sent meanwhile
  // waits behind what the pacing allows in flight, and the fragments of a large chunk would be
  // more than that on a short path.
  const std::uint32_t max_length = whole_datagram_length(
      unpaced ? transfer.chunk_size : std::min(transfer.chunk_size, config_.paced_chunk_size),
      stats);
  const std::uint64_t window = std::min(std::uint64_t{config_.window_chunks} * transfer.chunk_size,
                                        transfer.pacing.allowance(max_length, now, unpaced));
  while (transfer.next_offset < transfer.size) {
    const auto length =
        static_cast<std::size_t>(transfer.source->chunk_length(transfer.next_offset, max_length));
    const std::uint64_t unacknowledged = transfer.next_offset - transfer.done;
    if (unacknowledged != 0 && unacknowledged + length > window) break;
    if (config_.max_bytes_per_second != 0 && budget_ <= 0) break;
    if (!transport_has_room(transfer.peer)) break;
    const auto piece = transfer.source->read_chunk(transfer.next_offset, max_length, chunk_buffer_);
    if (!piece) {
      fail(transfer, TransferError::io_error, /*tell_peer=*/true);
      return false;
    }
    // The last chunk carries the file hash: only now has every chunk been hashed.
    const Chunk chunk{transfer.id, transfer.next_offset, piece->data, piece->check,
                      transfer.next_offset + length == transfer.size ? transfer.source->file_hash()
                                                                     : std::nullopt};
    const auto result = send(transfer.peer, encode(chunk, chunk_builder_));
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
    transfer.pacing.on_sent(transfer.next_offset, transfer.next_offset + length, transfer.done,
                            now);
    transfer.next_offset += length;
    transfer.sent_until = std::max(transfer.sent_until, transfer.next_offset);
    counters_.bytes_sent += length;
    ++counters_.chunks_sent;
    budget_ -= static_cast<double>(length);
  }
  return true;
}

}  // namespace tickwire::net::transfer_detail
