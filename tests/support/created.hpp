#pragma once
// What a factory made, for tests whose config is meant to be valid: a refusal fails the test
// with the factory's message (an exception GoogleTest reports), rather than a crash later on.

#include <stdexcept>
#include <utility>

#include "tickwire/status.hpp"

namespace tickwire::test {

template <typename T>
T created(Result<T> result) {
  if (!result.ok()) throw std::runtime_error("refused: " + result.error());
  return std::move(result).value();
}

}  // namespace tickwire::test
