#pragma once
// The one wording of the simulation layer's config errors: the field, the value it had and what
// to use instead, so that a refused config says exactly what to change.

#include <string>
#include <string_view>

#include "tickwire/status.hpp"

namespace tickwire::sim::detail {

template <typename Value>
Status invalid_field(std::string_view field, Value value, std::string_view use) {
  return Status::error(std::string(field) + " = " + std::to_string(value) + " is invalid: use " +
                       std::string(use));
}

}  // namespace tickwire::sim::detail
