// tickwire-client: the Arena game in an SDL2 window. The lobby screen (name, LAN servers, rooms,
// ready, chat) leads to the game screen when the host starts the match; the game connection
// goes to the server the lobby names, with the ticket it hands out, and when the server closes
// it the client is back in the lobby, whose connection stays open throughout.
//
// The automation flags (--room with --create/--join, --auto-ready, --auto-start, --duration,
// --screenshot) let scripts and tests drive it through the same flow without a person.

#include <SDL.h>
#include <SDL_ttf.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "arena_client.hpp"
#include "game_screen.hpp"
#include "lobby_screen.hpp"
#include "lobby_session.hpp"
#include "replay_screen.hpp"
#include "screenshot.hpp"
#include "text.hpp"
#include "ui.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using arena::client::GameScreen;
using arena::client::LobbyScreen;
using arena::client::LobbySession;

struct Options {
  arena::client::SessionOptions session;
  double duration_s = 0;
  // Drop both connections this many seconds into the first match and come back (0: never): what
  // a crash or a cut network does, on purpose.
  double chaos_after_s = 0;
  // Press F8 (send a bug report) this many seconds into the first match (0: never).
  double bug_report_after_s = 0;
  std::string screenshot;
  double screenshot_after_s = 3;
  std::string screenshot_of = "match";  // or "lobby": which screen the delay counts from
  int width = 1280;
  int height = 720;
  std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  double fps = 60;
  std::string replay;  // play this replay file instead of joining the lobby
};

// SDL and SDL_ttf for the length of the program (their Quit functions on every way out).
struct SdlLibraries {
  bool ok = false;
  SdlLibraries() {
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
      std::fprintf(stderr, "tickwire-client: SDL: %s\n", SDL_GetError());
      return;
    }
    if (TTF_Init() != 0) {
      std::fprintf(stderr, "tickwire-client: SDL_ttf: %s\n", TTF_GetError());
      return;
    }
    ok = true;
  }
  ~SdlLibraries() {
    if (TTF_WasInit() != 0) TTF_Quit();
    SDL_Quit();
  }
  SdlLibraries(const SdlLibraries&) = delete;
  SdlLibraries& operator=(const SdlLibraries&) = delete;
};

struct Window {
  SDL_Window* window = nullptr;
  SDL_Renderer* renderer = nullptr;
  ~Window() {
    if (renderer != nullptr) SDL_DestroyRenderer(renderer);
    if (window != nullptr) SDL_DestroyWindow(window);
  }
};

// The clock both screens' loops run on: frames paced to --fps (a late frame does not try to catch
// up) until --duration has passed.
class FrameClock {
 public:
  explicit FrameClock(const Options& options)
      : start_(Clock::now()),
        period_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / options.fps))),
        duration_(options.duration_s),
        last_(start_),
        next_(start_) {}

  Clock::time_point start() const { return start_; }
  // Starts a frame at `now`; returns the time since the last one began.
  Clock::duration begin_frame(Clock::time_point now) { return now - std::exchange(last_, now); }
  // --duration (if any) has passed.
  bool over() const { return duration_.count() > 0 && Clock::now() - start_ >= duration_; }
  void sleep_until_next_frame() {
    next_ += period_;
    if (next_ < Clock::now()) next_ = Clock::now();  // late: do not try to catch up
    std::this_thread::sleep_until(next_);
  }

 private:
  const Clock::time_point start_;
  const Clock::duration period_;
  const std::chrono::duration<double> duration_;
  Clock::time_point last_;
  Clock::time_point next_;
};

// Saves what the renderer shows to `path` and says so; false (with the reason on stderr) if it
// could not.
bool save_frame(SDL_Renderer* renderer, const std::string& path) {
  const std::string error = arena::client::save_screenshot(renderer, path);
  if (!error.empty()) {
    std::fprintf(stderr, "tickwire-client: screenshot: %s\n", error.c_str());
    return false;
  }
  std::printf("tickwire-client: screenshot saved to %s\n", path.c_str());
  std::fflush(stdout);
  return true;
}

