#pragma once
// Builds and reads the demo's Ping/Pong messages (schemas/ping.fbs). Reading verifies the buffer
// first: bytes from the network are never trusted.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tickwire::demo {

struct PingMessage {
  std::uint32_t sequence = 0;
  std::uint64_t client_time_us = 0;
  std::string note;
};

struct PongMessage {
  std::uint32_t sequence = 0;
  std::uint64_t client_time_us = 0;
  std::uint64_t server_time_us = 0;
  std::uint32_t peers = 0;
};

std::vector<std::byte> encode(const PingMessage& ping);
std::vector<std::byte> encode(const PongMessage& pong);

// Exactly one of them is set for a valid probe; neither for anything else.
struct DecodedProbe {
  std::optional<PingMessage> ping;
  std::optional<PongMessage> pong;
};
DecodedProbe decode_probe(std::span<const std::byte> bytes);

}  // namespace tickwire::demo
