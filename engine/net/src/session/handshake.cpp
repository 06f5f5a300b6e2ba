#include "session/handshake.hpp"

#include <sodium.h>

#include <cstring>

namespace tickwire::net::session {
namespace {

constexpr std::size_t kPrefixBytes = 4;  // magic, type, version
constexpr std::uint8_t kOffersAes = 1;   // RESPONSE's cipher byte: the client can use AES-256-GCM

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::uint32_t get_u32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

std::vector<std::uint8_t> prefix(HandshakeType type) {
  std::vector<std::uint8_t> out;
  out.reserve(kHelloBytes);
  out.push_back(kMagic[0]);
  out.push_back(kMagic[1]);
  out.push_back(static_cast<std::uint8_t>(type));
  out.push_back(kHandshakeVersion);
  return out;
}

}  // namespace

bool is_handshake(std::span<const std::uint8_t> datagram) {
  return datagram.size() >= 2 && datagram[0] == kMagic[0] && datagram[1] == kMagic[1];
}

std::optional<HandshakePacket> decode_handshake(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kPrefixBytes || !is_handshake(datagram) ||
      datagram[3] != kHandshakeVersion) {
    return std::nullopt;
  }
  HandshakePacket packet;
  const std::uint8_t* body = datagram.data() + kPrefixBytes;
  const std::size_t size = datagram.size() - kPrefixBytes;
  switch (static_cast<HandshakeType>(datagram[2])) {
    case HandshakeType::hello:
      // Exactly the padded size: a short HELLO would let the challenge outgrow it.
      if (datagram.size() != kHelloBytes) return std::nullopt;
      packet.type = HandshakeType::hello;
      packet.protocol_id = get_u32(body);
      return packet;
    case HandshakeType::challenge:
      if (size != kCookieBytes) return std::nullopt;
      packet.type = HandshakeType::challenge;
      std::memcpy(packet.cookie.data(), body, kCookieBytes);
      return packet;
    case HandshakeType::response: {
      if (size < 4 + kCookieBytes + 3 || body[4 + kCookieBytes] > kOffersAes) return std::nullopt;
      packet.type = HandshakeType::response;
      packet.protocol_id = get_u32(body);
      std::memcpy(packet.cookie.data(), body + 4, kCookieBytes);
      packet.offers_aes = body[4 + kCookieBytes] == kOffersAes;
      const std::size_t ticket_size =
          (std::size_t{body[4 + kCookieBytes + 1]} << 8) | body[4 + kCookieBytes + 2];
      const std::size_t ticket_at = 4 + kCookieBytes + 3;
      if (ticket_size > kMaxTicketBytes || size - ticket_at != ticket_size) return std::nullopt;
      packet.ticket = {body + ticket_at, ticket_size};
      return packet;
    }
    case HandshakeType::accept:
      // 0: plaintext; otherwise the Cipher.
      if (size != 1 + kAcceptTagBytes || body[0] > static_cast<std::uint8_t>(Cipher::aes256_gcm)) {
        return std::nullopt;
      }
      packet.type = HandshakeType::accept;
      packet.encrypted = body[0] != 0;
      if (packet.encrypted) packet.cipher = static_cast<Cipher>(body[0]);
      std::memcpy(packet.accept_tag.data(), body + 1, kAcceptTagBytes);
      return packet;
    case HandshakeType::deny:
      // A reason byte, and after ticket_rejected a byte saying why (a detail this side does not
      // know is taken as none, so that a newer server's details do not make the DENY unreadable).
      if (size < 1 || size > 2 || body[0] < 1 || body[0] > 3) return std::nullopt;
      packet.type = HandshakeType::deny;
      packet.deny = static_cast<DenyReason>(body[0]);
      if (size == 2) {
        if (packet.deny != DenyReason::ticket_rejected) return std::nullopt;
        if (body[1] <= static_cast<std::uint8_t>(kLastTicketRefusal)) {
          packet.refusal = static_cast<TicketRefusal>(body[1]);
        }
      }
      return packet;
  }
  return std::nullopt;
}

std::vector<std::uint8_t> encode_hello(std::uint32_t protocol_id) {
  std::vector<std::uint8_t> out = prefix(HandshakeType::hello);
  put_u32(out, protocol_id);
  out.resize(kHelloBytes, 0);
  return out;
}

