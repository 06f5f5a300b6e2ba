#pragma once
// Measuring what a tick costs: the calling thread's CPU time (not wall time, so another process
// on the same core does not inflate it) and percentiles of the samples. Shared by the Arena server
// and its benchmark so that both measure the same way.

#include <time.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace arena {

// CPU time this thread has used, microseconds.
inline double thread_cpu_us() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

// The value below which a fraction `q` (0..1) of the sorted samples lie; 0 when there are none.
inline double percentile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<std::size_t>(q * static_cast<double>(sorted.size())))];
}

}  // namespace arena
