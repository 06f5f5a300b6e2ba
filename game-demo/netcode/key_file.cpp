#include "key_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace arena {

namespace net = tickwire::net;

net::Result<net::JoinTicketIssuer> load_or_create_key(const std::string& path) {
  std::ifstream in(path);
  if (in) {
    std::string hex;
    in >> hex;
    net::TicketSecretKey secret{};
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
    return net::JoinTicketIssuer::from_secret_key(secret);
  }
  net::JoinTicketIssuer issuer = net::JoinTicketIssuer::generate();
  // Only the owner may read a secret key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return net::Status::error("key file " + path + ": " + std::strerror(errno));
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (const std::uint8_t byte : issuer.secret_key()) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xF];
  }
  hex += '\n';
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  if (!written) return net::Status::error("key file " + path + ": write failed");
  return issuer;
}

}  // namespace arena
