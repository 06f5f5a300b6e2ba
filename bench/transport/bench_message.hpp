#pragma once
// The header at the start of every message the benchmark sends. It carries everything the echo
// server needs to answer in kind, so that the server code is the same for every transport (raw
// UDP has no delivery kinds of its own to tell them apart).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "tickwire/net/types.hpp"

namespace tickwire::bench {

enum class MessageType : std::uint8_t {
  ping = 1,  // latency: the server echoes it unchanged, with the same delivery kind
  data = 2,  // throughput: the server counts it and acknowledges progress now and then
  ack = 3,   // throughput: server to client, the highest data sequence number seen so far
};

struct MessageHeader {
  MessageType type = MessageType::ping;
  net::Delivery delivery = net::Delivery::reliable_ordered;
  bool measured = false;        // data: sent after the warm-up, so the server counts it
  std::uint32_t ack_every = 1;  // data: acknowledge whenever the sequence passes a multiple of it
  std::uint64_t sequence = 0;
};

// Bytes the header takes; every benchmark message is at least this long.
inline constexpr std::size_t kHeaderSize = 16;
// Data and pings travel on one channel, acknowledgements on another, so that on ENet a reliable
// ack never waits behind (or holds up) the stream it acknowledges.
inline constexpr net::Channel kDataChannel = 0;
inline constexpr net::Channel kAckChannel = 1;

// Native byte order: both ends are in the same process.
inline void write_header(std::span<std::byte> out, const MessageHeader& header) {
  out[0] = static_cast<std::byte>(header.type);
  out[1] = static_cast<std::byte>(header.delivery);
  out[2] = static_cast<std::byte>(header.measured ? 1 : 0);
  out[3] = std::byte{0};
  std::memcpy(out.data() + 4, &header.ack_every, sizeof header.ack_every);
  std::memcpy(out.data() + 8, &header.sequence, sizeof header.sequence);
}

inline std::optional<MessageHeader> read_header(std::span<const std::byte> in) {
  if (in.size() < kHeaderSize) return std::nullopt;
  const auto type = static_cast<std::uint8_t>(in[0]);
  const auto delivery = static_cast<std::uint8_t>(in[1]);
  if (type < 1 || type > 3 || delivery > 2) return std::nullopt;
  MessageHeader header;
  header.type = static_cast<MessageType>(type);
  header.delivery = static_cast<net::Delivery>(delivery);
  header.measured = in[2] != std::byte{0};
  std::memcpy(&header.ack_every, in.data() + 4, sizeof header.ack_every);
  std::memcpy(&header.sequence, in.data() + 8, sizeof header.sequence);
  if (header.ack_every == 0) return std::nullopt;
  return header;
}

}  // namespace tickwire::bench
