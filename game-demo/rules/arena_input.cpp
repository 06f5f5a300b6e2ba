// Player inputs on the wire (arena.fbs Input), verified and clamped: a client can send anything,
// the rules only ever see a legal input.

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>

#include <tickwire/schemas/aligned_view.hpp>

#include "arena_generated.h"
#include "arena_rules.hpp"

namespace arena {

std::vector<std::byte> encode_input(const PlayerInput& input) {
  flatbuffers::FlatBufferBuilder builder(64);
  builder.Finish(
      CreateInput(builder, input.move_x, input.move_y, input.aim, input.fire, input.view_tick));
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

std::optional<PlayerInput> decode_input(std::span<const std::byte> bytes) {
  constexpr std::size_t kMaxInputBytes = 128;
  if (bytes.size() > kMaxInputBytes) return std::nullopt;
  const tickwire::schemas::AlignedView view(bytes);
  flatbuffers::Verifier verifier(view.data(), view.size(), 2, 2);
  if (!VerifyInputBuffer(verifier)) return std::nullopt;
  const Input* input = GetInput(view.data());
  PlayerInput out;
  out.move_x = static_cast<std::int8_t>(std::clamp<int>(input->move_x(), -1, 1));
  out.move_y = static_cast<std::int8_t>(std::clamp<int>(input->move_y(), -1, 1));
  out.aim = std::isfinite(input->aim()) ? input->aim() : 0.0f;
  out.fire = input->fire();
  out.view_tick = std::isfinite(input->view_tick()) ? input->view_tick() : 0.0;
  return out;
}

}  // namespace arena
