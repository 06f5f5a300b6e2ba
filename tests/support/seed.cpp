#include <cstdio>
#include <cstdlib>
#include <string>

#include "pump.hpp"

namespace tickwire::test {

std::uint64_t test_seed(std::uint64_t fallback) {
  std::uint64_t seed = fallback;
  if (const char* text = std::getenv("TICKWIRE_SEED"); text != nullptr && *text != '\0') {
    seed = std::stoull(text);
  }
  std::printf("[ seed     ] %llu (rerun with TICKWIRE_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace tickwire::test
