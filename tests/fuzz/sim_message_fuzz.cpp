// Fuzz target for everything the simulation layer reads from outside: snapshot and client update
// envelopes (FlatBuffers), the bit-packed snapshot body and input deltas inside them, and replay
// files (a download or a player's upload). The first byte picks which reader reads the rest.

#include <cstddef>
#include <cstdint>
#include <span>

#include "snapshot_codec.hpp"
#include "tickwire/sim/replay.hpp"
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
  switch (data[0] % 4) {
    case 0: {
      // The schema and the default config are valid: value() would throw otherwise.
      const auto client = tickwire::sim::ClientReplicator::create(schema).value();
      client->on_message(bytes);
      break;
    }
    case 1: {
      const auto server = tickwire::sim::ServerReplicator::create(schema).value();
      server->add_client(1);
      // Snapshots sent, so that acknowledgements (named by their low 16 bits) can decode.
      (void)server->snapshot_for(1, 3, {});
      server->on_message(1, bytes);
      (void)server->take_input(1, 1);
      break;
    }
    case 3: {
      // A replay the reader accepts reads to its end, through the index too, without a fault.
      auto reader = tickwire::sim::ReplayReader::open({bytes.begin(), bytes.end()},
                                                      {.max_file_bytes = 1 << 20});
      // A cut recording (what a crash leaves) salvages into a replay the reader accepts, or none.
      if (auto salvaged = tickwire::sim::salvage_replay(bytes, {.max_file_bytes = 1 << 20})) {
        auto rebuilt = tickwire::sim::ReplayReader::open(std::move(salvaged->file));
        if (!rebuilt || rebuilt->tick_count() != salvaged->tick_count || !rebuilt->cut_short())
          __builtin_trap();
      }
      if (!reader) break;
      std::uint32_t count = 0;
      while (reader->next())
        ++count;
      if (count != reader->tick_count()) __builtin_trap();
      if (reader->seek(reader->last_tick()) && !reader->next()) __builtin_trap();
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
