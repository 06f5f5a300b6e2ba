#pragma once
// "host:port" as the lobby names game servers and as the programs take addresses on their
// command lines, split in one place.

#include <cstdint>
#include <optional>
#include <string>

namespace arena {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// Nothing unless `address` is a non-empty host, a colon and a port 1..65535.
std::optional<HostPort> parse_host_port(const std::string& address);

}  // namespace arena
