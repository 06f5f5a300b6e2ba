#include "key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

namespace arena {
namespace {

namespace net = tickwire::net;
using SecretKey = std::array<std::uint8_t, 64>;

net::Result<SecretKey> load_or_create_secret(const std::string& path,
                                             const std::function<SecretKey()>& generate) {
  SecretKey secret{};
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    if (hex.size() != secret.size() * 2) {
      return net::Status::error("key file " + path + ": expected " +
                                std::to_string(secret.size() * 2) + " hex digits");
    }
    for (std::size_t i = 0; i < secret.size(); ++i) {
      const std::string pair = hex.substr(i * 2, 2);
      char* end = nullptr;
      const unsigned long value = std::strtoul(pair.c_str(), &end, 16);
      if (end != pair.c_str() + 2) return net::Status::error("key file " + path + ": not hex");
      secret[i] = static_cast<std::uint8_t>(value);
    }
    return secret;
  }
  secret = generate();
  // Only the owner may read a secret key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return net::Status::error("key file " + path + ": " + std::strerror(errno));
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (const std::uint8_t byte : secret) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xF];
  }
  hex += '\n';
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!written) return net::Status::error("key file " + path + ": write failed");
  return secret;
}

}  // namespace

net::Result<net::JoinTicketIssuer> load_or_create_key(const std::string& path) {
  auto secret =
      load_or_create_secret(path, [] { return net::JoinTicketIssuer::generate().secret_key(); });
  if (!secret) return net::Status::error(secret.error());
  return net::JoinTicketIssuer::from_secret_key(secret.value());
}

net::Result<net::ServerIdentity> load_or_create_identity(const std::string& path) {
  auto secret =
      load_or_create_secret(path, [] { return net::ServerIdentity::generate().secret_key; });
  if (!secret) return net::Status::error(secret.error());
  return net::ServerIdentity::from_secret_key(secret.value());
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

}  // namespace arena
