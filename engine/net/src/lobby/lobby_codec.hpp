#pragma once
// LobbyMessage in and out, in both of the lobby's wire forms: a FlatBuffer (binary frames) and the
// same message as JSON printed against the same schema (text frames). Every buffer from the
// network is verified before any accessor touches it; JSON is parsed into a FlatBuffer and then
// verified the same way, so the rest of the lobby sees only one kind of message.
//
// Not thread-safe (the JSON parser keeps state): one codec per thread. A frame that fails to
// parse leaves nothing behind: the parser is replaced after every failure.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tickwire/schemas/aligned_view.hpp>

#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::net::lobby_detail {

namespace wire = tickwire::schemas::lobby;

enum class DecodeError {
  none,
  malformed,    // not a LobbyMessage (bad FlatBuffer, invalid JSON): close 1007
  unsupported,  // a LobbyMessage, but its body is not a request a client may send: close 1003
};

class LobbyCodec {
 public:
  LobbyCodec();
  ~LobbyCodec();
  LobbyCodec(const LobbyCodec&) = delete;
  LobbyCodec& operator=(const LobbyCodec&) = delete;

  // A verified request from a binary frame; null with `error` set otherwise. Points into `bytes`,
  // or into the codec's own aligned copy of them when `bytes` are not aligned for FlatBuffers:
  // valid while `bytes` live and until the next decode_binary().
  const wire::LobbyMessage* decode_binary(std::span<const std::byte> bytes, DecodeError& error);
  // A verified request from a text frame; null with `error` set otherwise. Points into the
  // codec's own buffer: valid until the next decode_json().
  const wire::LobbyMessage* decode_json(std::span<const std::byte> text, DecodeError& error);

  // Why the last decode failed, for the error reply: what a person typing JSON by hand needs to
  // fix it (the parser's message, at most a few hundred bytes).
  const std::string& error_detail() const { return error_detail_; }

  // A LobbyMessage the lobby built itself, as one line of JSON.
  std::string to_json(std::span<const std::byte> message);

 private:
  struct JsonParser;
  std::unique_ptr<JsonParser> json_;
  std::optional<schemas::AlignedView> binary_view_;
  std::string error_detail_;
};

// True for the bodies a client may send (requests); false for replies, events and NONE.
bool is_request(wire::LobbyBody body);

}  // namespace tickwire::net::lobby_detail
