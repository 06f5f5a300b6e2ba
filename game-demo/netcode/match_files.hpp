#pragma once
// The files a game server keeps per match (replays, players' bug reports) are named after the
// time they were made, so that a folder of them sorts by age and the oldest can go.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace arena {

// "20261130-174000-123-match-7": the UTC time (to the millisecond) first, then the match.
std::string match_file_stem(std::uint64_t match_id, std::chrono::system_clock::time_point now);

// Deletes the oldest regular files in `directory` whose names `of_kind` accepts, beyond the newest
// `keep` of them (by name, which starts with the time). Returns how many it deleted.
std::size_t prune_oldest(const std::filesystem::path& directory, std::size_t keep,
                         bool (*of_kind)(std::string_view name));

}  // namespace arena
