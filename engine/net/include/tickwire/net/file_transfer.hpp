#pragma once
// File transfer over the game connection: sends files or in-memory blobs of any size up to a
// configured limit to a peer, over any Transport (ENet, WebSocket, loopback), in chunks on one
// reliable channel, beside gameplay traffic.
//
// It sits above the Transport and does not own it: the game polls its transport as usual, hands
// the messages of the transfer channel to on_message() and disconnects to on_disconnected(), and
// calls update() once per frame, which sends the next chunks. What happened comes out of poll().
//
// - Flow control: each transfer paces itself to the path. It keeps about what the path holds
//   unacknowledged (measured from the round trips of its own chunks: on loopback one or two
//   chunks, over a 40 ms link the transport's window), so that a gameplay message sent during a
//   transfer waits behind little of it. It does so while the connection carries the game's own
//   messages too (any within the last 250 ms, either way); a transfer that has the connection
//   to itself (a map downloaded before a match) goes as fast as the transport's window lets it,
//   and the first message the game sends after such a quiet spell may wait behind that window.
//   Never more than `window_chunks` chunks unacknowledged; adds chunks to
//   the transport only while less than its send window (ConnectionStats::send_window_bytes)
//   waits there beyond what is on the wire and its queue is under `max_queued_bytes`; and all
//   outgoing transfers together stay under `max_bytes_per_second`. The next chunks go as
//   acknowledgements arrive (in on_message()) as well as in update().
// - Integrity: each chunk carries its own SHA-256, so a corrupt chunk is caught at the update()
//   after it arrives; the last chunk carries the file's hash, a SHA-256 of the chunk size and
//   every chunk's check, which the receiver checks before the file appears under its final name
//   (written to a temporary name in the same directory, fsync'ed, renamed). Each side hashes the
//   data once, as it goes: the sender when it first sends a chunk, the receiver as chunks arrive.
//   A file that changes while it is being sent (its size or modification time, or a chunk read
//   again after a resume) fails the transfer with io_error rather than arriving as a mix of two
//   versions.
// - Resume: after a disconnect both sides keep an interrupted transfer for `resume_timeout_ms`;
//   either side calls resume(id, new_peer) once connected again, and the transfer continues from
//   the last offset the receiver confirmed, with the whole file's hash checked at the end.
// - Bad input drops the transfer with a TransferError (sent to the other side too), never the
//   connection. Undecodable messages are dropped and counted.
//
// What it does not do: keep partial files across a restart of the process, or compress.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickwire/net/status.hpp"
#include "tickwire/net/transport.hpp"

