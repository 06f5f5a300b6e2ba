#pragma once
// Status and Result, in tickwire::net as the net layer's API has always named them. They are
// defined once, in tickwire/status.hpp, for every layer.

#include "tickwire/status.hpp"

namespace tickwire::net {

using tickwire::Result;
using tickwire::Status;

}  // namespace tickwire::net
