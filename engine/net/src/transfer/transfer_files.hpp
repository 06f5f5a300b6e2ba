#pragma once
// The file side of a transfer: reading the source, hashing, and writing the received file so that
// a partial one never appears under its final name (a temporary name in the same directory,
// fsync, rename, fsync of the directory).

#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "transfer/transfer_codec.hpp"

namespace tickwire::net::transfer_detail {

// The whole file's hash: SHA-256 over the offered chunk size and every chunk's check (check_of)
// in order, a hash list. Each side hashes the data once, for the chunk checks it needs anyway, and
// the file hash comes from those 32 bytes per chunk: a hash of the data itself would be a second
// pass over every byte on each side. libsodium's SHA-256 here, OpenSSL's for the checks: this one
// hashes 32 bytes a chunk, and its state is a plain value that copies (finish() hashes a copy).
// Changing any byte changes that chunk's check and so the file hash, short of a SHA-256
// collision. Chunks may be shorter than the chunk size (the sender sends short ones beside the
// game's messages): the list of checks stands for the list of chunks, whose bytes in order are the
// file, so both sides agree as long as they hash the same chunks, which they do, since the receiver
// hashes the chunks as it takes them.
class FileHash {
 public:
  explicit FileHash(std::uint32_t chunk_size);
  void add(const Check& check);
  // The hash of the checks added so far; more may be added after.
  Hash finish() const;

 private:
  crypto_hash_sha256_state state_{};
};

// The file hash of bytes in memory sent in chunks of `chunk_size` each (the last one shorter).
Hash file_hash_of(std::span<const std::byte> bytes, std::uint32_t chunk_size);

// What a sender streams from: a file (read with pread) or bytes in memory. Each chunk is hashed
// when it is first read for sending, and the file hash builds up from those checks, so that
// starting a transfer costs no pass over the data: hashing a 64 MiB file before its offer would
// hold send_file(), and the game loop that calls it, for about 110 ms on the VM the benchmarks
// run on, and the sender's hashing would run while the receiver waits instead of beside its own.
//
// A file that changes while it is being sent is not sent as a mix of two versions: every read
// compares the file's size and modification time with those it had when it was opened (as fine as
// the file system's timestamps), and a chunk read again (a resumed transfer goes back to what the
// receiver confirmed) must have the check it had the first time.
//
// A chunk is as long as the sender asks when it is first read, up to the offered chunk size; read
// again, it has the length it had (the receiver's checks and file hash cover those chunks).
class TransferSource {
 public:
  // Opens a file. Nothing if it cannot be read or is not a regular file.
  static std::optional<TransferSource> open_file(const std::filesystem::path& path,
                                                 std::uint32_t chunk_size);
  static TransferSource from_bytes(std::span<const std::byte> bytes, std::uint32_t chunk_size);
  // The same, keeping `bytes` rather than a copy.
  static TransferSource from_bytes(std::vector<std::byte>&& bytes, std::uint32_t chunk_size);
  TransferSource(TransferSource&& other) noexcept;
  TransferSource& operator=(TransferSource&& other) noexcept;
  TransferSource(const TransferSource&) = delete;
  TransferSource& operator=(const TransferSource&) = delete;
  ~TransferSource();

  std::uint64_t size() const { return size_; }
  // Bytes from the start whose chunks have been read and hashed.
  std::uint64_t hashed_bytes() const { return read_.empty() ? 0 : read_.back().end; }
  // Whether a chunk starts at `offset`: one read so far, or the next to be read (at
  // hashed_bytes()).
  bool chunk_starts_at(std::uint64_t offset) const;
  // How long the chunk at `offset` (chunk_starts_at) is when read_chunk() reads it with
  // `max_length`: as long as it was if it was read before.
  std::uint64_t chunk_length(std::uint64_t offset, std::uint32_t max_length) const;

  struct Piece {
    std::span<const std::byte> data;  // a view of the bytes in memory, or of `scratch`
    Check check;
  };
  // The chunk that starts at `offset` (chunk_starts_at), chunk_length() bytes of it, and its check;
  // `max_length` is at most the chunk size. Nothing on a read error, if the file changed since it
  // was opened, or if `offset` does not start a chunk.
  std::optional<Piece> read_chunk(std::uint64_t offset, std::uint32_t max_length,
                                  std::vector<std::byte>& scratch);
  // The file hash, once every chunk has been read; nothing before.
  std::optional<Hash> file_hash() const;

