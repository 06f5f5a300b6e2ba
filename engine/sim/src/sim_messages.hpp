#pragma once
// Building and verifying the sim envelope (schemas/sim.fbs). Every message from the network goes
// through flatbuffers::Verifier with size, depth and table limits before any accessor runs.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <tickwire/schemas/sim_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

namespace tickwire::sim::detail {

// The SimMessage in `bytes` if it is at most `max_size` bytes and verifies; else null. The
// message is read through `view`, which must outlive its use.
const schemas::SimMessage* verified_sim_message(std::span<const std::byte> bytes,
                                                std::size_t max_size, std::size_t max_tables,
                                                std::optional<schemas::AlignedView>& view);

// Finishes `message` in `builder` and copies it into `out` (overwritten; its capacity kept).
void finish_message(flatbuffers::FlatBufferBuilder& builder,
                    flatbuffers::Offset<schemas::SimMessage> message, std::vector<std::byte>& out);

}  // namespace tickwire::sim::detail
