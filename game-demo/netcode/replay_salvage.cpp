#include "replay_salvage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include <tickwire/net/lobby.hpp>
#include <tickwire/sim/replay.hpp>

namespace arena {
namespace {

namespace fs = std::filesystem;
namespace sim = tickwire::sim;

constexpr std::string_view kPartSuffix = ".part";

// Closes the descriptor (and so drops its lock) on every way out.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// False when it cannot be read; an empty `bytes` for a file over the reader's limit (no
// recording grows that large: it is not one).
bool read_whole(int fd, std::vector<std::byte>& bytes) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return false;
  if (static_cast<std::uint64_t>(info.st_size) > sim::ReplayReaderLimits{}.max_file_bytes) {
    bytes.clear();
    return true;
  }
  bytes.resize(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got =
        ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

bool write_all(int fd, std::span<const std::byte> bytes, std::size_t at) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
    if (put <= 0) return false;
    done += static_cast<std::size_t>(put);
  }
  return true;
}

enum class Outcome { salvaged, removed, left };

Outcome salvage_one(const fs::path& part) {
  const std::string cut_name = cut_replay_name(part.filename().string());
  FileDescriptor file{::open(part.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW)};
  if (file.fd < 0) return Outcome::left;
  // A recorder still writing it holds the lock (a second server on the same folder).
  if (::flock(file.fd, LOCK_EX | LOCK_NB) != 0) return Outcome::left;
  std::vector<std::byte> bytes;
  if (!read_whole(file.fd, bytes)) return Outcome::left;
  auto salvaged = sim::salvage_replay(bytes);
  std::error_code error;
  if (!salvaged) {
    fs::remove(part, error);
    return error ? Outcome::left : Outcome::removed;
  }
  // The recording's whole chunks stay where they are; the rebuilt index and trailer replace the
  // rest. Cut off here (a crash), the file is salvaged again at the next start, the same way.
  const std::span<const std::byte> ending =
      std::span<const std::byte>(salvaged->file).subspan(salvaged->kept_bytes);
  if (::ftruncate(file.fd, static_cast<off_t>(salvaged->kept_bytes)) != 0 ||
      !write_all(file.fd, ending, salvaged->kept_bytes) || ::fsync(file.fd) != 0) {
    return Outcome::left;
  }
  fs::rename(part, part.parent_path() / cut_name, error);
  return error ? Outcome::left : Outcome::salvaged;
}

}  // namespace

std::string cut_replay_name(const std::string& part_name) {
  const std::string_view name(part_name);
  if (!name.ends_with(kPartSuffix)) return {};
  const std::string_view replay = name.substr(0, name.size() - kPartSuffix.size());
  if (!tickwire::net::is_replay_file_name(replay)) return {};
  const std::string_view stem =
      replay.substr(0, replay.size() - tickwire::net::kReplayFileExtension.size());
  std::string cut = std::string(stem) + "-cut" + std::string(tickwire::net::kReplayFileExtension);
  return tickwire::net::is_replay_file_name(cut) ? cut : std::string();
}

SalvageCounts salvage_interrupted_recordings(const fs::path& directory) {
  SalvageCounts counts;
  std::vector<fs::path> parts;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (!cut_replay_name(it->path().filename().string()).empty() && it->is_regular_file(error) &&
        !it->is_symlink(error)) {
      parts.push_back(it->path());
    }
  }
  for (const fs::path& part : parts) {
    switch (salvage_one(part)) {
      case Outcome::salvaged:
        ++counts.salvaged;
        break;
      case Outcome::removed:
        ++counts.removed;
        break;
      case Outcome::left:
        break;
    }
  }
  return counts;
}

}  // namespace arena
