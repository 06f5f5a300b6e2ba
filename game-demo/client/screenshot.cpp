#include "screenshot.hpp"

#include <SDL_image.h>

namespace arena::client {

std::string save_screenshot(SDL_Renderer* renderer, const std::string& path) {
  int width = 0, height = 0;
  if (SDL_GetRendererOutputSize(renderer, &width, &height) != 0) return SDL_GetError();
  SDL_Surface* surface =
      SDL_CreateRGBSurfaceWithFormat(0, width, height, 24, SDL_PIXELFORMAT_RGB24);
  if (surface == nullptr) return SDL_GetError();
  std::string error;
  if (SDL_RenderReadPixels(renderer, nullptr, SDL_PIXELFORMAT_RGB24, surface->pixels,
                           surface->pitch) != 0) {
    error = std::string("reading the frame back: ") + SDL_GetError();
  } else if (IMG_SavePNG(surface, path.c_str()) != 0) {
    error = "writing " + path + ": " + IMG_GetError();
  }
  SDL_FreeSurface(surface);
  return error;
}

}  // namespace arena::client
