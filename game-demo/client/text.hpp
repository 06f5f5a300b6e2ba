#pragma once
// Text on an SDL renderer through SDL2_ttf. Rendering a string with TTF is slow next to drawing a
// texture, and a screen shows mostly the same strings frame after frame, so rendered strings are
// kept as textures and dropped once they have gone unused for a while.

#include <SDL.h>
#include <SDL_ttf.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "palette.hpp"

namespace arena::client {

enum class FontSize : std::uint8_t { small = 0, normal, large };

class TextRenderer {
 public:
  // Opens `font_path` at the three sizes; check ok() (error() says why not).
  TextRenderer(SDL_Renderer* renderer, const std::string& font_path);
  ~TextRenderer();
  TextRenderer(const TextRenderer&) = delete;
  TextRenderer& operator=(const TextRenderer&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Draws `text` with its top left corner at (x, y); returns its width in pixels.
  int draw(std::string_view text, int x, int y, Rgb colour, FontSize size = FontSize::normal);
  // Draws `text` with its top right corner at (right, y).
  int draw_right(std::string_view text, int right, int y, Rgb colour,
                 FontSize size = FontSize::normal);
  // Width of `text` in pixels.
  int width(std::string_view text, FontSize size = FontSize::normal);
  int line_height(FontSize size = FontSize::normal) const;
  // Splits `text` at spaces into lines no wider than `max_width` (a word wider than that is cut).
  std::vector<std::string> wrap(std::string_view text, int max_width,
                                FontSize size = FontSize::normal);

  // Call once per frame: drops the strings not drawn for a while.
  void end_frame();

 private:
  struct Entry {
    SDL_Texture* texture = nullptr;
    int w = 0, h = 0;
    std::uint64_t last_used = 0;
  };
  const Entry* get(std::string_view text, Rgb colour, FontSize size);

  SDL_Renderer* renderer_;
  std::array<TTF_Font*, 3> fonts_{};
  std::string error_;
  std::unordered_map<std::string, Entry> cache_;
  std::uint64_t frame_ = 0;
};

}  // namespace arena::client
