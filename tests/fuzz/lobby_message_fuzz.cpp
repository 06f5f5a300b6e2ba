// Fuzz target for the lobby's message decoder: the first byte picks a binary frame (FlatBuffers)
// or a text frame (JSON parsed against the embedded schema); the rest is the frame.

#include <cstddef>
#include <cstdint>
#include <span>

#include "lobby/lobby_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tickwire::net::lobby_detail::LobbyCodec codec;
  if (size == 0) return 0;
  const auto frame = std::as_bytes(std::span(data + 1, size - 1));
  tickwire::net::lobby_detail::DecodeError error{};
  const auto* message =
      (data[0] & 1) != 0 ? codec.decode_json(frame, error) : codec.decode_binary(frame, error);
  // A decoded message is a verified request: reading it must be safe.
  if (message != nullptr) (void)message->request_id();
  return 0;
}
