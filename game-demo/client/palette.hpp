#pragma once
// Colours and screen regions of the client, shared with the screenshot checker: the checker
// counts pixels of exactly these colours in exactly these regions, so the two must never drift
// apart. Plain values, no SDL, so the checker can include it without the client's code.

#include <algorithm>
#include <cstdint>

namespace arena::client {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

struct Box {
  int x = 0, y = 0, w = 0, h = 0;
  bool contains(int px, int py) const { return px >= x && px < x + w && py >= y && py < y + h; }
};

namespace palette {
// Entities are drawn flat (no anti-aliasing) in these colours and no text uses them, so a pixel of
// one of them in the arena is part of that kind of entity.
inline constexpr Rgb self{64, 224, 112};   // the player's own circle
inline constexpr Rgb other{236, 84, 64};   // other players
inline constexpr Rgb drone{248, 200, 40};  // drones
inline constexpr Rgb dead{128, 128, 128};  // dead players, whoever they are
inline constexpr Rgb background{20, 22, 28};
inline constexpr Rgb floor{32, 36, 44};
inline constexpr Rgb grid{42, 47, 57};
inline constexpr Rgb boundary{190, 196, 210};
inline constexpr Rgb sight{70, 78, 96};  // the edge of what the server sends the player
inline constexpr Rgb panel{44, 48, 60};
inline constexpr Rgb panel_edge{80, 86, 104};
inline constexpr Rgb text{226, 228, 234};
inline constexpr Rgb text_dim{150, 156, 170};
inline constexpr Rgb accent{110, 170, 255};
inline constexpr Rgb error{255, 110, 110};
inline constexpr Rgb good{120, 220, 140};
// The net graph's line graphs.
inline constexpr Rgb graph_rtt{90, 200, 255};
inline constexpr Rgb graph_kbps{255, 150, 220};
inline constexpr std::uint8_t net_graph_alpha = 190;  // of its black panel
}  // namespace palette

// The game screen's layout for a window of `width` x `height` pixels: the arena is the largest
// square that fits on the left, the sidebar (timer, scores, chat) takes the rest.
inline Box arena_box(int width, int height) {
  const int margin = 16;
  const int side = std::max(1, std::min(height - 2 * margin, width - 2 * margin - 320));
  return {margin, (height - side) / 2, side, side};
}

// The net graph panel sits over the arena's top left corner, like in most games.
inline Box net_graph_box(int width, int height) {
  const Box arena = arena_box(width, height);
  return {arena.x + 8, arena.y + 8, 318, 212};
}

}  // namespace arena::client
