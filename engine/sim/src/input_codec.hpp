#pragma once
// The client update (schemas/sim.fbs ClientUpdate): a client's acknowledgement and its newest
// unapplied inputs, bit-packed inside a verified FlatBuffers buffer. It goes out once per client
// tick, so every bit counts; the decoder reads bytes from the network and checks every count,
// size and tick before it keeps anything.
//
// `bits`, most significant bit first (varuint = Elias gamma of v + 1, bit_stream.hpp):
//   count       varuint  inputs in this update, 0..input_redundancy
//   has_ack     1 bit    a snapshot was received; then its tick's low 16 bits (the receiver
//                        takes the newest snapshot it sent with those bits) and, with inputs, the
//                        newest input's tick as 1 bit "at or after the ack" and
//                        varuint(distance from the ack)
//               else, with inputs, the newest input's tick in 32 bits; the other inputs are the
//                        count - 1 ticks before it, oldest first below
//   inputs      oldest first: the first whole (varuint size, then its bytes); each later one
//               1 bit "changed" against the one before it; if changed, 1 bit "same size" and
//               then per byte 1 bit "changed" and the new byte if so, or varuint size and every
//               byte
// The padding bits of the last byte are zero.

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim::detail {

using PendingInput = std::pair<WireTick, std::vector<std::byte>>;

// The ClientUpdate message acknowledging `ack` (0 = none) and carrying `inputs`, whose ticks
// are consecutive and increasing.
std::vector<std::byte> encode_client_update(WireTick ack, std::span<const PendingInput> inputs);

struct ClientUpdateLimits {
  std::size_t max_inputs = 8;         // ReplicatorConfig::input_redundancy
  std::size_t max_input_bytes = 256;  // ReplicatorConfig::max_input_bytes
  WireTick newest_sent = 0;           // the newest snapshot sent to this client (0 = none)
};

enum class UpdateDecode : std::uint8_t {
  ok,
  malformed,        // not a ClientUpdate, a bad bit stream, ticks out of range
  inputs_rejected,  // well formed, but more inputs or larger ones than the limits allow
};

struct DecodedUpdate {
  WireTick ack = 0;         // 0 = none; at most ClientUpdateLimits::newest_sent
  WireTick first_tick = 0;  // tick of inputs[0]; the rest follow one tick apart
  std::vector<std::vector<std::byte>> inputs;
};

// Decodes `message` into `out` (whose vectors are reused). Nothing in `out` is meaningful unless
// the result is ok.
UpdateDecode decode_client_update(std::span<const std::byte> message,
                                  const ClientUpdateLimits& limits, DecodedUpdate& out);

// The largest message an update within `limits` can be, in bytes: what a receiver accepts.
std::size_t max_client_update_bytes(const ClientUpdateLimits& limits);

}  // namespace tickwire::sim::detail
