#pragma once
// WebSocket frames by hand, for raw TCP clients that do what a library would not (oversize or
// broken frames, a client on another source address): a client frame, the server frames in what
// came back, the upgrade request.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tickwire::test {

// A client frame: FIN, `opcode`, masked with a zero key (so the payload goes as is).
// `claimed_length` overrides the length in the header.
inline std::string frame(std::uint8_t opcode, std::string_view payload,
                         std::optional<std::uint64_t> claimed_length = std::nullopt) {
  const std::uint64_t length = claimed_length.value_or(payload.size());
  std::string out;
  out += static_cast<char>(0x80 | opcode);
  if (length < 126) {
    out += static_cast<char>(0x80 | length);
  } else if (length <= 0xffff) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(length >> 8);
    out += static_cast<char>(length & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((length >> shift) & 0xff);
  }
  out += std::string(4, '\0');  // mask key
  out += payload;
  return out;
}
constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;

// The code of the first close frame in `bytes` (server frames, unmasked), if one is complete.
inline std::optional<std::uint16_t> close_code_in(const std::string& bytes) {
  std::size_t at = 0;
  while (at + 2 <= bytes.size()) {
    const auto opcode = static_cast<std::uint8_t>(bytes[at]) & 0x0f;
    std::uint64_t length = static_cast<std::uint8_t>(bytes[at + 1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (at + 4 > bytes.size()) return std::nullopt;
      length = (static_cast<std::uint8_t>(bytes[at + 2]) << 8) |
               static_cast<std::uint8_t>(bytes[at + 3]);
      header = 4;
    } else if (length == 127) {
      if (at + 10 > bytes.size()) return std::nullopt;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | static_cast<std::uint8_t>(bytes[at + 2 + i]);
      header = 10;
    }
    if (at + header + length > bytes.size()) return std::nullopt;
    if (opcode == 0x8 && length >= 2) {
      return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at + header]) << 8) |
                                        static_cast<std::uint8_t>(bytes[at + header + 1]));
    }
    at += header + length;
  }
  return std::nullopt;
}

inline std::string upgrade_request() {
  return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// The payloads of the complete text frames in `bytes` (server frames, unmasked), in order.
inline std::vector<std::string> text_frames_in(const std::string& bytes) {
  std::vector<std::string> texts;
  std::size_t at = 0;
  while (at + 2 <= bytes.size()) {
    const auto opcode = static_cast<std::uint8_t>(bytes[at]) & 0x0f;
    std::uint64_t length = static_cast<std::uint8_t>(bytes[at + 1]) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (at + 4 > bytes.size()) break;
      length = (static_cast<std::uint8_t>(bytes[at + 2]) << 8) |
               static_cast<std::uint8_t>(bytes[at + 3]);
      header = 4;
    } else if (length == 127) {
      if (at + 10 > bytes.size()) break;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | static_cast<std::uint8_t>(bytes[at + 2 + i]);
      header = 10;
    }
    if (at + header + length > bytes.size()) break;
    if (opcode == 0x1) texts.push_back(bytes.substr(at + header, length));
    at += header + length;
  }
  return texts;
}

}  // namespace tickwire::test
