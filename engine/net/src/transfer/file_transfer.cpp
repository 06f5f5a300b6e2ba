// The transfer state machine: outgoing transfers stream chunks within their window and the shared
// bandwidth budget; incoming ones check every chunk, write it, acknowledge it, and verify the
// whole file's hash before it takes its final name.

#include "tickwire/net/file_transfer.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <variant>

#include "sodium_ready.hpp"
#include "transfer/transfer_codec.hpp"
#include "transfer/transfer_files.hpp"

namespace tickwire::net {
namespace {

using namespace transfer_detail;

struct Transfer {
  TransferId id;
  PeerId peer = kInvalidPeer;
  TransferDirection direction = TransferDirection::sending;
  std::string name;
  std::string kind;
  std::uint64_t size = 0;
  Hash hash{};
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

  // Receiving.
  std::optional<TransferSink> sink;
  std::uint64_t ack_sent = 0;
  bool finished = false;  // Done sent, or waiting for Done
};

bool plain_file_name(const std::string& name) {
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
                               std::string_view kind) override {
    Hash hash{};
    auto source = TransferSource::open_file(path, hash);
    if (!source) {
      return Status::error("send_file: cannot read " + path.string() +
                           " (missing, not a regular file, or no permission)");
    }
    return start(peer, std::move(*source), hash, path.filename().string(), kind);
  }

  Result<TransferId> send_blob(PeerId peer, std::span<const std::byte> bytes, std::string_view name,
                               std::string_view kind) override {
    Hash hash{};
    return start(peer, TransferSource::from_bytes(bytes, hash), hash, std::string(name), kind);
  }

  Status cancel(TransferId id) override {
    Transfer* transfer = find(id);
    if (transfer == nullptr) return Status::error("cancel: no transfer " + to_string(id));
    fail(*transfer, TransferError::cancelled, /*tell_peer=*/true);
    return {};
  }

  Status resume(TransferId id, PeerId peer) override {
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

  void use_transport(Transport& transport) override { transport_ = &transport; }

  void on_message(PeerId peer, std::span<const std::byte> bytes) override {
    ++counters_.messages_received;
    std::optional<schemas::AlignedView> view;
    std::optional<Message> message = decode(bytes, view);
    if (!message) {
      ++counters_.dropped_malformed;
      return;
    }
    std::visit([&](const auto& body) { handle(peer, body); }, *message);
  }

  void on_disconnected(PeerId peer) override {
    const std::uint64_t now = now_us();
    for (auto& transfer : transfers_) {
      if (transfer->peer != peer || transfer->interrupted) continue;
      transfer->interrupted = true;
      transfer->interrupted_at_us = now;
      transfer->accepted = false;
      emit(*transfer, TransferEventType::interrupted);
    }
  }

  void update() override {
    const std::uint64_t now = now_us();
    refill_budget(now);
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
        if (!send_chunks(*transfer)) continue;
      } else if (transfer->ack_sent < transfer->done) {
        // An acknowledgement the transport refused earlier (queue full).
        if (send(transfer->peer, encode(Ack{transfer->id, transfer->done})) == SendResult::ok) {
          transfer->ack_sent = transfer->done;
        }
      }
      report_progress(*transfer, now);
    }
  }

  bool poll(TransferEvent& event) override {
    if (events_.empty()) return false;
    event = std::move(events_.front());
    events_.pop_front();
    return true;
  }

  std::size_t active_transfers() const override { return transfers_.size(); }
  FileTransferCounters counters() const override { return counters_; }

