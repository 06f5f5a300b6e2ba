#include "chat_view.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace arena::client {

void draw_chat_log(Ui& ui, const std::deque<tickwire::net::LobbyChatLine>& log, const Box& box) {
  namespace net = tickwire::net;
  TextRenderer& text = ui.text();
  const int line_height = text.line_height(FontSize::small);
  const int max_lines = box.h / line_height;
  // Wrap from the newest line backwards until the box is full.
  struct Row {
    std::string text;
    Rgb colour;
  };
  std::vector<Row> rows;  // newest first
  for (auto it = log.rbegin(); it != log.rend() && static_cast<int>(rows.size()) < max_lines;
       ++it) {
    std::string prefix;
    Rgb colour = palette::text;
    switch (it->scope) {
      case net::ChatScope::room:
        prefix = it->from_nickname + ": ";
        break;
      case net::ChatScope::global:
        prefix = "[all] " + it->from_nickname + ": ";
        colour = palette::text_dim;
        break;
      case net::ChatScope::whisper:
        prefix = it->from_nickname + " -> " + it->to_nickname + ": ";
        colour = palette::accent;
        break;
    }
    const auto wrapped = text.wrap(prefix + it->text, box.w - 4, FontSize::small);
    for (auto line = wrapped.rbegin(); line != wrapped.rend(); ++line)
      rows.push_back({*line, colour});
  }
  const int count = std::min(static_cast<int>(rows.size()), max_lines);
  for (int i = 0; i < count; ++i) {
    const Row& row = rows[static_cast<std::size_t>(i)];
    text.draw(row.text, box.x + 2, box.y + box.h - (i + 1) * line_height, row.colour,
              FontSize::small);
  }
}

}  // namespace arena::client
