#pragma once
// What the 32-bit tag in ENet's checksum field covers in an encrypted session (docs/security.md):
// the datagram's header with the seed in the checksum field, every command header, every
// fragment's data, and of each whole sealed packet only its seal header and AEAD tag. The
// ciphertext between them is covered by the AEAD, which the receiver checks before ENet reads the
// datagram (MessageOpener::decrypt_in_place); hashing the AEAD tag binds each sealed packet to
// its command, so packets cannot be swapped or moved. The sender builds the covered bytes from
// ENet's send buffers, the receiver from the datagram: both the same way, here.

#include <cstddef>
#include <cstdint>
#include <span>

#include "enet/datagram_inspector.hpp"

namespace tickwire::net::enet_detail {

// Commands whose data is one whole ENet packet, sealed on its own.
constexpr bool carries_whole_packet(EnetCommand command) {
  return command == EnetCommand::send_reliable || command == EnetCommand::send_unreliable ||
         command == EnetCommand::send_unsequenced;
}

// Commands followed by data (a whole packet or a fragment of one).
constexpr bool carries_data(EnetCommand command) {
  return carries_whole_packet(command) || command == EnetCommand::send_fragment ||
         command == EnetCommand::send_unreliable_fragment;
}

// Gathers the covered bytes into a caller's buffer, which must hold the whole datagram.
class TagCoverage {
 public:
  explicit TagCoverage(std::span<std::uint8_t> buffer) : buffer_(buffer) {}
  // Bytes covered whole: the header and tag field, a command header. False if they do not fit.
  bool add(std::span<const std::uint8_t> bytes);
  // The data after a command of kind `command`.
  bool add_data(EnetCommand command, std::span<const std::uint8_t> data);
  std::span<const std::uint8_t> covered() const { return buffer_.first(size_); }

 private:
  std::span<std::uint8_t> buffer_;
  std::size_t size_ = 0;
};

// The covered bytes of a received datagram (its tag field already holding the seed), or an empty
// span if it does not walk as ENet commands.
std::span<const std::uint8_t> covered_by_tag(std::span<const std::uint8_t> datagram,
                                             std::span<std::uint8_t> buffer);

}  // namespace tickwire::net::enet_detail
