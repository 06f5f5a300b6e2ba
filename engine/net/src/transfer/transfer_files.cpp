#include "transfer/transfer_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "sodium_ready.hpp"

namespace tickwire::net::transfer_detail {
namespace {

// Asks the kernel to back the 2 MiB-aligned parts of a large buffer with huge pages (where
// transparent huge pages are on "madvise", as on Debian): one fault per 2 MiB instead of 512. On
// the VM the benchmarks run on, a 4 KiB fault costs about 13 us, so writing a 32 MiB blob into
// fresh memory spent about 100 ms faulting, more than the transfer itself; a 2 MiB fault costs
// 0.1 to 4 ms at once.
void advise_huge_pages(const std::byte* data, std::size_t size) {
  constexpr std::uintptr_t kHuge = 2 * 1024 * 1024;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + size) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

FileHash::FileHash(std::uint32_t chunk_size) {
  ensure_sodium();
  crypto_hash_sha256_init(&state_);
  // The chunk size first (little-endian): the same checks mean the same file only at the same
  // chunking.
  const std::array<unsigned char, 4> size_bytes{
      static_cast<unsigned char>(chunk_size), static_cast<unsigned char>(chunk_size >> 8),
      static_cast<unsigned char>(chunk_size >> 16), static_cast<unsigned char>(chunk_size >> 24)};
  crypto_hash_sha256_update(&state_, size_bytes.data(), size_bytes.size());
}

void FileHash::add(const Check& check) {
  crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(check.data()),
                            check.size());
}

Hash FileHash::finish() const {
  // Finalizing consumes a state: finalize a copy.
  crypto_hash_sha256_state state = state_;
  Hash hash{};
  crypto_hash_sha256_final(&state, reinterpret_cast<unsigned char*>(hash.data()));
  return hash;
}

Hash file_hash_of(std::span<const std::byte> bytes, std::uint32_t chunk_size) {
  FileHash hash(chunk_size);
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk_size) {
    hash.add(
        check_of(bytes.subspan(offset, std::min<std::size_t>(chunk_size, bytes.size() - offset))));
  }
  return hash.finish();
}

namespace {

bool pread_all(int fd, std::uint64_t offset, std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

bool pwrite_all(int fd, std::uint64_t offset, std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    done += static_cast<std::size_t>(put);
  }
  return true;
}

std::int64_t modified_ns(const struct stat& info) {
  return std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
}

}  // namespace

