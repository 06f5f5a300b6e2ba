#pragma once
// A small immediate-mode UI for the client's screens: each frame, the screen draws its widgets
// and learns from the return values what was clicked or typed. No retained widget tree: the
// screens are small and their contents change with every lobby event anyway.

#include <SDL.h>

#include <string>
#include <string_view>

#include "palette.hpp"
#include "text.hpp"

namespace arena::client {

// What the user did this frame.
struct Input {
  int mouse_x = 0, mouse_y = 0;
  bool clicked = false;     // the left button went down this frame
  bool mouse_down = false;  // the left button is held
  std::string typed;        // text typed this frame (UTF-8)
  bool enter = false, backspace = false, escape = false;

  void begin_frame();
  void handle(const SDL_Event& event);
};

class Ui {
 public:
  Ui(SDL_Renderer* renderer, TextRenderer& text) : renderer_(renderer), text_(text) {}

  Input& input() { return input_; }
  TextRenderer& text() { return text_; }
  SDL_Renderer* renderer() { return renderer_; }

  // Drawing.
  void fill(const Box& box, Rgb colour, std::uint8_t alpha = 255);
  void outline(const Box& box, Rgb colour);
  void line(float x1, float y1, float x2, float y2, Rgb colour);
  // A flat filled circle (one triangle fan: no anti-aliasing, so every pixel is `colour`).
  void circle(float cx, float cy, float radius, Rgb colour);
  bool hovered(const Box& box) const { return box.contains(input_.mouse_x, input_.mouse_y); }

  // Widgets. A button returns true when clicked (never when disabled).
  bool button(const Box& box, std::string_view label, bool enabled = true);
  // A row of a clickable list: returns true when clicked. The caller draws its contents.
  bool list_row(const Box& box, bool selected);
  // A one-line text field: focused by a click, edited by typing, returns true when Enter is
  // pressed in it. `max_bytes` bounds what can be typed.
  bool text_field(std::string_view id, const Box& box, std::string& value,
                  std::string_view placeholder, std::size_t max_bytes = 200);

  void focus(std::string_view id) { focus_ = id; }
  void unfocus() { focus_.clear(); }
  bool focused(std::string_view id) const { return focus_ == id; }
  bool any_focused() const { return !focus_.empty(); }

 private:
  SDL_Renderer* renderer_;
  TextRenderer& text_;
  Input input_;
  std::string focus_;
};

}  // namespace arena::client
