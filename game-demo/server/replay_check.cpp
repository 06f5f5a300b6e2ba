// tickwire-replay-check FILE...: plays Arena replays through the rules without a window, every
// recorded state hash checked, and says what each holds. For scripts and tests (a replay a server
// salvaged after a crash, one a lobby received), where tickwire-client --replay needs a display.
// Exit 0 when every file played to its end as recorded, 1 when one was refused or diverged.

#include <cstdio>
#include <vector>

#include "arena_replay.hpp"

namespace {

// 0 when `path` plays to its end with every recorded hash reproduced.
int check(const char* path) {
  auto replay = arena::MatchReplay::open_file(path);
  if (!replay) {
    std::fprintf(stderr, "%s: %s\n", path, replay.error().c_str());
    return 1;
  }
  std::uint64_t ticks = 0;
  for (;;) {
    const auto step = replay->step();
    if (step == arena::MatchReplay::Step::end) break;
    if (step != arena::MatchReplay::Step::stepped) {
      std::fprintf(stderr, "%s: %s at tick %llu\n", path,
                   step == arena::MatchReplay::Step::diverged ? "diverged from the recorded hash"
                                                              : "holds data that is not Arena's",
                   static_cast<unsigned long long>(replay->world().tick()));
      return 1;
    }
    ++ticks;
  }
  std::printf("%s: match %llu, %llu ticks played to tick %u, %s\n", path,
              static_cast<unsigned long long>(replay->info().match_id),
              static_cast<unsigned long long>(ticks), replay->last_tick(),
              replay->cut_short() ? "cut short" : "complete");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tickwire-replay-check FILE...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i)
    failed |= check(argv[i]);
  return failed;
}
