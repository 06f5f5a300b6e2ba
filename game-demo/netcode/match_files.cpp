#include "match_files.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <system_error>
#include <vector>

namespace arena {

namespace fs = std::filesystem;

std::string match_file_stem(std::uint64_t match_id, std::chrono::system_clock::time_point now) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d%02d%02d-%02d%02d%02d-%03d-match-%llu", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms % 1000), static_cast<unsigned long long>(match_id));
  return text;
}

std::size_t prune_oldest(const fs::path& directory, std::size_t keep,
                         bool (*of_kind)(std::string_view name)) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (of_kind(name) && it->is_regular_file(error)) files.push_back(it->path());
  }
  if (files.size() <= keep) return 0;
  std::sort(files.begin(), files.end());  // oldest first: names start with the time
  std::size_t deleted = 0;
  for (std::size_t i = 0; i + keep < files.size(); ++i) {
    if (fs::remove(files[i], error)) ++deleted;
  }
  return deleted;
}

}  // namespace arena
