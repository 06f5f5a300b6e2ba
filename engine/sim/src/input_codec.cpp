#include "input_codec.hpp"

#include <algorithm>

#include <tickwire/schemas/sim_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

#include "bit_stream.hpp"

namespace tickwire::sim::detail {
namespace {

void write_whole(BitWriter& bits, std::span<const std::byte> payload) {
  bits.write_varuint(static_cast<std::uint32_t>(payload.size()));
  for (const std::byte b : payload)
    bits.write(static_cast<std::uint32_t>(b), 8);
}

void write_delta(BitWriter& bits, std::span<const std::byte> payload,
                 std::span<const std::byte> previous) {
  const bool changed =
      !std::equal(payload.begin(), payload.end(), previous.begin(), previous.end());
  bits.write_bool(changed);
  if (!changed) return;
  const bool same_size = payload.size() == previous.size();
  bits.write_bool(same_size);
  if (!same_size) {
    write_whole(bits, payload);
    return;
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const bool byte_changed = payload[i] != previous[i];
    bits.write_bool(byte_changed);
    if (byte_changed) bits.write(static_cast<std::uint32_t>(payload[i]), 8);
  }
}

// Reads a whole input into `out`. Sizes are checked against the limit, then against the bits
// that are left, before anything of that size is allocated.
UpdateDecode read_whole(BitReader& reader, std::size_t max_bytes, std::vector<std::byte>& out) {
  const std::uint32_t size = reader.read_varuint();
  if (!reader.ok()) return UpdateDecode::malformed;
  if (size > max_bytes) return UpdateDecode::inputs_rejected;
  if (std::size_t{size} * 8 > reader.bits_left()) return UpdateDecode::malformed;
  out.resize(size);
  for (std::byte& b : out)
    b = static_cast<std::byte>(reader.read(8));
  return UpdateDecode::ok;
}

UpdateDecode read_delta(BitReader& reader, std::size_t max_bytes,
                        const std::vector<std::byte>& previous, std::vector<std::byte>& out) {
  if (!reader.read_bool()) {
    out = previous;
    return reader.ok() ? UpdateDecode::ok : UpdateDecode::malformed;
  }
  if (!reader.read_bool()) return read_whole(reader, max_bytes, out);
  out = previous;
  for (std::byte& b : out) {
    if (reader.read_bool()) b = static_cast<std::byte>(reader.read(8));
  }
  return reader.ok() ? UpdateDecode::ok : UpdateDecode::malformed;
}

}  // namespace

std::vector<std::byte> encode_client_update(WireTick ack, std::span<const PendingInput> inputs) {
  BitWriter bits;
  bits.write_varuint(static_cast<std::uint32_t>(inputs.size()));
  const WireTick newest = inputs.empty() ? 0 : inputs.back().first;
  bits.write_bool(ack != 0);
  if (ack != 0) {
    // The server knows roughly which snapshot is acknowledged (one it sent lately): the low 16
    // bits name it. The client runs a few ticks ahead of the snapshots it receives, so its
    // newest input is a few bits away from the ack.
    bits.write(ack & 0xFFFF, 16);
    if (!inputs.empty()) {
      bits.write_bool(newest >= ack);
      bits.write_varuint(newest >= ack ? newest - ack : ack - newest);
    }
  } else if (!inputs.empty()) {
    bits.write(newest, 32);
  }
  const std::vector<std::byte>* previous = nullptr;
  for (const auto& [tick, payload] : inputs) {
    if (previous == nullptr) {
      write_whole(bits, payload);
    } else {
      write_delta(bits, payload, *previous);
    }
    previous = &payload;
  }

  flatbuffers::FlatBufferBuilder builder(bits.bytes().size() + 32);
  builder.Finish(schemas::CreateClientUpdate(
      builder, builder.CreateVector(bits.bytes().data(), bits.bytes().size())));
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

std::size_t max_client_update_bytes(const ClientUpdateLimits& limits) {
  // Count (at most 2 * 7 + 1 bits up to 64), the ack and the newest tick (at most 1 + 16 + 1 +
  // 65 bits), and per
  // input the longer of its two codings: 2 flag bits + a size of up to 2 * 13 + 1 bits + 8 bits a
  // byte, or 2 flag bits + 9 bits a byte.
  const std::size_t per_input = 2 + 27 + 9 * limits.max_input_bytes;
  const std::size_t bits = 15 + 1 + 16 + 1 + 65 + limits.max_inputs * per_input;
  constexpr std::size_t kFraming = 64;  // FlatBuffers: root offset, vtable, table, vector length
  return (bits + 7) / 8 + kFraming;
}

UpdateDecode decode_client_update(std::span<const std::byte> message,
                                  const ClientUpdateLimits& limits, DecodedUpdate& out) {
  if (message.size() > max_client_update_bytes(limits)) return UpdateDecode::malformed;
  const schemas::AlignedView view(message);
  constexpr flatbuffers::uoffset_t kMaxDepth = 4;
  constexpr flatbuffers::uoffset_t kMaxTables = 4;
  flatbuffers::Verifier verifier(view.data(), view.size(), kMaxDepth, kMaxTables);
  if (!verifier.VerifyBuffer<schemas::ClientUpdate>(nullptr)) return UpdateDecode::malformed;
  const auto* bits = flatbuffers::GetRoot<schemas::ClientUpdate>(view.data())->bits();
  if (bits == nullptr) return UpdateDecode::malformed;
  BitReader reader(std::span(bits->data(), bits->size()));

  const std::uint32_t count = reader.read_varuint();
  if (!reader.ok()) return UpdateDecode::malformed;
  if (count > limits.max_inputs) return UpdateDecode::inputs_rejected;
  out.ack = 0;
  std::uint64_t newest = 0;
  if (reader.read_bool()) {
    // The newest snapshot sent with these low 16 bits; one that was never sent is caught by
    // the caller, which accepts only acknowledgements of snapshots it remembers sending.
    const std::uint32_t low = reader.read(16);
    const std::uint32_t back = (limits.newest_sent - low) & 0xFFFF;
    if (back >= limits.newest_sent) return UpdateDecode::malformed;  // tick 0 or before
    out.ack = limits.newest_sent - back;
    if (count > 0) {
      const bool ahead = reader.read_bool();
      const std::uint32_t distance = reader.read_varuint();
      newest = ahead ? std::uint64_t{out.ack} + distance
                     : std::uint64_t{out.ack} - std::min<std::uint64_t>(distance, out.ack);
      if (!ahead && distance >= out.ack) return UpdateDecode::malformed;
    }
  } else if (count > 0) {
    newest = reader.read(32);
  }
  // Ticks start at 1 and are 32 bits: the oldest input's tick, newest - count + 1, is one.
  if (count > 0 && (newest < count || newest > 0xFFFFFFFF)) return UpdateDecode::malformed;
  out.first_tick = count > 0 ? static_cast<WireTick>(newest - count + 1) : 0;
  out.inputs.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const UpdateDecode read =
        i == 0 ? read_whole(reader, limits.max_input_bytes, out.inputs[0])
               : read_delta(reader, limits.max_input_bytes, out.inputs[i - 1], out.inputs[i]);
    if (read != UpdateDecode::ok) return read;
  }
  // Nothing may follow but the zero padding of the last byte.
  if (!reader.ok() || reader.bits_left() >= 8) return UpdateDecode::malformed;
  if (reader.read(static_cast<unsigned>(reader.bits_left())) != 0) return UpdateDecode::malformed;
  return UpdateDecode::ok;
}

}  // namespace tickwire::sim::detail
