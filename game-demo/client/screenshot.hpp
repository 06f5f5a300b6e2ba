#pragma once
// Saves what the renderer has drawn this frame as a PNG (SDL2_image): --screenshot, for the
// screenshot test and for documentation.

#include <SDL.h>

#include <string>

namespace arena::client {

// Reads the frame back from `renderer` (call before SDL_RenderPresent) and writes it to `path`.
// Returns an empty string, or why it failed.
std::string save_screenshot(SDL_Renderer* renderer, const std::string& path);

}  // namespace arena::client