namespace tickwire::net {

// Names one transfer, on both sides and across reconnects: 128 random bits.
struct TransferId {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool operator==(const TransferId&) const = default;
};
std::string to_string(TransferId id);  // 32 hex digits

// Why a transfer ended without completing. Sent to the other side in a Cancel message.
enum class TransferError : std::uint8_t {
  none = 0,
  cancelled = 1,            // a side called cancel()
  too_large = 2,            // the announced size is over the receiver's max_file_size
  kind_not_allowed = 3,     // the receiver's policy does not accept this kind of file
  not_authenticated = 4,    // uploads need a peer admitted with a join ticket
  uploads_disabled = 5,     // the receiver accepts no files at all
  too_many_transfers = 6,   // the peer already has max_incoming_per_peer transfers running
  bad_name = 7,             // the name is empty, too long, or not a plain file name
  corrupt_chunk = 8,        // a chunk's data did not match its check, or its size was wrong
  offset_out_of_range = 9,  // a chunk or accept named an offset past the end (or out of order)
  hash_mismatch = 10,       // the whole file's SHA-256 differs from the one the sender sent
  protocol_error = 11,      // a message that makes no sense in the transfer's state
  io_error = 12,            // the file could not be read or written, or changed while sent
  unknown_transfer = 13,    // resume() or a message named a transfer this side does not have
  connection_lost = 14,     // the peer disconnected and the transfer was not resumed in time
};
inline constexpr auto kLastTransferError = TransferError::connection_lost;
std::string_view to_string(TransferError error);
// A sentence for a user: what went wrong and what to do.
std::string_view describe(TransferError error);

// What a receiver accepts. A client usually accepts what its server pushes; a server accepts
// uploads only when the game says so.
struct TransferReceivePolicy {
  // Accept incoming files at all. Default true.
  bool accept = true;
  // Largest file accepted, in bytes. Default 64 MiB.
  std::uint64_t max_file_size = 64ull * 1024 * 1024;
  // Kinds accepted ("map", "replay", ...); empty = any kind. Default empty.
  std::vector<std::string> allowed_kinds;
  // Accept only from peers the ServerTransport admitted with a join ticket (ticket_of()). A
  // server taking uploads sets it. Default false.
  bool require_ticket = false;
};

struct FileTransferConfig {
  // The transport channel the transfer messages use, reliable_ordered. Keep it apart from
  // gameplay channels. Default 1.
  Channel channel = 1;
  // Bytes of file data per chunk message, 1 KiB..1 MiB, and below the transport's
  // max_message_size (with up to 176 bytes of framing). Where the transport splits a message into
  // datagrams (ENet: ConnectionStats::fragment_payload_bytes), a chunk is cut to what whole
  // datagrams carry: at ENet's default MTU 16,221 bytes in 12 datagrams rather than 16 KiB in 13,
  // the last of them nearly empty. Default 16 KiB.
  std::uint32_t chunk_size = 16 * 1024;
  // Bytes of file data per chunk while a transfer paces itself beside the game's messages (the
  // connection carries them lately and reports no loss), 1 KiB..chunk_size. One datagram at
  // ENet's default MTU (1400 bytes; the last chunk, with the file hash, encodes to 1,192), so that
  // a snapshot sent during a transfer waits behind a few datagrams of it at most rather than the
  // dozen fragments of a large chunk; a transfer with the connection to itself sends chunk_size
  // chunks. Smaller chunks cost throughput (on loopback about half of what chunk_size chunks move).
  // Default 1 KiB.
  std::uint32_t paced_chunk_size = 1024;
  // Bytes of one transfer sent but not yet acknowledged, in chunk_size units, 1..1024: with the RTT
  // this bounds a transfer's rate (window_chunks * chunk_size / RTT) and its share of the send
  // queue. Default 32.
  std::uint32_t window_chunks = 32;
  // All outgoing transfers together, bytes per second; 0 = no cap. Default 0.
  std::uint64_t max_bytes_per_second = 0;
  // Chunks are added to a peer's transport send queue only while it holds fewer bytes than this
  // (ConnectionStats::bytes_queued: on ENet the bytes not yet acknowledged, on WebSocket the
  // bytes not yet written to the socket), 0 = no bound of its own. An upper bound beside the
  // pacing and the transport's send window (which decide on ENet and loopback); it is what
  // bounds a transfer's share of the queue on WebSocket, which reports no window. Default 128 KiB.
  std::uint64_t max_queued_bytes = 128 * 1024;
  // Outgoing and incoming transfers kept per peer at once, 1..64. Default 4.
  std::uint32_t max_transfers_per_peer = 4;
  // Where received files are written (a temporary name first, then the offered name). Empty =
  // received files are kept in memory and handed out in the completed event (blobs). Default
  // empty.
  std::filesystem::path receive_directory;
  TransferReceivePolicy receive;
  // How long an interrupted transfer (its peer disconnected) waits for resume(), in ms,
  // 0..3'600'000. Default 60000.
  std::uint32_t resume_timeout_ms = 60'000;
  // Shortest time between two progress events of one transfer, in ms. Default 250.
  std::uint32_t progress_interval_ms = 250;
  // Current time in microseconds. Empty = the steady clock. Tests pass a clock they advance by
  // hand (the same as the loopback transport's).
  std::function<std::uint64_t()> clock;

