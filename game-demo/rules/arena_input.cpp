// Player inputs on the wire, bit-packed: one goes out every tick (and is repeated until the
// server has applied it), so it is a few bytes, not a FlatBuffer. The simulation layer carries
// them inside its verified ClientUpdate and delta-codes each against the one before; here they
// are checked and clamped: a client can send anything, the rules only ever see a legal input.
//
// Layout (3 bytes, 5 when firing):
//   byte 0     bits 0-1: move_x + 1, bits 2-3: move_y + 1 (3 is clamped to 2), bit 4: fire;
//              bits 5-7 zero
//   bytes 1-2  aim, big-endian, in 1/65536 of a turn (about 0.1 mrad)
//   bytes 3-4  only when firing: how far behind the input's tick the shooter saw the world, in
//              1/16 tick, big-endian (lag compensation rewinds to tick - this)

#include <algorithm>
#include <cmath>
#include <numbers>

#include "arena_rules.hpp"

namespace arena {
namespace {

constexpr std::size_t kBytes = 3;
constexpr std::size_t kFiringBytes = 5;
constexpr double kTurn = 2 * std::numbers::pi;
constexpr double kLagSteps = 16;  // per tick

std::uint8_t move_code(std::int8_t move) {
  return static_cast<std::uint8_t>(std::clamp<int>(move, -1, 1) + 1);
}

std::int8_t move_of(unsigned code) {
  return static_cast<std::int8_t>(std::min(code, 2u) - 1);
}

}  // namespace

std::vector<std::byte> encode_input(const PlayerInput& input, std::uint64_t tick) {
  const double turns = std::isfinite(input.aim) ? input.aim / kTurn : 0.0;
  const auto aim = static_cast<std::uint16_t>(
      static_cast<std::int64_t>(std::llround((turns - std::floor(turns)) * 65536)) & 0xFFFF);
  std::vector<std::byte> out = {
      std::byte(move_code(input.move_x) | move_code(input.move_y) << 2 | (input.fire ? 16 : 0)),
      std::byte(aim >> 8), std::byte(aim & 0xFF)};
  if (input.fire) {
    const double behind = static_cast<double>(tick) - input.view_tick;
    const double steps =
        std::isfinite(behind) ? std::clamp(std::round(behind * kLagSteps), 0.0, 65535.0) : 0.0;
    const auto lag = static_cast<std::uint16_t>(steps);
    out.push_back(std::byte(lag >> 8));
    out.push_back(std::byte(lag & 0xFF));
  }
  return out;
}

std::optional<PlayerInput> decode_input(std::span<const std::byte> bytes, std::uint64_t tick) {
  if (bytes.size() != kBytes && bytes.size() != kFiringBytes) return std::nullopt;
  const auto byte = [&](std::size_t i) { return std::to_integer<unsigned>(bytes[i]); };
  const unsigned flags = byte(0);
  const bool fire = (flags & 16) != 0;
  if ((flags & 0xE0) != 0 || (bytes.size() == kFiringBytes) != fire) return std::nullopt;
  PlayerInput out;
  out.move_x = move_of(flags & 3);
  out.move_y = move_of((flags >> 2) & 3);
  out.aim = static_cast<float>((byte(1) << 8 | byte(2)) * kTurn / 65536);
  out.fire = fire;
  out.view_tick = static_cast<double>(tick);
  if (fire) out.view_tick -= (byte(3) << 8 | byte(4)) / kLagSteps;
  return out;
}

}  // namespace arena
