// FileTransfer's API and bookkeeping: starting, cancelling and resuming transfers, routing the
// messages that arrive, the periodic update, and the events and endings of every transfer. What
// happens to each message is in transfer_receiving.cpp and transfer_sending.cpp.

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <variant>

#include "transfer/file_transfer_impl.hpp"

namespace tickwire::net {
namespace transfer_detail {

Result<TransferId> FileTransferImpl::send_file(PeerId peer, const std::filesystem::path& path,
                                               std::string_view kind) {
  auto source = TransferSource::open_file(path, config_.chunk_size);
  if (!source) {
    return Status::error("send_file: cannot read " + path.string() +
                         " (missing, not a regular file, or no permission)");
  }
  return start(peer, std::move(*source), path.filename().string(), kind);
}

Result<TransferId> FileTransferImpl::send_blob(PeerId peer, std::span<const std::byte> bytes,
                                               std::string_view name, std::string_view kind) {
  return start(peer, TransferSource::from_bytes(bytes, config_.chunk_size), std::string(name),
               kind);
}

Result<TransferId> FileTransferImpl::send_blob(PeerId peer, std::vector<std::byte>&& bytes,
                                               std::string_view name, std::string_view kind) {
  return start(peer, TransferSource::from_bytes(std::move(bytes), config_.chunk_size),
               std::string(name), kind);
}

Status FileTransferImpl::cancel(TransferId id) {
  Transfer* transfer = find(id);
  if (transfer == nullptr) return Status::error("cancel: no transfer " + to_string(id));
  fail(*transfer, TransferError::cancelled, /*tell_peer=*/true);
  return {};
}

Status FileTransferImpl::resume(TransferId id, PeerId peer) {
  Transfer* transfer = find(id);
  if (transfer == nullptr) return Status::error("resume: no transfer " + to_string(id));
  if (!transfer->interrupted) {
    return Status::error("resume: transfer " + to_string(id) + " is not interrupted");
  }
  rebind(*transfer, peer);
  if (transfer->direction == TransferDirection::sending) {
    send_offer(*transfer);
  } else {
    if (!transfer->sink->rehash_from_storage()) {
      fail(*transfer, TransferError::io_error, /*tell_peer=*/true);
      return {};
    }
    send(peer, encode(Accept{transfer->id, transfer->done}));
    transfer->ack_sent = transfer->done;
    emit(*transfer, TransferEventType::started);
  }
  return {};
}

void FileTransferImpl::on_message(PeerId peer, std::span<const std::byte> bytes) {
  ++counters_.messages_received;
  traffic_[peer].count_own_message();
  std::optional<schemas::AlignedView> view;
  std::optional<Message> message = decode(bytes, view);
  if (!message) {
    ++counters_.dropped_malformed;
    return;
  }
  std::visit([&](const auto& body) { handle(peer, body); }, *message);
}

void FileTransferImpl::on_disconnected(PeerId peer) {
  // What arrived before the disconnect is kept: a resume goes on from after it.
  take_all_pending(peer);
  traffic_.erase(peer);  // the id may name another connection next
  const std::uint64_t now = now_us();
  for (auto& transfer : transfers_) {
    if (transfer->peer != peer || transfer->interrupted) continue;
    transfer->interrupted = true;
    transfer->interrupted_at_us = now;
    transfer->accepted = false;
    emit(*transfer, TransferEventType::interrupted);
  }
}

void FileTransferImpl::update() {
  const std::uint64_t now = now_us();
  refill_budget(now);
  const std::uint64_t sent_before = counters_.bytes_sent;
  const std::uint64_t acks_before = acks_sent_;
  // Snapshot: fail() removes transfers.
  std::vector<Transfer*> running;
  for (auto& transfer : transfers_)
    running.push_back(transfer.get());
  for (Transfer* transfer : running) {
    if (transfer->interrupted) {
      if (now - transfer->interrupted_at_us >= std::uint64_t{config_.resume_timeout_ms} * 1000) {
        fail(*transfer, TransferError::connection_lost, /*tell_peer=*/false);
      }
      continue;
    }
    if (transfer->direction == TransferDirection::sending) {
      if (!send_chunks(*transfer, now)) continue;
    } else if (!transfer->pending.empty()) {
      if (!take_pending(*transfer)) continue;
    } else if (transfer->ack_sent < transfer->done) {
      // An acknowledgement the transport refused earlier (queue full).
      if (send(transfer->peer, encode(Ack{transfer->id, transfer->done})) == SendResult::ok) {
        transfer->ack_sent = transfer->done;
        ++acks_sent_;
      }
    }
    report_progress(*transfer, now);
  }
  // The chunks go on the wire now rather than at the game's next poll or flush: whatever ENet
  // holds unsent when the game flushes a snapshot later in the frame goes out ahead of it, while
  // chunks beyond ENet's reliable window wait and let it pass. Acknowledgements go now too: the
  // sender's next chunks wait for them.
  if (counters_.bytes_sent != sent_before || acks_sent_ != acks_before) transport_->flush();
}

bool FileTransferImpl::poll(TransferEvent& event) {
  if (events_.empty()) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

std::uint64_t FileTransferImpl::now_us() const {
  if (config_.clock) return config_.clock();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

SendResult FileTransferImpl::send(PeerId peer, std::span<const std::byte> bytes) {
  const SendResult result =
      transport_->send(peer, config_.channel, Delivery::reliable_ordered, bytes);
  if (result == SendResult::ok) traffic_[peer].count_own_message();
  return result;
}

bool FileTransferImpl::carries_other_traffic(PeerId peer, const ConnectionStats& stats,
                                             std::uint64_t now) {
  return traffic_[peer].present(stats.messages_sent + stats.messages_received, now);
}

Transfer* FileTransferImpl::find(TransferId id) {
  for (auto& transfer : transfers_) {
    if (transfer->id == id) return transfer.get();
  }
  return nullptr;
}

// A transfer of `id` with `peer`, or nothing (counted: a message about someone else's
// transfer, or one already gone, is dropped).
Transfer* FileTransferImpl::find_for(PeerId peer, TransferId id, TransferDirection direction) {
  Transfer* transfer = find(id);
  if (transfer == nullptr || transfer->peer != peer || transfer->interrupted ||
      transfer->direction != direction) {
    ++counters_.dropped_unknown;
    return nullptr;
  }
  return transfer;
}

std::size_t FileTransferImpl::transfers_with(PeerId peer) const {
  return static_cast<std::size_t>(std::count_if(transfers_.begin(), transfers_.end(),
                                                [&](const auto& t) { return t->peer == peer; }));
}

std::optional<std::uint64_t> FileTransferImpl::player_of(PeerId peer) const {
  const auto* server = dynamic_cast<const ServerTransport*>(transport_);
  if (server == nullptr) return std::nullopt;
  const auto ticket = server->ticket_of(peer);
  if (!ticket) return std::nullopt;
  return ticket->player_id;
}

void FileTransferImpl::rebind(Transfer& transfer, PeerId peer) {
  transfer.peer = peer;
  transfer.interrupted = false;
  transfer.accepted = false;
}

Result<TransferId> FileTransferImpl::start(PeerId peer, TransferSource source, std::string name,
                                           std::string_view kind) {
  if (!plain_file_name(name) || name.size() > kMaxNameBytes) {
    return Status::error("send: name \"" + name + "\" must be a plain file name of 1..255 bytes");
  }
  if (kind.size() > kMaxKindBytes) return Status::error("send: kind is over 64 bytes");
  if (transport_->stats(peer) == std::nullopt) {
    return Status::error("send: peer " + std::to_string(peer) + " is not connected");
  }
  if (transfers_with(peer) >= config_.max_transfers_per_peer) {
    return Status::error("send: peer " + std::to_string(peer) + " already has " +
                         std::to_string(config_.max_transfers_per_peer) +
                         " transfers (max_transfers_per_peer)");
  }
  auto transfer = std::make_unique<Transfer>();
  randombytes_buf(&transfer->id, sizeof transfer->id);
  transfer->peer = peer;
  transfer->direction = TransferDirection::sending;
  transfer->name = std::move(name);
  transfer->kind = std::string(kind);
  transfer->size = source.size();
  transfer->chunk_size = config_.chunk_size;
  transfer->player = player_of(peer);
  transfer->source = std::move(source);
  transfer->progress_at_us = now_us();
  const TransferId id = transfer->id;
  send_offer(*transfer);
  transfers_.push_back(std::move(transfer));
  return id;
}

void FileTransferImpl::send_offer(Transfer& transfer) {
  send(transfer.peer, encode(Offer{transfer.id, transfer.name, transfer.kind, transfer.size,
                                   transfer.chunk_size}));
}

TransferEvent FileTransferImpl::event_of(const Transfer& transfer, TransferEventType type) const {
  TransferEvent event;
  event.type = type;
  event.id = transfer.id;
  event.peer = transfer.peer;
  event.direction = transfer.direction;
  event.name = transfer.name;
  event.kind = transfer.kind;
  event.bytes_done = transfer.done;
  event.total = transfer.size;
  event.bytes_per_second = transfer.rate;
  return event;
}

void FileTransferImpl::emit(const Transfer& transfer, TransferEventType type) {
  events_.push_back(event_of(transfer, type));
}

void FileTransferImpl::report_progress(Transfer& transfer, std::uint64_t now) {
  if (transfer.done == transfer.progress_reported) return;
  const std::uint64_t elapsed = now - transfer.progress_at_us;
  if (elapsed < std::uint64_t{config_.progress_interval_ms} * 1000) return;
  transfer.rate = elapsed == 0 ? 0
                               : static_cast<double>(transfer.done - transfer.progress_reported) *
                                     1e6 / static_cast<double>(elapsed);
  transfer.progress_reported = transfer.done;
  transfer.progress_at_us = now;
  emit(transfer, TransferEventType::progress);
}

void FileTransferImpl::count_failure(TransferError error) {
  ++counters_.transfers_failed;
  ++counters_.failed_by_error[static_cast<std::size_t>(error)];
}

void FileTransferImpl::fail(Transfer& transfer, TransferError error, bool tell_peer) {
  if (tell_peer && !transfer.interrupted) send(transfer.peer, encode(Cancel{transfer.id, error}));
  TransferEvent event = event_of(transfer, TransferEventType::failed);
  event.error = error;
  count_failure(error);
  events_.push_back(std::move(event));
  remove(transfer);  // the sink's destructor removes the temporary file
}

void FileTransferImpl::complete(Transfer& transfer, TransferEvent event) {
  ++counters_.transfers_completed;
  events_.push_back(std::move(event));
  remove(transfer);
}

void FileTransferImpl::remove(Transfer& transfer) {
  std::erase_if(transfers_, [&](const auto& t) { return t.get() == &transfer; });
}

}  // namespace transfer_detail

Result<std::unique_ptr<FileTransfer>> FileTransfer::create(Transport& transport,
                                                           FileTransferConfig config) {
  if (Status status = config.validate(); !status) return status;
  return std::unique_ptr<FileTransfer>(
      std::make_unique<transfer_detail::FileTransferImpl>(transport, std::move(config)));
}

}  // namespace tickwire::net
