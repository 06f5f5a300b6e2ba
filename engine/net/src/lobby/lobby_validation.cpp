#include "lobby/lobby_validation.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace tickwire::net::lobby_detail {

std::string check_nickname(std::string_view nickname, std::size_t min, std::size_t max) {
  if (nickname.size() < min || nickname.size() > max) {
    return "a nickname has " + std::to_string(min) + " to " + std::to_string(max) +
           " characters, this one " + std::to_string(nickname.size());
  }
  const bool allowed = std::all_of(nickname.begin(), nickname.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  if (!allowed) return "a nickname may hold only letters A-Z, digits, '_' and '-'";
  return {};
}

std::string check_text(std::string_view what, std::string_view text, std::size_t min,
                       std::size_t max) {
  if (text.size() < min || text.size() > max) {
    return std::string(what) + " has " + std::to_string(min) + " to " + std::to_string(max) +
           " bytes, this one " + std::to_string(text.size());
  }
  if (!is_valid_utf8(text)) return std::string(what) + " is not valid UTF-8";
  // Control characters would let one player mess up everyone else's screen or log.
  const bool clean = std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (!clean) return std::string(what) + " may not hold control characters";
  return {};
}

bool is_usable_seal_key(std::span<const std::uint8_t> key) {
  if (key.size() != crypto_box_PUBLICKEYBYTES) return false;
  // Sealing a byte is the test: libsodium refuses a key whose shared secret would be all zeros
  // (a low-order point), such as the all-zero key of a config never filled in.
  std::array<std::uint8_t, 1> probe{};
  std::array<std::uint8_t, 1 + crypto_box_SEALBYTES> sealed{};
  return sodium_init() >= 0 &&
         crypto_box_seal(sealed.data(), probe.data(), probe.size(), key.data()) == 0;
}

std::string nickname_key(std::string_view nickname) {
  std::string key(nickname);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code = lead & 0x1fu;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code = lead & 0x0fu;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code = lead & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (RFC 3629).
    static constexpr std::uint32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace tickwire::net::lobby_detail
