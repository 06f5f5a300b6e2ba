#include "key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace arena {
namespace {

namespace net = tickwire::net;

// Fills `out` from exactly out.size() * 2 hex digits.
bool from_hex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = digit(hex[i * 2]);
    const int low = digit(hex[i * 2 + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return true;
}

// Reads the key in `path` into `key`: true when read, false when the file does not open.
net::Result<bool> read_key(const std::string& path, std::span<std::uint8_t> key) {
  std::ifstream in(path);
  if (!in) return false;
  std::string hex;
  in >> hex;
  if (!from_hex(hex, key)) {
    return net::Status::error("key file " + path + ": expected " + std::to_string(key.size() * 2) +
                              " hex digits");
  }
  return true;
}

// Writes `key` to a new file at `path` that only its owner may read.
net::Status write_new_key(const std::string& path, std::span<const std::uint8_t> key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return net::Status::error("key file " + path + ": " + std::strerror(errno));
  const std::string line = to_hex(key) + '\n';
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) return net::Status::error("key file " + path + ": write failed");
  return {};
}

}  // namespace

namespace {

// The one way every key pair comes from a file: read the secret key in `path` and derive the
// pair from it (`Keys::from_secret_key`), or, when the file does not exist, generate a pair and
// write its secret key there (`secret_of` picks it out).
template <typename Keys, typename Secret, typename SecretOf>
net::Result<Keys> load_or_create(const std::string& path, Keys (*generate)(),
                                 Keys (*from_secret_key)(const Secret&), SecretOf secret_of) {
  Secret secret{};
  auto read = read_key(path, secret);
  if (!read) return net::Status::error(read.error());
  if (read.value()) return from_secret_key(secret);
  Keys keys = generate();
  if (net::Status written = write_new_key(path, secret_of(keys)); !written.ok()) return written;
  return keys;
}

}  // namespace

net::Result<net::JoinTicketIssuer> load_or_create_key(const std::string& path) {
  return load_or_create(path, &net::JoinTicketIssuer::generate,
                        &net::JoinTicketIssuer::from_secret_key,
                        [](const net::JoinTicketIssuer& issuer) { return issuer.secret_key(); });
}

net::Result<net::GameServerSealKeys> load_or_create_seal_keys(const std::string& path) {
  return load_or_create(path, &net::GameServerSealKeys::generate,
                        &net::GameServerSealKeys::from_secret_key,
                        [](const net::GameServerSealKeys& keys) { return keys.secret_key; });
}

net::Result<net::ServerIdentity> load_or_create_identity(const std::string& path) {
  return load_or_create(path, &net::ServerIdentity::generate, &net::ServerIdentity::from_secret_key,
                        [](const net::ServerIdentity& identity) { return identity.secret_key; });
}

net::Result<std::string> config_file_path(const std::string& file) {
  std::string base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    base = std::string(home) + "/.config";
  } else {
    return net::Status::error("neither XDG_CONFIG_HOME nor HOME is set: name the file for " + file +
                              " with its option");
  }
  const std::string directory = base + "/tickwire";
  for (const std::string& dir : {base, directory}) {
    if (::mkdir(dir.c_str(), dir == directory ? 0700 : 0755) != 0 && errno != EEXIST) {
      return net::Status::error("cannot create " + dir + ": " + std::strerror(errno));
    }
  }
  return directory + "/" + file;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xF];
  }
  return hex;
}

std::optional<net::ServerSealPublicKey> parse_seal_public_key(std::string_view hex) {
  net::ServerSealPublicKey key{};
  if (!from_hex(hex, key)) return std::nullopt;
  return key;
}

}  // namespace arena
