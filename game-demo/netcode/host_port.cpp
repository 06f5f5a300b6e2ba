#include "host_port.hpp"

#include <charconv>

namespace arena {

std::optional<HostPort> parse_host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::uint16_t port = 0;
  const char* begin = address.data() + colon + 1;
  const char* end = address.data() + address.size();
  const auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc{} || ptr != end || port == 0) return std::nullopt;
  return HostPort{address.substr(0, colon), port};
}

}  // namespace arena