 private:
  TransferSource() = default;
  bool file_unchanged() const;
  // The chunk read before that starts at `offset`, if any.
  std::optional<std::size_t> read_index(std::uint64_t offset) const;

  struct ReadChunk {
    std::uint64_t end = 0;
    Check check{};
  };
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint32_t chunk_size_ = 1;
  std::int64_t modified_ns_ = 0;  // the file's modification time when it was opened
  std::vector<std::byte> bytes_;
  std::vector<ReadChunk> read_;  // the chunks read so far, from the first, in order
  FileHash hash_{1};             // of their checks
};

// Where a receiver writes: a temporary file beside the final name, or memory.
class TransferSink {
 public:
  // A sink in `directory` (empty = memory) for the file `name` of `size` bytes (already checked
  // against the receive policy's max_file_size), sent in chunks of up to `chunk_size`; the
  // temporary name carries the transfer id so that two transfers of one name do not collide.
  // Nothing if it cannot be created.
  //
  // In memory, the whole size is reserved at once: growing the buffer as chunks arrive copied it
  // at every doubling (4 MiB copied and 8 MiB of fresh pages faulted in at once for an 8 MiB
  // blob), a stall of a millisecond or more in the game loop that polls the receiver, and with it
  // its gameplay messages. The reservation is address space: the pages are backed as chunks are
  // written, so memory still grows only with what arrived.
  //
  // `huge_pages`: back it with 2 MiB pages where the kernel allows (madvise). One fault per
  // 2 MiB instead of 512 doubles a large blob's receive rate on the VM the benchmarks run on (a
  // 4 KiB fault costs about 13 us there), but a 2 MiB fault stalls the receiving thread for 0.1
  // to 4 ms, which a match's snapshots must not wait behind: only for a transfer that has the
  // connection to itself.
  static std::optional<TransferSink> create(const std::filesystem::path& directory,
                                            const std::string& name, TransferId id,
                                            std::uint32_t chunk_size, std::uint64_t size,
                                            bool huge_pages);
  TransferSink(TransferSink&& other) noexcept;
  TransferSink& operator=(TransferSink&& other) noexcept;
  TransferSink(const TransferSink&) = delete;
  TransferSink& operator=(const TransferSink&) = delete;
  ~TransferSink();  // removes the temporary file unless commit() succeeded

  // Appends one whole chunk, `bytes` at `offset`, which must be where the last write ended (the
  // receiver takes chunks in order), and adds `check` (check_of(bytes), which the receiver has
  // just compared with the chunk's) to the file hash. False on a write error, a gap or a chunk
  // longer than the chunk size.
  bool write(std::uint64_t offset, std::span<const std::byte> bytes, const Check& check);
  // The file hash (FileHash) of everything written so far, across resumes too (the sink outlives
  // them). Kept as the chunks arrive rather than read back at the end: a whole-file pass at
  // completion stalls the game loop that polls the receiver (8 ms for 8 MiB) and delays its
  // gameplay messages.
  Hash hash_written() const;
  // Hashes the written chunks again as they are now in the file (nothing to do in memory), so
  // that what is checked at the end is what will carry the final name even if the partial file
  // was changed while its transfer was interrupted. Called when a transfer resumes. False on a
  // read error.
  bool rehash_from_storage();
  std::uint64_t bytes_written() const { return written_; }
  // fsync, rename to the final name, fsync the directory. False on any failure (the temporary
  // file is then removed).
  bool commit();
  const std::filesystem::path& final_path() const { return final_path_; }
  std::vector<std::byte> take_bytes() { return std::move(bytes_); }

 private:
  TransferSink() = default;
  void discard();
  int fd_ = -1;
  std::filesystem::path temporary_path_;
  std::filesystem::path final_path_;
  std::vector<std::byte> bytes_;
  std::uint32_t chunk_size_ = 1;
  // Each chunk's length as written: the file hash is taken over those chunks again after a resume.
  std::vector<std::uint32_t> chunk_lengths_;
  FileHash hash_{1};
  std::uint64_t written_ = 0;
};

}  // namespace tickwire::net::transfer_detail
