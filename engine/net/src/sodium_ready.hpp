#pragma once
// libsodium must be initialised before any other of its functions is called.

#include <sodium.h>

#include <cstdlib>

namespace tickwire::net {

inline void ensure_sodium() {
  // sodium_init is thread-safe and idempotent; it only fails if no entropy source exists.
  if (sodium_init() < 0) std::abort();
}

}  // namespace tickwire::net
