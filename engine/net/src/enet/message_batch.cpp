#include "enet/message_batch.hpp"

namespace tickwire::net::enet_detail {
namespace {

constexpr std::size_t kMaxPrefixBytes = 3;  // lengths below 2^21

std::size_t prefix_size(std::size_t size) {
  std::size_t bytes = 1;
  while (size >= 0x80) {
    size >>= 7;
    ++bytes;
  }
  return bytes;
}

}  // namespace

std::size_t OpenBatch::framed_size(std::size_t size) {
  return prefix_size(size) + size;
}

void OpenBatch::append(std::span<const std::byte> message) {
  std::size_t size = message.size();
  const std::size_t prefix = prefix_size(size);
  if (messages == 0) first_prefix = prefix;
  while (size >= 0x80) {
    framed.push_back(static_cast<std::uint8_t>(size | 0x80));
    size >>= 7;
  }
  framed.push_back(static_cast<std::uint8_t>(size));
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(message.data());
  framed.insert(framed.end(), bytes, bytes + message.size());
  ++messages;
}

std::span<const std::uint8_t> OpenBatch::body() const {
  const std::span<const std::uint8_t> all(framed);
  return several() ? all : all.subspan(first_prefix);
}

void OpenBatch::clear() {
  framed.clear();
  messages = 0;
  first_prefix = 0;
}

bool split_batch(std::span<const std::uint8_t> body, bool several,
                 std::vector<std::span<const std::byte>>& out) {
  out.clear();
  const auto* data = reinterpret_cast<const std::byte*>(body.data());
  if (!several) {
    out.emplace_back(data, body.size());
    return true;
  }
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t size = 0;
    std::size_t shift = 0;
    std::size_t prefix = 0;
    for (;;) {
      if (at >= body.size() || prefix == kMaxPrefixBytes) {
        out.clear();
        return false;
      }
      const std::uint8_t byte = body[at++];
      ++prefix;
      size |= std::size_t{byte & 0x7Fu} << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (body.size() - at < size) {
      out.clear();
      return false;
    }
    out.emplace_back(data + at, size);
    at += size;
  }
  // A body of "several" with fewer than two messages is not what a sender makes.
  if (out.size() < 2) {
    out.clear();
    return false;
  }
  return true;
}

}  // namespace tickwire::net::enet_detail
