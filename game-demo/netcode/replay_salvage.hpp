#pragma once
// Recordings that a server did not finish (it was killed, or the machine went down), found in a
// replay folder at the next start and made into replays again: a tester's "replay of the bug" is
// often the match the server crashed in.
//
// MatchRecorder writes each match under "<name>.twreplay.part", whole chunks at a time, and holds
// an exclusive flock(2) on it while the match runs. A ".part" file that nobody holds is a
// recording whose process died: tickwire::sim::salvage_replay() keeps its whole chunks and
// rebuilds the index, and the file becomes "<name>-cut.twreplay" (its index says cut short too).
// One with no whole chunk (nothing to play) is deleted. docs/replay.md describes the rule.

#include <cstdint>
#include <filesystem>
#include <string>

namespace arena {

struct SalvageCounts {
  std::uint64_t salvaged = 0;  // renamed to "<name>-cut.twreplay", playable
  std::uint64_t removed = 0;   // deleted: nothing in them could be played
};

// Salvages every interrupted recording in `directory` that no running recorder holds.
SalvageCounts salvage_interrupted_recordings(const std::filesystem::path& directory);

// "<stem>.twreplay.part" -> "<stem>-cut.twreplay"; empty for a name that is not a recording's.
std::string cut_replay_name(const std::string& part_name);

}  // namespace arena