// tickwire-client --replay FILE: the replay screen alone, no lobby and no network.
int play_replay(const Options& options, SDL_Renderer* renderer, arena::client::Ui& ui,
                arena::client::TextRenderer& text) {
  auto replay = arena::MatchReplay::open_file(options.replay);
  if (!replay) {
    std::fprintf(stderr, "tickwire-client: --replay %s: %s\n", options.replay.c_str(),
                 replay.error().c_str());
    return 1;
  }
  arena::client::ReplayScreen screen(std::move(replay.value()));
  FrameClock clock(options);
  bool screenshot_taken = false;
  int exit_code = 0;
  for (bool running = true; running;) {
    const auto now = Clock::now();
    const auto frame_time = clock.begin_frame(now);
    ui.input().begin_frame();
    SDL_Event event;
    while (SDL_PollEvent(&event) != 0) {
      if (event.type == SDL_QUIT) running = false;
      if (event.type == SDL_KEYDOWN) screen.on_key(event.key.keysym.sym);
      ui.input().handle(event);
    }
    if (ui.input().escape) running = false;
    int width = 0, height = 0;
    SDL_GetRendererOutputSize(renderer, &width, &height);
    screen.frame(ui, frame_time, width, height);
    if (!options.screenshot.empty() && !screenshot_taken &&
        now - clock.start() >= std::chrono::duration<double>(options.screenshot_after_s)) {
      screenshot_taken = true;
      if (!save_frame(renderer, options.screenshot)) exit_code = 1;
    }
    SDL_RenderPresent(renderer);
    text.end_frame();
    if (clock.over()) running = false;
    clock.sleep_until_next_frame();
  }
  if (!screen.problem().empty()) {
    std::fprintf(stderr, "tickwire-client: --replay: %s\n", screen.problem().c_str());
    exit_code = 1;
  }
  return exit_code;
}

