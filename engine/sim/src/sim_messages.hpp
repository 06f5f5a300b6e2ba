#pragma once
// Building and verifying the sim envelope (schemas/sim.fbs). Every message from the network goes
// through flatbuffers::Verifier with size, depth and table limits before any accessor runs.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <tickwire/schemas/sim_generated.h>

namespace tickwire::sim::detail {

// The SimMessage in `bytes` if it is at most `max_size` bytes and verifies; else null.
const schemas::SimMessage* verified_sim_message(std::span<const std::byte> bytes,
                                                std::size_t max_size, std::size_t max_tables);

std::vector<std::byte> finish_message(flatbuffers::FlatBufferBuilder& builder,
                                      flatbuffers::Offset<schemas::SimMessage> message);

}  // namespace tickwire::sim::detail
