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
  Hash finish();

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

  bool write(std::uint64_t offset, std::span<const std::byte> bytes);
  // BLAKE2b-256 of the first `size` bytes as they are now in the file (read back, so that what
  // is checked is what will carry the final name, across resumes too). Nothing on a read error.
  std::optional<Hash> hash_written(std::uint64_t size) const;
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
};

}  // namespace tickwire::net::transfer_detail