int run(const Options& options) {
  SdlLibraries sdl;
  if (!sdl.ok) return 1;
  Window window;
  window.window = SDL_CreateWindow("Tickwire Arena", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                   options.width, options.height, SDL_WINDOW_SHOWN);
  if (window.window == nullptr) {
    std::fprintf(stderr, "tickwire-client: window: %s\n", SDL_GetError());
    return 1;
  }
  // Vsync off: the loop paces itself to --fps (and a virtual X server has no vsync anyway).
  window.renderer = SDL_CreateRenderer(window.window, -1, SDL_RENDERER_ACCELERATED);
  if (window.renderer == nullptr) {
    window.renderer = SDL_CreateRenderer(window.window, -1, SDL_RENDERER_SOFTWARE);
  }
  if (window.renderer == nullptr) {
    std::fprintf(stderr, "tickwire-client: renderer: %s\n", SDL_GetError());
    return 1;
  }
  // Everything blends: panels over the arena are translucent, opaque colours are unaffected.
  SDL_SetRenderDrawBlendMode(window.renderer, SDL_BLENDMODE_BLEND);

  arena::client::TextRenderer text(window.renderer, options.font);
  if (!text.ok()) {
    std::fprintf(stderr, "tickwire-client: %s (choose another with --font)\n",
                 text.error().c_str());
    return 1;
  }
  arena::client::Ui ui(window.renderer, text);
  if (!options.replay.empty()) return play_replay(options, window.renderer, ui, text);
  LobbySession session(options.session);
  session.start();
  LobbyScreen lobby_screen(session, options.session.download_dir, options.session.download_replay,
                           options.session.download_file);
  std::unique_ptr<GameScreen> game;
  SDL_StartTextInput();

  FrameClock clock(options);
  // When the screen --screenshot-after counts from first showed.
  std::optional<Clock::time_point> shown_at;
  bool chaos_done = false;
  bool bug_report_pressed = false;
  // What the log last said of the bug report, so that each outcome is said once.
  auto bug_report_said = arena::ReportProgress::State::none;
  if (options.screenshot_of == "lobby") shown_at = clock.start();
  bool screenshot_taken = false;
  int exit_code = 0;
  bool running = true;
  while (running) {
    const auto now = Clock::now();
    const auto frame_time = clock.begin_frame(now);

    ui.input().begin_frame();
    SDL_Event event;
    while (SDL_PollEvent(&event) != 0) {
      if (event.type == SDL_QUIT) running = false;
      if (event.type == SDL_KEYDOWN && game) game->on_key(event.key.keysym.sym);
      ui.input().handle(event);
    }
    // Escape leaves the program from the lobby; in a match it only closes the chat input.
    if (!game && ui.input().escape) running = false;

    session.update(now);
    if (session.fatal_error()) {
      std::fprintf(stderr, "tickwire-client: %s\n", session.fatal_error()->c_str());
      return 1;
    }
    if (auto match = session.take_match()) {
      arena::ClientConfig config;
      config.server_address = match->server_address;
      config.websocket_address = match->websocket_address;  // where it goes if UDP is blocked
      config.ticket = match->ticket;
      config.session_keys = match->session_keys;
      auto client = arena::ArenaClient::connect(config);
      if (client) {
        game =
            std::make_unique<GameScreen>(session, std::move(client.value()), match->server_address);
        ui.unfocus();
      } else {
        session.set_status("cannot connect to the game server: " + client.error(), true);
      }
    }

    int width = 0, height = 0;
    SDL_GetRendererOutputSize(window.renderer, &width, &height);
    if (game) {
      if (options.bug_report_after_s > 0 && !bug_report_pressed && shown_at &&
          now - *shown_at >= std::chrono::duration<double>(options.bug_report_after_s)) {
        bug_report_pressed = true;
        game->on_key(SDLK_F8);
      }
      game->frame(ui, frame_time, width, height);
      if (game->showing_match() && !shown_at) shown_at = now;
      const arena::ReportProgress& report = game->report();
      if (report.state != bug_report_said &&
          report.state != arena::ReportProgress::State::sending) {
        bug_report_said = report.state;
        if (report.state == arena::ReportProgress::State::sent)
          std::printf("tickwire-client: bug report sent (%llu bytes)\n",
                      static_cast<unsigned long long>(report.total));
        if (report.state == arena::ReportProgress::State::failed)
          std::printf("tickwire-client: bug report not sent: %s\n", report.error.c_str());
        std::fflush(stdout);
      }
    } else {
      lobby_screen.frame(ui, width, height);
    }
    if (!options.screenshot.empty() && !screenshot_taken && shown_at &&
        now - *shown_at >= std::chrono::duration<double>(options.screenshot_after_s)) {
      screenshot_taken = true;
      if (!save_frame(window.renderer, options.screenshot)) exit_code = 1;
    }
    SDL_RenderPresent(window.renderer);
    text.end_frame();

    if (options.chaos_after_s > 0 && !chaos_done && game && shown_at &&
        now - *shown_at >= std::chrono::duration<double>(options.chaos_after_s)) {
      chaos_done = true;
      std::printf("tickwire-client: chaos: dropping both connections\n");
      game.reset();
      session.come_back();
    }
    if (game && game->finished()) {
      bool error = false;
      const std::string message = game->end_message(error);
      const bool game_was_spectating = game->spectating();
      game.reset();
      ui.unfocus();
      if (error && game_was_spectating) {
        session.set_status(message, true);  // no seat to come back to
      } else if (error) {
        // Dropped mid-match: the lobby gives the seat back, with a fresh ticket for the match.
        session.set_status(message, true);
        session.come_back();
      } else {
        session.set_status(message, false);
      }
    }
    if (clock.over()) running = false;
    clock.sleep_until_next_frame();
  }
  if (!options.screenshot.empty() && !screenshot_taken) {
    std::fprintf(stderr,
                 "tickwire-client: no screenshot taken: the %s was not on screen for %.1f s "
                 "before the program ended\n",
                 options.screenshot_of.c_str(), options.screenshot_after_s);
    exit_code = 1;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  arena::client::SessionOptions& session = options.session;
  CLI::App app{"Tickwire Arena client: the lobby and the game in an SDL2 window."};
  app.add_option("--lobby-host", session.lobby_host, "lobby address")->capture_default_str();
  app.add_option("--lobby-port", session.lobby_port, "lobby port")->capture_default_str();
  std::vector<std::string> lobbies;
  app.add_option("--lobby", lobbies,
                 "HOST:PORT of a lobby of the cluster (repeat for each, or separate with commas): "
                 "the client starts on the first and, when the connection drops, resumes its "
                 "seat on the next; replaces --lobby-host and --lobby-port")
      ->delimiter(',');
  app.add_flag("--lobby-tls", session.lobby_tls.tls, arena::kLobbyTlsHelp);
  app.add_option("--tls-ca-file", session.lobby_tls.ca_file, arena::kTlsCaFileHelp);
  app.add_option("--download-dir", session.download_dir,
                 "folder for replays and files downloaded from the lobby's lists (created if "
                 "missing)")
      ->capture_default_str();
  app.add_option("--download-replay", session.download_replay,
                 "download this replay (NAME.twreplay) as soon as the lobby lists it, as a click "
                 "on it would");
  app.add_option("--download-file", session.download_file,
                 "download this file of the server's (--files-dir on the server) as soon as the "
                 "lobby lists it, as a click on it would");
  app.add_option("--name", session.name,
                 "nickname (letters, digits, _ and -); without it, type one in the window");
  app.add_flag("--lan", session.lan,
               "connect to a verified server heard on the LAN instead of --lobby-host (one "
               "joined before, else the first heard)");
  app.add_option("--known-servers", session.known_servers,
                 "file of pinned LAN server keys (default: known-servers in ~/.config/tickwire)");
  app.add_option("--discovery-port", session.discovery_port, "UDP port of LAN beacons")
      ->capture_default_str();
  auto* room = app.add_option("--room", session.room,
                              "with --create or --join: go to this room without clicking");
  auto* create = app.add_flag("--create", session.create, "create --room and host it");
  auto* join = app.add_flag("--join", session.join, "join --room once someone has created it");
  create->needs(room)->excludes(join);
  join->needs(room);
  app.add_option("--spectate", session.spectate,
                 "watch the match of the room with this name (once it plays one): no entity, no "
                 "controls, the match a few seconds behind")
      ->excludes(room);
  app.add_flag("--auto-ready", session.auto_ready,
               "mark yourself ready on entering a room, and again after each match");
  app.add_option("--auto-start", session.auto_start,
                 "as host, start the match when this many members are all ready")
      ->check(CLI::Range(1, 1000));
  app.add_option("--chaos-after", options.chaos_after_s,
                 "drop both connections this many seconds into the match and come back to the "
                 "same seat (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--bug-report-after", options.bug_report_after_s,
                 "press F8 (send the game server a bug report: a screenshot) this many seconds "
                 "into the first match (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", options.duration_s, "quit after this many seconds (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--replay", options.replay,
                 "play this replay file (a server's --replay-dir): Space pauses, Left/Right seek, "
                 "Up/Down change the speed (0.25x-4x), Home starts over; no lobby");
  auto* screenshot =
      app.add_option("--screenshot", options.screenshot, "save a frame of the match as this PNG");
  app.add_option("--screenshot-after", options.screenshot_after_s,
                 "seconds after the match (or --screenshot-of lobby: the program) first shows "
                 "to take the --screenshot")
      ->check(CLI::NonNegativeNumber)
      ->needs(screenshot)
      ->capture_default_str();
  app.add_option("--screenshot-of", options.screenshot_of,
                 "match: count --screenshot-after from the match's first frame; lobby: from "
                 "the start (a picture of the lobby screen)")
      ->check(CLI::IsMember({"match", "lobby"}))
      ->needs(screenshot)
      ->capture_default_str();
  app.add_option("--width", options.width, "window width")
      ->check(CLI::Range(640, 7680))
      ->capture_default_str();
  app.add_option("--height", options.height, "window height")
      ->check(CLI::Range(480, 4320))
      ->capture_default_str();
  app.add_option("--font", options.font, "TrueType font file")->capture_default_str();
  app.add_option("--fps", options.fps, "frames per second")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const std::string& lobby : lobbies) {
    const auto address = arena::parse_host_port(lobby);
    if (!address) {
      std::fprintf(stderr, "tickwire-client: --lobby '%s' is not HOST:PORT (e.g. 127.0.0.1:7700)\n",
                   lobby.c_str());
      return 2;
    }
    session.lobbies.push_back(*address);
  }
  return run(options);
}