std::vector<std::uint8_t> encode_challenge(const Cookie& cookie) {
  std::vector<std::uint8_t> out = prefix(HandshakeType::challenge);
  out.insert(out.end(), cookie.begin(), cookie.end());
  return out;
}

std::vector<std::uint8_t> encode_response(std::uint32_t protocol_id, const Cookie& cookie,
                                          bool offers_aes, std::span<const std::byte> ticket) {
  std::vector<std::uint8_t> out = prefix(HandshakeType::response);
  put_u32(out, protocol_id);
  out.insert(out.end(), cookie.begin(), cookie.end());
  out.push_back(offers_aes ? kOffersAes : 0);
  out.push_back(static_cast<std::uint8_t>(ticket.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(ticket.size()));
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(ticket.data());
  out.insert(out.end(), bytes, bytes + ticket.size());
  return out;
}

std::vector<std::uint8_t> encode_accept(std::optional<Cipher> cipher,
                                        const std::array<std::uint8_t, kAcceptTagBytes>& tag) {
  std::vector<std::uint8_t> out = prefix(HandshakeType::accept);
  out.push_back(cipher ? static_cast<std::uint8_t>(*cipher) : 0);
  out.insert(out.end(), tag.begin(), tag.end());
  return out;
}

std::vector<std::uint8_t> encode_deny(DenyReason reason, TicketRefusal refusal) {
  std::vector<std::uint8_t> out = prefix(HandshakeType::deny);
  out.push_back(static_cast<std::uint8_t>(reason));
  if (reason == DenyReason::ticket_rejected && refusal != TicketRefusal::none) {
    out.push_back(static_cast<std::uint8_t>(refusal));
  }
  return out;
}

std::array<std::uint8_t, kAcceptTagBytes> accept_tag(const std::array<std::uint8_t, 16>& tag_key,
                                                     const Cookie& cookie, bool offers_aes,
                                                     Cipher cipher) {
  std::array<std::uint8_t, kCookieBytes + 2> input{};
  std::memcpy(input.data(), cookie.data(), kCookieBytes);
  input[kCookieBytes] = offers_aes ? kOffersAes : 0;
  input[kCookieBytes + 1] = static_cast<std::uint8_t>(cipher);
  std::array<std::uint8_t, kAcceptTagBytes> tag{};
  crypto_generichash(tag.data(), tag.size(), input.data(), input.size(), tag_key.data(),
                     tag_key.size());
  return tag;
}

CookieJar::CookieJar(std::uint32_t lifetime_ms) : lifetime_ms_(lifetime_ms == 0 ? 1 : lifetime_ms) {
  randombytes_buf(secret_.data(), secret_.size());
}

Cookie CookieJar::make_for_slot(std::uint32_t slot, std::uint32_t ipv4, std::uint16_t port,
                                std::uint32_t protocol_id) const {
  std::array<std::uint8_t, 14> input{};
  std::memcpy(input.data(), &slot, 4);
  std::memcpy(input.data() + 4, &ipv4, 4);
  std::memcpy(input.data() + 8, &port, 2);
  std::memcpy(input.data() + 10, &protocol_id, 4);
  Cookie cookie{};
  std::memcpy(cookie.data(), &slot, 4);
  crypto_generichash(cookie.data() + 4, kCookieBytes - 4, input.data(), input.size(),
                     secret_.data(), secret_.size());
  return cookie;
}

Cookie CookieJar::make(std::uint32_t ipv4, std::uint16_t port, std::uint32_t protocol_id,
                       std::uint64_t now_ms) const {
  return make_for_slot(static_cast<std::uint32_t>(now_ms / lifetime_ms_), ipv4, port, protocol_id);
}

bool CookieJar::check(const Cookie& cookie, std::uint32_t ipv4, std::uint16_t port,
                      std::uint32_t protocol_id, std::uint64_t now_ms) const {
  std::uint32_t slot = 0;
  std::memcpy(&slot, cookie.data(), 4);
  const auto now_slot = static_cast<std::uint32_t>(now_ms / lifetime_ms_);
  if (slot != now_slot && slot + 1 != now_slot) return false;
  const Cookie expected = make_for_slot(slot, ipv4, port, protocol_id);
  return sodium_memcmp(expected.data(), cookie.data(), kCookieBytes) == 0;
}

}  // namespace tickwire::net::session