std::optional<TransferSource> TransferSource::open_file(const std::filesystem::path& path,
                                                        std::uint32_t chunk_size) {
  TransferSource source;
  source.chunk_size_ = chunk_size;
  source.hash_ = FileHash(chunk_size);
  source.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (source.fd_ < 0) return std::nullopt;
  struct stat info {};
  if (::fstat(source.fd_, &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  source.size_ = static_cast<std::uint64_t>(info.st_size);
  source.modified_ns_ = modified_ns(info);
  return source;
}

TransferSource TransferSource::from_bytes(std::span<const std::byte> bytes,
                                          std::uint32_t chunk_size) {
  std::vector<std::byte> copy;
  copy.reserve(bytes.size());
  advise_huge_pages(copy.data(), bytes.size());
  copy.assign(bytes.begin(), bytes.end());
  return from_bytes(std::move(copy), chunk_size);
}

TransferSource TransferSource::from_bytes(std::vector<std::byte>&& bytes,
                                          std::uint32_t chunk_size) {
  TransferSource source;
  source.chunk_size_ = chunk_size;
  source.hash_ = FileHash(chunk_size);
  source.bytes_ = std::move(bytes);
  source.size_ = source.bytes_.size();
  return source;
}

TransferSource::TransferSource(TransferSource&& other) noexcept {
  *this = std::move(other);
}

TransferSource& TransferSource::operator=(TransferSource&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    chunk_size_ = other.chunk_size_;
    modified_ns_ = other.modified_ns_;
    bytes_ = std::move(other.bytes_);
    read_ = std::move(other.read_);
    hash_ = other.hash_;
  }
  return *this;
}

TransferSource::~TransferSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool TransferSource::file_unchanged() const {
  struct stat info {};
  return ::fstat(fd_, &info) == 0 && static_cast<std::uint64_t>(info.st_size) == size_ &&
         modified_ns(info) == modified_ns_;
}

std::optional<std::size_t> TransferSource::read_index(std::uint64_t offset) const {
  if (offset >= hashed_bytes()) return std::nullopt;
  // The first chunk that ends past `offset`: it starts there if the one before ends there.
  const auto it =
      std::upper_bound(read_.begin(), read_.end(), offset,
                       [](std::uint64_t at, const ReadChunk& chunk) { return at < chunk.end; });
  const auto index = static_cast<std::size_t>(it - read_.begin());
  const std::uint64_t start = index == 0 ? 0 : read_[index - 1].end;
  if (start != offset) return std::nullopt;
  return index;
}

bool TransferSource::chunk_starts_at(std::uint64_t offset) const {
  return offset == hashed_bytes() || read_index(offset).has_value();
}

std::uint64_t TransferSource::chunk_length(std::uint64_t offset, std::uint32_t max_length) const {
  if (const auto index = read_index(offset)) return read_[*index].end - offset;
  return std::min<std::uint64_t>(max_length, size_ - std::min(offset, size_));
}

std::optional<TransferSource::Piece> TransferSource::read_chunk(std::uint64_t offset,
                                                                std::uint32_t max_length,
                                                                std::vector<std::byte>& scratch) {
  if (offset >= size_ || max_length == 0 || max_length > chunk_size_ || !chunk_starts_at(offset)) {
    return std::nullopt;
  }
  const auto index = read_index(offset);
  const auto length = static_cast<std::size_t>(chunk_length(offset, max_length));
  std::span<const std::byte> data;
  if (fd_ < 0) {
    data = {bytes_.data() + offset, length};
  } else {
    scratch.resize(length);
    if (!pread_all(fd_, offset, scratch)) return std::nullopt;
    // After the read: a write whose bytes it saw has already set the modification time.
    if (!file_unchanged()) return std::nullopt;
    data = scratch;
  }
  const Check check = check_of(data);
  if (index) {
    // Read again after a resume: it must be what the receiver's first part was checked against.
    if (check != read_[*index].check) return std::nullopt;
  } else {
    read_.push_back(ReadChunk{offset + length, check});
    hash_.add(check);
  }
  return Piece{data, check};
}

std::optional<Hash> TransferSource::file_hash() const {
  if (hashed_bytes() != size_) return std::nullopt;
  return hash_.finish();
}

std::optional<TransferSink> TransferSink::create(const std::filesystem::path& directory,
                                                 const std::string& name, TransferId id,
                                                 std::uint32_t chunk_size, std::uint64_t size,
                                                 bool huge_pages) {
  TransferSink sink;
  sink.chunk_size_ = chunk_size;
  sink.hash_ = FileHash(chunk_size);
  if (directory.empty()) {
    sink.bytes_.reserve(static_cast<std::size_t>(size));
    if (huge_pages) advise_huge_pages(sink.bytes_.data(), static_cast<std::size_t>(size));
    return sink;
  }
  sink.final_path_ = directory / name;
  // A dot file, so that directory listings and globbing for the final name do not show it.
  sink.temporary_path_ = directory / ("." + name + "." + to_string(id) + ".part");
  sink.fd_ = ::open(sink.temporary_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (sink.fd_ < 0) return std::nullopt;
  return sink;
}

TransferSink::TransferSink(TransferSink&& other) noexcept {
  *this = std::move(other);
}

TransferSink& TransferSink::operator=(TransferSink&& other) noexcept {
  if (this != &other) {
    discard();
    fd_ = std::exchange(other.fd_, -1);
    temporary_path_ = std::exchange(other.temporary_path_, {});
    final_path_ = std::exchange(other.final_path_, {});
    bytes_ = std::move(other.bytes_);
    chunk_size_ = other.chunk_size_;
    chunk_lengths_ = std::move(other.chunk_lengths_);
    hash_ = other.hash_;
    written_ = other.written_;
  }
  return *this;
}

TransferSink::~TransferSink() {
  discard();
}

void TransferSink::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_path_.c_str());
}

bool TransferSink::write(std::uint64_t offset, std::span<const std::byte> bytes,
                         const Check& check) {
  if (offset != written_ || bytes.size() > chunk_size_) return false;
  if (fd_ < 0) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  } else if (!pwrite_all(fd_, offset, bytes)) {
    return false;
  }
  hash_.add(check);
  chunk_lengths_.push_back(static_cast<std::uint32_t>(bytes.size()));
  written_ += bytes.size();
  return true;
}

Hash TransferSink::hash_written() const {
  return hash_.finish();
}

bool TransferSink::rehash_from_storage() {
  if (fd_ < 0) return true;
  FileHash hasher(chunk_size_);
  // Chunk by chunk, as they were written (each write was one whole chunk).
  std::vector<std::byte> chunk(chunk_size_);
  std::uint64_t offset = 0;
  for (const std::uint32_t length : chunk_lengths_) {
    if (!pread_all(fd_, offset, {chunk.data(), length})) return false;
    hasher.add(check_of({chunk.data(), length}));
    offset += length;
  }
  hash_ = hasher;
  return true;
}

bool TransferSink::commit() {
  if (fd_ < 0) return true;
  if (::fsync(fd_) != 0 || ::rename(temporary_path_.c_str(), final_path_.c_str()) != 0) {
    discard();
    return false;
  }
  ::close(fd_);
  fd_ = -1;
  // The rename is durable only once the directory is on disk too.
  const int directory = ::open(final_path_.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
  if (directory >= 0) {
    ::fsync(directory);
    ::close(directory);
  }
  return true;
}

}  // namespace tickwire::net::transfer_detail
