#pragma once
// The file side of a transfer: reading the source, hashing, and writing the received file so that
// a partial one never appears under its final name (a temporary name in the same directory,
// fsync, rename, fsync of the directory).

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "transfer/transfer_codec.hpp"

namespace tickwire::net::transfer_detail {

// BLAKE2b-256, fed piece by piece.
class StreamingHash {
 public:
  StreamingHash();
  void update(std::span<const std::byte> bytes);
  // The hash of what was fed so far; more may be fed after.
  Hash finish() const;

 private:
  crypto_generichash_state state_{};
};

// What a sender streams from: a file (read with pread) or bytes in memory.
class TransferSource {
 public:
  // Opens and hashes a file (one full read). Nothing if it cannot be read.
  static std::optional<TransferSource> open_file(const std::filesystem::path& path, Hash& hash);
  static TransferSource from_bytes(std::span<const std::byte> bytes, Hash& hash);
  TransferSource(TransferSource&& other) noexcept;
  TransferSource& operator=(TransferSource&& other) noexcept;
  TransferSource(const TransferSource&) = delete;
  TransferSource& operator=(const TransferSource&) = delete;
  ~TransferSource();

  std::uint64_t size() const { return size_; }
  // Reads `out.size()` bytes at `offset`; false on a read error.
  bool read(std::uint64_t offset, std::span<std::byte> out) const;

 private:
  TransferSource() = default;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::vector<std::byte> bytes_;
};

// Where a receiver writes: a temporary file beside the final name, or memory.
class TransferSink {
 public:
  // A sink in `directory` (empty = memory) for the file `name`; the temporary name carries the
  // transfer id so that two transfers of one name do not collide. Nothing if it cannot be created.
  static std::optional<TransferSink> create(const std::filesystem::path& directory,
                                            const std::string& name, TransferId id);
  TransferSink(TransferSink&& other) noexcept;
  TransferSink& operator=(TransferSink&& other) noexcept;
  TransferSink(const TransferSink&) = delete;
  TransferSink& operator=(const TransferSink&) = delete;
  ~TransferSink();  // removes the temporary file unless commit() succeeded

  // Appends `bytes` at `offset`, which must be where the last write ended (the receiver takes
  // chunks in order), and feeds them to the running hash. False on a write error or a gap.
  bool write(std::uint64_t offset, std::span<const std::byte> bytes);
  // BLAKE2b-256 of everything written so far, across resumes too (the sink outlives them). Kept
  // as the chunks arrive rather than read back at the end: a whole-file pass at completion stalls
  // the game loop that polls the receiver (8 ms for 8 MiB) and delays its gameplay messages.
  Hash hash_written() const;
  // Hashes the written bytes again as they are now in the file (nothing to do in memory), so that
  // what is checked at the end is what will carry the final name even if the partial file was
  // changed while its transfer was interrupted. Called when a transfer resumes. False on a read
  // error.
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
  StreamingHash hash_;
  std::uint64_t written_ = 0;
};

}  // namespace tickwire::net::transfer_detail
