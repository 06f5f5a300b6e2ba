#include "session/stream_handshake.hpp"

#include <sodium.h>

#include <algorithm>

namespace tickwire::net::session::stream {
namespace {

constexpr std::uint8_t kHasProof = 0x01;

void put_header(std::vector<std::uint8_t>& out, MessageType type) {
  out.push_back(kMagic[0]);
  out.push_back(kMagic[1]);
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(type));
}

bool has_header(std::span<const std::uint8_t> message, MessageType type) {
  return message.size() >= kHeaderBytes && message[0] == kMagic[0] && message[1] == kMagic[1] &&
         message[2] == kVersion && message[3] == static_cast<std::uint8_t>(type);
}

Proof proof_from(std::span<const std::uint8_t> bytes) {
  Proof proof{};
  std::copy(bytes.begin(), bytes.begin() + kProofBytes, proof.begin());
  return proof;
}

}  // namespace

std::vector<std::uint8_t> encode_challenge(const Challenge& challenge) {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + challenge.size());
  put_header(out, MessageType::challenge);
  out.insert(out.end(), challenge.begin(), challenge.end());
  return out;
}

std::optional<Challenge> decode_challenge(std::span<const std::uint8_t> message) {
  if (!has_header(message, MessageType::challenge) ||
      message.size() != kHeaderBytes + kChallengeBytes) {
    return std::nullopt;
  }
  Challenge challenge{};
  std::copy(message.begin() + kHeaderBytes, message.end(), challenge.begin());
  return challenge;
}

std::vector<std::uint8_t> encode_hello(std::span<const std::byte> ticket,
                                       const std::optional<Proof>& proof) {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + 3 + ticket.size() + kProofBytes);
  put_header(out, MessageType::hello);
  out.push_back(proof ? kHasProof : 0);
  out.push_back(static_cast<std::uint8_t>(ticket.size() & 0xFF));
  out.push_back(static_cast<std::uint8_t>(ticket.size() >> 8));
  for (const std::byte byte : ticket)
    out.push_back(static_cast<std::uint8_t>(byte));
  if (proof) out.insert(out.end(), proof->begin(), proof->end());
  return out;
}

std::optional<Hello> decode_hello(std::span<const std::uint8_t> message) {
  if (!has_header(message, MessageType::hello) || message.size() < kHeaderBytes + 3) {
    return std::nullopt;
  }
  const std::uint8_t flags = message[kHeaderBytes];
  if ((flags & ~kHasProof) != 0) return std::nullopt;
  const std::size_t ticket_size =
      message[kHeaderBytes + 1] | (std::size_t{message[kHeaderBytes + 2]} << 8);
  const std::size_t proof_size = (flags & kHasProof) != 0 ? kProofBytes : 0;
  if (ticket_size > kMaxTicketBytes ||
      message.size() != kHeaderBytes + 3 + ticket_size + proof_size) {
    return std::nullopt;
  }
  Hello hello;
  hello.ticket = message.subspan(kHeaderBytes + 3, ticket_size);
  if (proof_size != 0) hello.proof = proof_from(message.subspan(kHeaderBytes + 3 + ticket_size));
  return hello;
}

std::vector<std::uint8_t> encode_accept(const std::optional<Proof>& sealed_challenge) {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + 1 + kProofBytes);
  put_header(out, MessageType::accept);
  out.push_back(sealed_challenge ? kHasProof : 0);
  if (sealed_challenge) out.insert(out.end(), sealed_challenge->begin(), sealed_challenge->end());
  return out;
}

std::optional<Accept> decode_accept(std::span<const std::uint8_t> message) {
  if (!has_header(message, MessageType::accept) || message.size() < kHeaderBytes + 1) {
    return std::nullopt;
  }
  const std::uint8_t flags = message[kHeaderBytes];
  if ((flags & ~kHasProof) != 0) return std::nullopt;
  const std::size_t proof_size = (flags & kHasProof) != 0 ? kProofBytes : 0;
  if (message.size() != kHeaderBytes + 1 + proof_size) return std::nullopt;
  Accept accept;
  if (proof_size != 0) accept.sealed_challenge = proof_from(message.subspan(kHeaderBytes + 1));
  return accept;
}

std::vector<std::uint8_t> encode_refusal(TicketRefusal refusal) {
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + 1);
  put_header(out, MessageType::refusal);
  out.push_back(static_cast<std::uint8_t>(refusal));
  return out;
}

std::optional<TicketRefusal> decode_refusal(std::span<const std::uint8_t> message) {
  if (!has_header(message, MessageType::refusal) || message.size() != kHeaderBytes + 1) {
    return std::nullopt;
  }
  const std::uint8_t value = message[kHeaderBytes];
  if (value > static_cast<std::uint8_t>(kLastTicketRefusal)) return TicketRefusal::none;
  return static_cast<TicketRefusal>(value);
}

Proof seal_challenge(MessageSealer& sealer, const Challenge& challenge) {
  Proof proof{};
  sealer.seal(challenge, false, kHandshakeChannel, true, proof);
  return proof;
}

bool opens_to_challenge(MessageOpener& opener, Proof proof, const Challenge& challenge) {
  const Opened opened = opener.open(proof, kHandshakeChannel, true);
  return opened.result == OpenResult::ok && opened.body.size() == challenge.size() &&
         sodium_memcmp(opened.body.data(), challenge.data(), challenge.size()) == 0;
}

}  // namespace tickwire::net::session::stream
