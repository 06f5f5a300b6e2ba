#pragma once
// Messages batched per channel before they reach ENet. One ENet packet carries every message a
// game sent on a channel, with the same delivery, since the last poll or flush (up to a limit that
// fits one datagram): ENet's per-command costs, and the seal's, are paid once per batch rather
// than per message. Pure framing, unit tested and fuzzed.
//
// An ENet packet's payload is a header, then the body:
//   plaintext sessions: 1 byte, kSeveral or 0;
//   encrypted sessions: session::kSealHeaderBytes (the counter, with the "several" flag), and the
//     body is followed by the AEAD tag.
// The body of one message is the message itself; of several, each is prefixed with its length as
// a LEB128 varint (1..3 bytes).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tickwire/net/types.hpp"

namespace tickwire::net::enet_detail {

inline constexpr std::uint8_t kSeveral = 1;
inline constexpr std::size_t kPlainHeaderBytes = 1;

struct OpenBatch {
  Delivery delivery = Delivery::reliable_ordered;
  std::vector<std::uint8_t> framed;  // every message with its length prefix
  std::size_t messages = 0;
  std::size_t first_prefix = 0;  // bytes of the first message's prefix (dropped for a single one)

  // Bytes `append` would add for a message of `size` bytes.
  static std::size_t framed_size(std::size_t size);
  void append(std::span<const std::byte> message);
  // The body to send: the message alone, or all of them framed.
  std::span<const std::uint8_t> body() const;
  bool several() const { return messages > 1; }
  void clear();
};

// Splits a received body into its messages (views into `body`). False, with `out` cleared, if a
// body of several messages does not frame exactly.
bool split_batch(std::span<const std::uint8_t> body, bool several,
                 std::vector<std::span<const std::byte>>& out);

}  // namespace tickwire::net::enet_detail
