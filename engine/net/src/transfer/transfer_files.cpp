#include "transfer/transfer_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "sodium_ready.hpp"

namespace tickwire::net::transfer_detail {

StreamingHash::StreamingHash() {
  ensure_sodium();
  crypto_generichash_init(&state_, nullptr, 0, kHashBytes);
}

void StreamingHash::update(std::span<const std::byte> bytes) {
  crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

Hash StreamingHash::finish() const {
  // Finalizing consumes a state: finalize a copy.
  crypto_generichash_state state = state_;
  Hash hash{};
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(hash.data()), hash.size());
  return hash;
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

}  // namespace

std::optional<TransferSource> TransferSource::open_file(const std::filesystem::path& path,
                                                        Hash& hash) {
  TransferSource source;
  source.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (source.fd_ < 0) return std::nullopt;
  struct stat info {};
  if (::fstat(source.fd_, &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  source.size_ = static_cast<std::uint64_t>(info.st_size);
  StreamingHash hasher;
  std::vector<std::byte> block(1024 * 1024);
  for (std::uint64_t offset = 0; offset < source.size_;) {
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), source.size_ - offset));
    if (!pread_all(source.fd_, offset, {block.data(), length})) return std::nullopt;
    hasher.update({block.data(), length});
    offset += length;
  }
  hash = hasher.finish();
  return source;
}

TransferSource TransferSource::from_bytes(std::span<const std::byte> bytes, Hash& hash) {
  TransferSource source;
  source.bytes_.assign(bytes.begin(), bytes.end());
  source.size_ = bytes.size();
  StreamingHash hasher;
  hasher.update(bytes);
  hash = hasher.finish();
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
    bytes_ = std::move(other.bytes_);
  }
  return *this;
}

TransferSource::~TransferSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool TransferSource::read(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset) return false;
  if (fd_ < 0) {
    std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return true;
  }
  return pread_all(fd_, offset, out);
}

std::optional<TransferSink> TransferSink::create(const std::filesystem::path& directory,
                                                 const std::string& name, TransferId id) {
  TransferSink sink;
  if (directory.empty()) return sink;
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

bool TransferSink::write(std::uint64_t offset, std::span<const std::byte> bytes) {
  if (offset != written_) return false;
  if (fd_ < 0) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  } else if (!pwrite_all(fd_, offset, bytes)) {
    return false;
  }
  hash_.update(bytes);
  written_ += bytes.size();
  return true;
}

Hash TransferSink::hash_written() const {
  return hash_.finish();
}

bool TransferSink::rehash_from_storage() {
  if (fd_ < 0) return true;
  StreamingHash hasher;
  std::vector<std::byte> block(1024 * 1024);
  for (std::uint64_t offset = 0; offset < written_;) {
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), written_ - offset));
    if (!pread_all(fd_, offset, {block.data(), length})) return false;
    hasher.update({block.data(), length});
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
