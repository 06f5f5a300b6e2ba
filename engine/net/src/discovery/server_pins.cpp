// The pin file: parsing, formatting, and replacing it atomically.

#include "discovery/server_pins.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "discovery/beacon_codec.hpp"

namespace tickwire::net::discovery_detail {
namespace {

constexpr std::size_t kKeyHexDigits = 2 * sizeof(ServerPublicKey);

bool parse_key(std::string_view hex, ServerPublicKey& key) {
  if (hex.size() != kKeyHexDigits) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    unsigned value = 0;
    for (const char c : hex.substr(2 * i, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    key[i] = static_cast<std::uint8_t>(value);
  }
  return true;
}

}  // namespace

Result<ServerPins> ServerPins::parse(std::string_view text) {
  ServerPins pins;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto error = [&](const std::string& what) {
      return Status::error("line " + std::to_string(line_number) + ": " + what +
                           " (expected \"<64 hex digits> <server name>\")");
    };
    ServerPublicKey key{};
    if (line.size() < kKeyHexDigits + 1 || line[kKeyHexDigits] != ' ' ||
        !parse_key(line.substr(0, kKeyHexDigits), key)) {
      return error("not a key and a name");
    }
    const std::string name(line.substr(kKeyHexDigits + 1));
    if (!printable_name(name)) return error("the name is over 64 bytes or has control characters");
    if (pins.pins_.contains(name)) return error("'" + name + "' is pinned twice");
    pins.pins_.emplace(name, key);
  }
  return pins;
}

Result<ServerPins> ServerPins::load(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) return ServerPins{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("pin file " + path + ": cannot read it");
  std::ostringstream text;
  text << in.rdbuf();
  Result<ServerPins> pins = parse(text.str());
  if (!pins) return Status::error("pin file " + path + ": " + pins.error());
  return pins;
}

const ServerPublicKey* ServerPins::key_for(const std::string& name) const {
  const auto found = pins_.find(name);
  return found != pins_.end() ? &found->second : nullptr;
}

Status ServerPins::add(const std::string& name, const ServerPublicKey& key) {
  if (!printable_name(name)) {
    return Status::error("server name '" + name +
                         "' cannot be pinned: over 64 bytes or control characters");
  }
  const auto [at, added] = pins_.emplace(name, key);
  if (!added && at->second != key) {
    return Status::error("server name '" + name + "' is pinned to another key (" +
                         fingerprint(at->second) + "): remove its line from the pin file if " +
                         "the server's key really changed");
  }
  return {};
}

std::string ServerPins::format() const {
  std::string text =
      "# Tickwire LAN servers joined before: <public key> <name>. A beacon with one of these\n"
      "# names and another key is refused. Delete a line if that server's key really changed.\n";
  for (const auto& [name, key] : pins_) {
    char hex[kKeyHexDigits + 1];
    sodium_bin2hex(hex, sizeof hex, key.data(), key.size());
    text += hex;
    text += ' ';
    text += name;
    text += '\n';
  }
  return text;
}

Status ServerPins::save(const std::string& path) const {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error("pin file " + temporary + ": " + std::strerror(errno));
  const std::string text = format();
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    return Status::error("pin file " + path + ": cannot write it: " + why);
  }
  return {};
}

}  // namespace tickwire::net::discovery_detail
