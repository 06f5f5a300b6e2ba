// Checks a screenshot of the client's game screen (the screenshot test): it must show our own
// player, other players and drones in their colours in the arena, and text and graph lines in
// the net graph panel. Counts pixels and prints what it counted, so a failure says what was
// missing. With --replay, a screenshot of the replay screen: players and drones in the arena, and
// the timeline's text and progress bar where the net graph goes. With --spectator, a spectator's
// game screen: other players and drones, the net graph, and no own player at all.
//
// Usage: tickwire_client_screenshot_check [--replay | --spectator] SCREENSHOT.png

#include <SDL.h>
#include <SDL_image.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "palette.hpp"

namespace {

using arena::client::Box;
using arena::client::Rgb;
namespace palette = arena::client::palette;

bool near(Rgb a, Rgb b, int tolerance) {
  return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance &&
         std::abs(a.b - b.b) <= tolerance;
}

// `colour` under the net graph's black panel.
Rgb under_panel(Rgb colour) {
  const auto dim = [](std::uint8_t c) {
    return static_cast<std::uint8_t>(c * (255 - palette::net_graph_alpha) / 255);
  };
  return {dim(colour.r), dim(colour.g), dim(colour.b)};
}

struct Counts {
  long self = 0, other = 0, drone = 0, dead = 0;
  long panel_text = 0, panel_graph = 0, panel_progress = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const bool replay = argc == 3 && std::string(argv[1]) == "--replay";
  const bool spectator = argc == 3 && std::string(argv[1]) == "--spectator";
  if (argc != 2 && !replay && !spectator) {
    std::fprintf(stderr, "usage: %s [--replay | --spectator] SCREENSHOT.png\n", argv[0]);
    return 2;
  }
  const char* path = argv[argc - 1];
  SDL_Surface* loaded = IMG_Load(path);
  if (loaded == nullptr) {
    std::fprintf(stderr, "screenshot check: cannot load %s: %s\n", path, IMG_GetError());
    return 1;
  }
  SDL_Surface* image = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_RGB24, 0);
  SDL_FreeSurface(loaded);
  if (image == nullptr) {
    std::fprintf(stderr, "screenshot check: %s\n", SDL_GetError());
    return 1;
  }
  const Box arena = arena::client::arena_box(image->w, image->h);
  const Box panel = arena::client::net_graph_box(image->w, image->h);
  // Lossless PNG of flat colours: only the renderer's rounding of blended pixels differs.
  constexpr int kTolerance = 3;
  Counts counts;
  const auto* pixels = static_cast<const std::uint8_t*>(image->pixels);
  for (int y = 0; y < image->h; ++y) {
    for (int x = 0; x < image->w; ++x) {
      const std::uint8_t* p = pixels + y * image->pitch + x * 3;
      const Rgb c{p[0], p[1], p[2]};
      if (panel.contains(x, y)) {
        // Entities show through the panel darkened.
        if (near(c, under_panel(palette::self), kTolerance)) ++counts.self;
        if (near(c, under_panel(palette::other), kTolerance)) ++counts.other;
        if (near(c, under_panel(palette::drone), kTolerance)) ++counts.drone;
        const int low = std::min({c.r, c.g, c.b});
        const int high = std::max({c.r, c.g, c.b});
        if (low >= 150 && high - low <= 24) ++counts.panel_text;  // light grey: text
        if (near(c, palette::graph_rtt, kTolerance) || near(c, palette::graph_kbps, kTolerance))
          ++counts.panel_graph;
        if (near(c, palette::accent, kTolerance)) ++counts.panel_progress;
      } else if (arena.contains(x, y)) {
        if (near(c, palette::self, kTolerance)) ++counts.self;
        if (near(c, palette::other, kTolerance)) ++counts.other;
        if (near(c, palette::drone, kTolerance)) ++counts.drone;
        if (near(c, palette::dead, kTolerance)) ++counts.dead;
      }
    }
  }
  const int width = image->w, height = image->h;
  SDL_FreeSurface(image);

  // A player is a disc of radius 8 px (~200 px), a drone of 5 px (~78 px, 30 of them): these
  // minimums ask for most of one player and a few drones, with room for overlap and the panel.
  // Our own player, when the bots have just shot it, is a grey disc in a 3 px ring of its colour
  // (~120 px): that passes too, it is still our player drawn.
  struct Check {
    const char* what;
    long count;
    long minimum;
    long maximum = -1;  // -1: none
  };
  const std::vector<Check> checks =
      spectator ? std::vector<Check>{
                      // A spectator has no entity: nothing is drawn in our own colour.
                      {"own player pixels", counts.self, 0, 0},
                      {"other player pixels", counts.other, 80},
                      {"drone pixels", counts.drone, 250},
                      {"net graph text pixels", counts.panel_text, 400},
                      {"net graph line pixels", counts.panel_graph, 40},
                  }
      : replay ? std::vector<Check>{
                   // A replay has no own player: every player is drawn as another.
                   {"player pixels", counts.other, 80},
                   {"drone pixels", counts.drone, 250},
                   {"timeline text pixels", counts.panel_text, 80},
                   // Past the first second of a few: a bar of 12 px height, some px long.
                   {"timeline progress pixels", counts.panel_progress, 120},
               }
             : std::vector<Check>{
                   {"own player pixels", counts.self, 80},
                   {"other player pixels", counts.other, 80},
                   {"drone pixels", counts.drone, 250},
                   {"net graph text pixels", counts.panel_text, 400},
                   {"net graph line pixels", counts.panel_graph, 40},
               };
  std::printf("screenshot check: %s (%dx%d), arena %dx%d at (%d,%d), net graph %dx%d at (%d,%d)\n",
              path, width, height, arena.w, arena.h, arena.x, arena.y, panel.w, panel.h, panel.x,
              panel.y);
  bool ok = true;
  for (const Check& check : checks) {
    const bool pass =
        check.count >= check.minimum && (check.maximum < 0 || check.count <= check.maximum);
    ok = ok && pass;
    if (check.maximum >= 0) {
      std::printf("  %-24s %7ld (at most %ld) %s\n", check.what, check.count, check.maximum,
                  pass ? "ok" : "TOO MANY");
    } else {
      std::printf("  %-24s %7ld (at least %ld) %s\n", check.what, check.count, check.minimum,
                  pass ? "ok" : "MISSING");
    }
  }
  std::printf("  %-24s %7ld (not checked)\n", "dead player pixels", counts.dead);
  std::printf("screenshot check: %s\n", ok ? "pass" : "FAIL");
  return ok ? 0 : 1;
}
