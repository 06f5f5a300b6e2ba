// Fuzz target for everything the simulation layer reads from the network: snapshot and client
// update envelopes (FlatBuffers) and the bit-packed snapshot body and input deltas inside them.
// The first byte picks which side reads the rest.

#include <cstddef>
#include <cstdint>
#include <span>

#include "snapshot_codec.hpp"
#include "tickwire/sim/replicator.hpp"

namespace {

tickwire::sim::EntitySchema make_schema() {
  using tickwire::sim::FieldSpec;
  tickwire::sim::EntitySchema schema;
  schema.add({"mover",
              {FieldSpec::real("x", -100, 100, 0.01), FieldSpec::angle("a", 0.01),
               FieldSpec::integer("hp", 0, 100), FieldSpec::boolean("on")}});
  schema.add({"marker", {FieldSpec::integer("kind", 0, 7)}});
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tickwire::sim::EntitySchema schema = make_schema();
  if (size == 0) return 0;
  const auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  switch (data[0] % 3) {
    case 0: {
      tickwire::sim::ClientReplicator client(schema);
      client.on_message(bytes);
      break;
    }
    case 1: {
      tickwire::sim::ServerReplicator server(schema);
      server.add_client(1);
      // Snapshots sent, so that acknowledgements (named by their low 16 bits) can decode.
      (void)server.snapshot_for(1, 3, {});
      server.on_message(1, bytes);
      (void)server.take_input(1, 1);
      break;
    }
    default: {
      const auto decoded = tickwire::sim::detail::decode_snapshot(
          schema, {}, 0, std::span(data + 1, size - 1), 1024);
      if (decoded && decoded->size() > 1024) __builtin_trap();
      break;
    }
  }
  return 0;
}