  Status validate() const;
};

enum class TransferDirection : std::uint8_t { sending, receiving };

enum class TransferEventType : std::uint8_t {
  started,      // a transfer began (receiving: an offer was accepted), or resumed
  progress,     // bytes_done moved (at most every progress_interval_ms)
  completed,    // done: the receiver verified the hash; `path` or `blob` holds the file
  failed,       // ended early: `error` says why (cancel from either side included)
  interrupted,  // the peer disconnected: resume(id, peer) within resume_timeout_ms
};

struct TransferEvent {
  TransferEventType type = TransferEventType::progress;
  TransferId id;
  PeerId peer = kInvalidPeer;
  TransferDirection direction = TransferDirection::sending;
  std::string name;
  std::string kind;
  std::uint64_t bytes_done = 0;  // acknowledged by the receiver (sending) or written (receiving)
  std::uint64_t total = 0;
  double bytes_per_second = 0;  // recent rate
  TransferError error = TransferError::none;
  std::filesystem::path path;   // completed, receiving into receive_directory: the final file
  std::vector<std::byte> blob;  // completed, receiving without a directory: the bytes
};

// Counters: what was dropped and why, for tests and /metrics.
struct FileTransferCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t dropped_malformed = 0;  // failed the FlatBuffers verifier
  std::uint64_t dropped_unknown = 0;    // named a transfer this side does not have
  std::uint64_t transfers_completed = 0;
  std::uint64_t transfers_failed = 0;  // for any reason; the per-error counts follow
  std::uint64_t failed_by_error[static_cast<std::size_t>(kLastTransferError) + 1] = {};
  std::uint64_t bytes_sent = 0;       // chunk data handed to the transport
  std::uint64_t bytes_received = 0;   // chunk data accepted
  std::uint64_t chunks_sent = 0;      // chunk messages handed to the transport
  std::uint64_t chunks_received = 0;  // chunk messages accepted
};

class FileTransfer {
 public:
  // Fails (naming the field) if the config is invalid or the receive directory does not exist.
  // The transport must outlive the FileTransfer.
  static Result<std::unique_ptr<FileTransfer>> create(Transport& transport,
                                                      FileTransferConfig config);
  virtual ~FileTransfer() = default;

  // Starts sending a file to `peer` under its own file name. The file is opened here and read
  // chunk by chunk as the transfer goes; leave it unchanged until the transfer ends.
  virtual Result<TransferId> send_file(PeerId peer, const std::filesystem::path& path,
                                       std::string_view kind) = 0;
  // Starts sending bytes held in memory (copied) under `name`.
  virtual Result<TransferId> send_blob(PeerId peer, std::span<const std::byte> bytes,
                                       std::string_view name, std::string_view kind) = 0;
  // The same, taking the bytes over instead of copying them (a copy of a large blob into fresh
  // memory stalls the caller for a page fault per 4 KiB).
  virtual Result<TransferId> send_blob(PeerId peer, std::vector<std::byte>&& bytes,
                                       std::string_view name, std::string_view kind) = 0;
  // Ends a transfer from this side; the other side gets `cancelled`. Both see a failed event.
  virtual Status cancel(TransferId id) = 0;
  // Continues an interrupted transfer with `peer` (the same party, newly connected): the
  // receiver tells the sender where to go on from. Either side may call it.
  virtual Status resume(TransferId id, PeerId peer) = 0;

  // Points the FileTransfer at another transport: a client that reconnects gets a new
  // ClientTransport, and its interrupted transfers resume() over that one.
  virtual void use_transport(Transport& transport) = 0;

  // Hand every message that arrives on config.channel here. An acknowledgement may send the next
  // chunks (and flush the transport) from in here. A chunk is only copied here: it is checked,
  // written and acknowledged in update() (or here once 256 KiB of a transfer wait), so that the
  // gameplay messages the game polls after it do not wait for that work.
  virtual void on_message(PeerId peer, std::span<const std::byte> message) = 0;
  // Hand every disconnected event here: the peer's transfers become interrupted.
  virtual void on_disconnected(PeerId peer) = 0;
  // Checks, writes and acknowledges the chunks that arrived, sends the chunks the pacing, window
  // and bandwidth cap allow (and flushes the transport when it added any, so that they do not
  // wait in it ahead of gameplay messages sent later in the frame), expires interrupted
  // transfers, emits progress. Call once per frame, after polling the transport. Acknowledgements
  // handed to on_message() send the next chunks too, so a transfer keeps up with the path
  // between two update() calls as long as the game polls its transport.
  virtual void update() = 0;
  // The next event, if any.
  virtual bool poll(TransferEvent& event) = 0;

  // Transfers running or interrupted.
  virtual std::size_t active_transfers() const = 0;
  virtual FileTransferCounters counters() const = 0;
};

}  // namespace tickwire::net
