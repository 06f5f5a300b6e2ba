#include "ui.hpp"

#include <array>
#include <cmath>
#include <numbers>

namespace arena::client {

void Input::begin_frame() {
  clicked = false;
  typed.clear();
  enter = backspace = escape = false;
}

void Input::handle(const SDL_Event& event) {
  switch (event.type) {
    case SDL_MOUSEMOTION:
      mouse_x = event.motion.x;
      mouse_y = event.motion.y;
      break;
    case SDL_MOUSEBUTTONDOWN:
      mouse_x = event.button.x;
      mouse_y = event.button.y;
      if (event.button.button == SDL_BUTTON_LEFT) {
        clicked = true;
        mouse_down = true;
      }
      break;
    case SDL_MOUSEBUTTONUP:
      if (event.button.button == SDL_BUTTON_LEFT) mouse_down = false;
      break;
    case SDL_TEXTINPUT:
      typed += event.text.text;
      break;
    case SDL_KEYDOWN:
      switch (event.key.keysym.sym) {
        case SDLK_RETURN:
        case SDLK_KP_ENTER:
          enter = true;
          break;
        case SDLK_BACKSPACE:
          backspace = true;
          break;
        case SDLK_ESCAPE:
          escape = true;
          break;
        default:
          break;
      }
      break;
    default:
      break;
  }
}

void Ui::fill(const Box& box, Rgb colour, std::uint8_t alpha) {
  SDL_SetRenderDrawColor(renderer_, colour.r, colour.g, colour.b, alpha);
  const SDL_Rect rect{box.x, box.y, box.w, box.h};
  SDL_RenderFillRect(renderer_, &rect);
}

void Ui::outline(const Box& box, Rgb colour) {
  SDL_SetRenderDrawColor(renderer_, colour.r, colour.g, colour.b, 255);
  const SDL_Rect rect{box.x, box.y, box.w, box.h};
  SDL_RenderDrawRect(renderer_, &rect);
}

void Ui::line(float x1, float y1, float x2, float y2, Rgb colour) {
  SDL_SetRenderDrawColor(renderer_, colour.r, colour.g, colour.b, 255);
  SDL_RenderDrawLineF(renderer_, x1, y1, x2, y2);
}

void Ui::circle(float cx, float cy, float radius, Rgb colour) {
  constexpr int kSegments = 28;
  std::array<SDL_Vertex, kSegments + 1> vertices{};
  std::array<int, kSegments * 3> indices{};
  const SDL_Color c{colour.r, colour.g, colour.b, 255};
  vertices[0] = {{cx, cy}, c, {0, 0}};
  for (int i = 0; i < kSegments; ++i) {
    const double angle = 2 * std::numbers::pi * i / kSegments;
    vertices[static_cast<std::size_t>(i + 1)] = {
        {cx + radius * static_cast<float>(std::cos(angle)),
         cy + radius * static_cast<float>(std::sin(angle))},
        c,
        {0, 0}};
    indices[static_cast<std::size_t>(i * 3)] = 0;
    indices[static_cast<std::size_t>(i * 3 + 1)] = i + 1;
    indices[static_cast<std::size_t>(i * 3 + 2)] = (i + 1) % kSegments + 1;
  }
  SDL_RenderGeometry(renderer_, nullptr, vertices.data(), static_cast<int>(vertices.size()),
                     indices.data(), static_cast<int>(indices.size()));
}

bool Ui::button(const Box& box, std::string_view label, bool enabled) {
  const bool hover = enabled && hovered(box);
  fill(box, !enabled ? palette::panel : hover ? Rgb{70, 110, 180} : Rgb{54, 84, 140});
  outline(box, enabled ? palette::accent : palette::panel_edge);
  const int w = text_.width(label);
  text_.draw(label, box.x + (box.w - w) / 2, box.y + (box.h - text_.line_height()) / 2,
             enabled ? palette::text : palette::text_dim);
  return hover && input_.clicked;
}

bool Ui::list_row(const Box& box, bool selected) {
  const bool hover = hovered(box);
  if (selected) {
    fill(box, Rgb{50, 70, 110});
  } else if (hover) {
    fill(box, Rgb{44, 52, 70});
  }
  return hover && input_.clicked;
}

namespace {

// Removes the last UTF-8 character (its continuation bytes are 10xxxxxx).
void pop_utf8(std::string& value) {
  while (!value.empty()) {
    const auto byte = static_cast<unsigned char>(value.back());
    value.pop_back();
    if ((byte & 0xC0) != 0x80) break;
  }
}

}  // namespace

bool Ui::text_field(std::string_view id, const Box& box, std::string& value,
                    std::string_view placeholder, std::size_t max_bytes) {
  if (input_.clicked) {
    if (hovered(box)) {
      focus(id);
    } else if (focused(id)) {
      unfocus();
    }
  }
  const bool active = focused(id);
  bool submitted = false;
  if (active) {
    if (value.size() + input_.typed.size() <= max_bytes) value += input_.typed;
    if (input_.backspace) pop_utf8(value);
    submitted = input_.enter;
  }
  fill(box, Rgb{26, 29, 37});
  outline(box, active ? palette::accent : palette::panel_edge);
  const int y = box.y + (box.h - text_.line_height()) / 2;
  int w = 0;
  if (value.empty() && !active) {
    text_.draw(placeholder, box.x + 6, y, palette::text_dim);
  } else {
    // Show the end of a long value: that is where the typing happens.
    std::string_view shown = value;
    while (!shown.empty() && text_.width(shown) > box.w - 16) {
      shown.remove_prefix(1);
      while (!shown.empty() && (static_cast<unsigned char>(shown.front()) & 0xC0) == 0x80)
        shown.remove_prefix(1);  // never start inside a UTF-8 character
    }
    w = text_.draw(shown, box.x + 6, y, palette::text);
  }
  if (active && (SDL_GetTicks() / 500) % 2 == 0) {
    fill({box.x + 7 + w, y + 2, 2, text_.line_height() - 4}, palette::text);
  }
  return submitted;
}

}  // namespace arena::client
