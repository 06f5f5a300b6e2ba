#include "enet/tag_coverage.hpp"

#include <cstring>

#include "session/session_crypto.hpp"

namespace tickwire::net::enet_detail {

bool TagCoverage::add(std::span<const std::uint8_t> bytes) {
  if (buffer_.size() - size_ < bytes.size()) return false;
  if (!bytes.empty()) std::memcpy(buffer_.data() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
  return true;
}

bool TagCoverage::add_data(EnetCommand command, std::span<const std::uint8_t> data) {
  if (!carries_whole_packet(command) || data.size() < session::kSealOverhead) return add(data);
  return add(data.first(session::kSealHeaderBytes)) && add(data.last(session::kSealTagBytes));
}

std::span<const std::uint8_t> covered_by_tag(std::span<const std::uint8_t> datagram,
                                             std::span<std::uint8_t> buffer) {
  CommandWalker walker(datagram, true);
  TagCoverage coverage(buffer);
  WireCommand command;
  bool first = true;
  while (walker.next(command)) {
    if (first && !coverage.add(datagram.first(command.offset))) return {};
    first = false;
    const std::size_t data_at = command.offset + command.header_size;
    if (!coverage.add(datagram.subspan(command.offset, command.header_size)) ||
        !coverage.add_data(command.command, datagram.subspan(data_at, command.data_length))) {
      return {};
    }
  }
  if (first || walker.malformed()) return {};
  return coverage.covered();
}

}  // namespace tickwire::net::enet_detail
