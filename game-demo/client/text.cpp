#include "text.hpp"

#include <vector>

namespace arena::client {
namespace {

constexpr std::array<int, 3> kPointSizes = {13, 16, 24};
// Strings unused for this many frames lose their texture (chat scrolls, numbers change).
constexpr std::uint64_t kKeepFrames = 90;

}  // namespace

TextRenderer::TextRenderer(SDL_Renderer* renderer, const std::string& font_path)
    : renderer_(renderer) {
  for (std::size_t i = 0; i < fonts_.size(); ++i) {
    fonts_[i] = TTF_OpenFont(font_path.c_str(), kPointSizes[i]);
    if (fonts_[i] == nullptr) {
      error_ = "cannot open font " + font_path + ": " + TTF_GetError();
      return;
    }
  }
}

TextRenderer::~TextRenderer() {
  for (auto& [key, entry] : cache_)
    SDL_DestroyTexture(entry.texture);
  for (TTF_Font* font : fonts_) {
    if (font != nullptr) TTF_CloseFont(font);
  }
}

const TextRenderer::Entry* TextRenderer::get(std::string_view text, Rgb colour, FontSize size) {
  if (text.empty() || !ok()) return nullptr;
  std::string key;
  key.reserve(text.size() + 4);
  key.push_back(static_cast<char>(size));
  key.push_back(static_cast<char>(colour.r));
  key.push_back(static_cast<char>(colour.g));
  key.push_back(static_cast<char>(colour.b));
  key.append(text);
  if (const auto it = cache_.find(key); it != cache_.end()) {
    it->second.last_used = frame_;
    return &it->second;
  }
  const std::string zero_terminated(text);
  SDL_Surface* surface =
      TTF_RenderUTF8_Blended(fonts_[static_cast<std::size_t>(size)], zero_terminated.c_str(),
                             SDL_Color{colour.r, colour.g, colour.b, 255});
  if (surface == nullptr) return nullptr;
  Entry entry;
  entry.texture = SDL_CreateTextureFromSurface(renderer_, surface);
  entry.w = surface->w;
  entry.h = surface->h;
  entry.last_used = frame_;
  SDL_FreeSurface(surface);
  if (entry.texture == nullptr) return nullptr;
  return &cache_.emplace(std::move(key), entry).first->second;
}

int TextRenderer::draw(std::string_view text, int x, int y, Rgb colour, FontSize size) {
  const Entry* entry = get(text, colour, size);
  if (entry == nullptr) return 0;
  const SDL_Rect target{x, y, entry->w, entry->h};
  SDL_RenderCopy(renderer_, entry->texture, nullptr, &target);
  return entry->w;
}

int TextRenderer::draw_right(std::string_view text, int right, int y, Rgb colour, FontSize size) {
  return draw(text, right - width(text, size), y, colour, size);
}

int TextRenderer::width(std::string_view text, FontSize size) {
  if (text.empty() || !ok()) return 0;
  int w = 0, h = 0;
  const std::string zero_terminated(text);
  TTF_SizeUTF8(fonts_[static_cast<std::size_t>(size)], zero_terminated.c_str(), &w, &h);
  return w;
}

int TextRenderer::line_height(FontSize size) const {
  if (!ok()) return kPointSizes[static_cast<std::size_t>(size)];
  return TTF_FontLineSkip(fonts_[static_cast<std::size_t>(size)]);
}

std::vector<std::string> TextRenderer::wrap(std::string_view text, int max_width, FontSize size) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    std::string candidate = line.empty() ? std::string(word) : line + " " + std::string(word);
    if (width(candidate, size) <= max_width) {
      line = std::move(candidate);
      continue;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    line = std::string(word);
    // A single word too wide for a line: cut it, at UTF-8 character starts.
    while (width(line, size) > max_width && line.size() > 1) {
      std::size_t cut = line.size() - 1;
      while (cut > 1 && ((static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80 ||
                         width(std::string_view(line).substr(0, cut), size) > max_width))
        --cut;
      lines.push_back(line.substr(0, cut));
      line.erase(0, cut);
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

void TextRenderer::end_frame() {
  ++frame_;
  std::vector<std::string> stale;
  for (const auto& [key, entry] : cache_) {
    if (frame_ - entry.last_used > kKeepFrames) stale.push_back(key);
  }
  for (const std::string& key : stale) {
    SDL_DestroyTexture(cache_[key].texture);
    cache_.erase(key);
  }
}

}  // namespace arena::client