 private:
  std::uint64_t now_us() const {
    if (config_.clock) return config_.clock();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  SendResult send(PeerId peer, const std::vector<std::byte>& bytes) {
    return transport_->send(peer, config_.channel, Delivery::reliable_ordered, bytes);
  }

  Transfer* find(TransferId id) {
    for (auto& transfer : transfers_) {
      if (transfer->id == id) return transfer.get();
    }
    return nullptr;
  }

  // A transfer of `id` with `peer`, or nothing (counted: a message about someone else's
  // transfer, or one already gone, is dropped).
  Transfer* find_for(PeerId peer, TransferId id, TransferDirection direction) {
    Transfer* transfer = find(id);
    if (transfer == nullptr || transfer->peer != peer || transfer->interrupted ||
        transfer->direction != direction) {
      ++counters_.dropped_unknown;
      return nullptr;
    }
    return transfer;
  }

  std::size_t transfers_with(PeerId peer) const {
    return static_cast<std::size_t>(std::count_if(transfers_.begin(), transfers_.end(),
                                                  [&](const auto& t) { return t->peer == peer; }));
  }

  std::optional<std::uint64_t> player_of(PeerId peer) const {
    const auto* server = dynamic_cast<const ServerTransport*>(transport_);
    if (server == nullptr) return std::nullopt;
    const auto ticket = server->ticket_of(peer);
    if (!ticket) return std::nullopt;
    return ticket->player_id;
  }

  void rebind(Transfer& transfer, PeerId peer) {
    transfer.peer = peer;
    transfer.interrupted = false;
    transfer.accepted = false;
  }

  Result<TransferId> start(PeerId peer, TransferSource source, const Hash& hash, std::string name,
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
    transfer->hash = hash;
    transfer->chunk_size = config_.chunk_size;
    transfer->player = player_of(peer);
    transfer->source = std::move(source);
    transfer->progress_at_us = now_us();
    const TransferId id = transfer->id;
    send_offer(*transfer);
    transfers_.push_back(std::move(transfer));
    return id;
  }

  void send_offer(Transfer& transfer) {
    send(transfer.peer, encode(Offer{transfer.id, transfer.name, transfer.kind, transfer.size,
                                     transfer.hash, transfer.chunk_size}));
  }

  // --- incoming messages -------------------------------------------------------------------

  void handle(PeerId peer, const Offer& offer) {
    if (Transfer* existing = find(offer.id)) {
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
    auto sink = TransferSink::create(config_.receive_directory, offer.name, offer.id);
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
    transfer->hash = offer.hash;
    transfer->chunk_size = offer.chunk_size;
    transfer->player = player_of(peer);
    transfer->sink = std::move(*sink);
    transfer->progress_at_us = now_us();
    Transfer& added = *transfers_.emplace_back(std::move(transfer));
    send(peer, encode(Accept{added.id, 0}));
    emit(added, TransferEventType::started);
    if (added.size == 0) finish_incoming(added);
  }

  TransferError check_offer(PeerId peer, const Offer& offer) const {
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
  void resume_incoming(PeerId peer, Transfer& transfer, const Offer& offer) {
    const bool same_file = transfer.direction == TransferDirection::receiving &&
                           offer.size == transfer.size && offer.hash == transfer.hash &&
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

  void handle(PeerId peer, const Accept& accept) {
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
    if (accept.offset > transfer->size) {
      fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
      return;
    }
    transfer->accepted = true;
    transfer->done = accept.offset;
    transfer->next_offset = accept.offset;
    emit(*transfer, TransferEventType::started);
  }

  void handle(PeerId peer, const Chunk& chunk) {
    Transfer* transfer = find_for(peer, chunk.id, TransferDirection::receiving);
    if (transfer == nullptr) return;
    if (transfer->finished) {
      fail(*transfer, TransferError::protocol_error, /*tell_peer=*/true);
      return;
    }
    if (chunk.offset != transfer->done || chunk.offset >= transfer->size) {
      fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
      return;
    }
    const std::uint64_t expected =
        std::min<std::uint64_t>(transfer->chunk_size, transfer->size - chunk.offset);
    if (chunk.data.size() != expected || check_of(chunk.data) != chunk.check) {
      fail(*transfer, TransferError::corrupt_chunk, /*tell_peer=*/true);
      return;
    }
    if (!transfer->sink->write(chunk.offset, chunk.data)) {
      fail(*transfer, TransferError::io_error, /*tell_peer=*/true);
      return;
    }
    transfer->done += chunk.data.size();
    counters_.bytes_received += chunk.data.size();
    if (send(peer, encode(Ack{transfer->id, transfer->done})) == SendResult::ok) {
      transfer->ack_sent = transfer->done;
    }
    if (transfer->done == transfer->size) finish_incoming(*transfer);
  }

  void finish_incoming(Transfer& transfer) {
    transfer.finished = true;
    if (transfer.sink->bytes_written() != transfer.size ||
        transfer.sink->hash_written() != transfer.hash) {
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

  void handle(PeerId peer, const Ack& ack) {
    Transfer* transfer = find_for(peer, ack.id, TransferDirection::sending);
    if (transfer == nullptr || !transfer->accepted) return;
    if (ack.offset < transfer->done || ack.offset > transfer->next_offset) {
      fail(*transfer, TransferError::offset_out_of_range, /*tell_peer=*/true);
      return;
    }
    transfer->done = ack.offset;
  }

  void handle(PeerId peer, const Done& done) {
    Transfer* transfer = find_for(peer, done.id, TransferDirection::sending);
    if (transfer == nullptr) return;
    if (transfer->done != transfer->size) {
      fail(*transfer, TransferError::protocol_error, /*tell_peer=*/true);
      return;
    }
    complete(*transfer, event_of(*transfer, TransferEventType::completed));
  }

  void handle(PeerId peer, const Cancel& cancel) {
    Transfer* transfer = find(cancel.id);
    if (transfer == nullptr || transfer->peer != peer) {
      ++counters_.dropped_unknown;
      return;
    }
    fail(*transfer, cancel.error, /*tell_peer=*/false);
  }

  // --- sending -------------------------------------------------------------------------------

  void refill_budget(std::uint64_t now) {
    if (config_.max_bytes_per_second == 0) return;
    const double elapsed = static_cast<double>(now - budget_at_us_) / 1e6;
    budget_at_us_ = now;
    // At most a tenth of a second's worth saved up, so an idle moment does not become a burst.
    const double cap = std::max(static_cast<double>(config_.chunk_size),
                                static_cast<double>(config_.max_bytes_per_second) / 10);
    budget_ = std::min(cap, budget_ + elapsed * static_cast<double>(config_.max_bytes_per_second));
  }

  bool transport_queue_full(PeerId peer) const {
    if (config_.max_queued_bytes == 0) return false;
    const auto stats = transport_->stats(peer);
    return stats && stats->bytes_queued >= config_.max_queued_bytes;
  }

  // Sends what the window, the transport's queue and the budget allow. False if the transfer
  // failed.
  bool send_chunks(Transfer& transfer) {
    if (!transfer.accepted) return true;
    const std::uint64_t window = std::uint64_t{config_.window_chunks} * transfer.chunk_size;
    while (transfer.next_offset < transfer.size && transfer.next_offset - transfer.done < window) {
      if (config_.max_bytes_per_second != 0 && budget_ <= 0) break;
      if (transport_queue_full(transfer.peer)) break;
      const auto length = static_cast<std::size_t>(
          std::min<std::uint64_t>(transfer.chunk_size, transfer.size - transfer.next_offset));
      chunk_buffer_.resize(length);
      if (!transfer.source->read(transfer.next_offset, chunk_buffer_)) {
        fail(transfer, TransferError::io_error, /*tell_peer=*/true);
        return false;
      }
      const auto result = send(
          transfer.peer,
          encode(Chunk{transfer.id, transfer.next_offset, chunk_buffer_, check_of(chunk_buffer_)}));
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

  // --- events and endings --------------------------------------------------------------------

  TransferEvent event_of(const Transfer& transfer, TransferEventType type) const {
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

  void emit(const Transfer& transfer, TransferEventType type) {
    events_.push_back(event_of(transfer, type));
  }

  void report_progress(Transfer& transfer, std::uint64_t now) {
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

  void count_failure(TransferError error) {
    ++counters_.transfers_failed;
    ++counters_.failed_by_error[static_cast<std::size_t>(error)];
  }

  void fail(Transfer& transfer, TransferError error, bool tell_peer) {
    if (tell_peer && !transfer.interrupted) send(transfer.peer, encode(Cancel{transfer.id, error}));
    TransferEvent event = event_of(transfer, TransferEventType::failed);
    event.error = error;
    count_failure(error);
    events_.push_back(std::move(event));
    remove(transfer);  // the sink's destructor removes the temporary file
  }

  void complete(Transfer& transfer, TransferEvent event) {
    ++counters_.transfers_completed;
    events_.push_back(std::move(event));
    remove(transfer);
  }

  void remove(Transfer& transfer) {
    std::erase_if(transfers_, [&](const auto& t) { return t.get() == &transfer; });
  }

  Transport* transport_;
  FileTransferConfig config_;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::deque<TransferEvent> events_;
  FileTransferCounters counters_;
  std::vector<std::byte> chunk_buffer_;
  double budget_ = 0;
  std::uint64_t budget_at_us_ = 0;
};

}  // namespace

Result<std::unique_ptr<FileTransfer>> FileTransfer::create(Transport& transport,
                                                           FileTransferConfig config) {
  if (Status status = config.validate(); !status) return status;
  return std::unique_ptr<FileTransfer>(
      std::make_unique<FileTransferImpl>(transport, std::move(config)));
}

}  // namespace tickwire::net
