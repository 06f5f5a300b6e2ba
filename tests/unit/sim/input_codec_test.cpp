// Client updates (inputs and acknowledgements) on the wire: every input reaches the server as
// sent through a lossy link, and whatever bytes arrive instead of an update are dropped and
// counted without touching what the server holds.

#include "input_codec.hpp"

#include <gtest/gtest.h>

#include <tickwire/schemas/sim_generated.h>

#include <random>

#include "../../support/created.hpp"
#include "../../support/pump.hpp"
#include "bit_stream.hpp"
#include "test_world.hpp"
#include "tickwire/net/loopback_transport.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::sim {
namespace {

constexpr net::Channel kSnapshots = 0;
constexpr net::Channel kUpdates = 1;

// A game's input: a few bytes that mostly repeat from one tick to the next (a key held, an aim
// that drifts), sometimes change size.
std::vector<std::byte> next_input(std::mt19937_64& random, const std::vector<std::byte>& last) {
  if (!last.empty() && random() % 4 != 0) return last;
  std::vector<std::byte> input(random() % 3 == 0 ? 5 : 3);
  for (auto& b : input)
    b = std::byte(random());
  if (!last.empty() && random() % 2 == 0) input[0] = last[0];
  return input;
}

// A client that sends an update every `ticks_per_update` ticks, each carrying up to
// 8 * ticks_per_update unapplied inputs (every input in about 8 updates), through 20 % loss.
void every_input_arrives_through_20_percent_loss(WireTick ticks_per_update) {
  const std::uint64_t seed = tickwire::test::test_seed(21);
  std::uint64_t now_us = 0;
  net::LoopbackConfig link;
  link.conditions = net::NetworkConditions::symmetric(
      {.latency_ms = 25, .jitter_ms = 5, .loss = 0.2, .reorder = 0.05}, seed);
  link.clock = [&] { return now_us; };
  auto network = std::move(net::LoopbackNetwork::create(link).value());
  auto server_link = std::move(network->make_server().value());
  auto client_link = network->make_client();

  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.input_redundancy = 8 * ticks_per_update;
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  const auto client = tickwire::test::created(ClientReplicator::create(schema, config));
  std::mt19937_64 random(seed);
  // The server applies tick t's input when the client is at t + 10 (+ the ticks an input may
  // wait for its update): 25 ms (two ticks) of latency, the rest for the redundancy (8 updates
  // carry each input) to cover losses.
  const WireTick kLead = 10 + ticks_per_update - 1;
  constexpr WireTick kTicks = 900;
  std::map<WireTick, std::vector<std::byte>> sent;
  std::vector<std::byte> last;
  net::PeerId peer = net::kInvalidPeer;
  std::size_t applied = 0, datagram_bytes = 0, datagrams = 0;
  net::Event event;
  for (WireTick tick = 1; tick <= kTicks + kLead; ++tick) {
    now_us += 16'667;
    while (client_link->poll(event)) {
      if (event.type == net::EventType::message) (void)client->on_message(event.payload.bytes());
    }
    if (tick <= kTicks) {
      last = next_input(random, last);
      sent[tick] = last;
      client->add_input(tick, last);
    }
    if (tick % ticks_per_update == 0) {
      const auto update = client->update_message();
      datagram_bytes += update.size();
      ++datagrams;
      (void)client_link->send(kUpdates, net::Delivery::unreliable, update);
    }

    while (server_link->poll(event)) {
      if (event.type == net::EventType::connected) {
        peer = event.peer;
        server->add_client(peer);
      } else if (event.type == net::EventType::message) {
        server->on_message(event.peer, event.payload.bytes());
      }
    }
    if (peer == net::kInvalidPeer || tick <= kLead) continue;
    const WireTick server_tick = tick - kLead;
    const auto input = server->take_input(peer, server_tick);
    ASSERT_TRUE(input) << "the input of tick " << server_tick << " never arrived";
    ASSERT_EQ(*input, sent[server_tick]) << "tick " << server_tick;
    ++applied;
    if (server->snapshot_due(server_tick)) {
      (void)server_link->send(peer, kSnapshots, net::Delivery::unreliable_sequenced,
                              server->snapshot_for(peer, server_tick, WorldState{}));
    }
  }
  EXPECT_EQ(applied, kTicks);
  EXPECT_EQ(server->counters().malformed, 0u);
  EXPECT_EQ(server->counters().inputs_rejected, 0u);
  // The point of the delta coding: far below the 8 inputs of 3-5 bytes each it carries.
  std::printf("[ measured ] %.1f bytes per update, one every %u tick(s)\n",
              static_cast<double>(datagram_bytes) / static_cast<double>(datagrams),
              ticks_per_update);
}

TEST(ClientUpdate, every_input_reaches_the_server_as_sent_in_order_through_20_percent_loss) {
  every_input_arrives_through_20_percent_loss(1);
}

TEST(ClientUpdate, every_input_arrives_through_20_percent_loss_with_an_update_every_other_tick) {
  every_input_arrives_through_20_percent_loss(2);
}

// An update written by hand: the FlatBuffers envelope around `bits`.
std::vector<std::byte> update_of(const detail::BitWriter& bits) {
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(schemas::CreateClientUpdate(
      builder, builder.CreateVector(bits.bytes().data(), bits.bytes().size())));
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

struct BadUpdate {
  const char* what;
  std::function<void(detail::BitWriter&)> write;
  detail::UpdateDecode expected;
};

TEST(ClientUpdate, malformed_and_oversized_updates_are_dropped_counted_and_change_nothing) {
  const EntitySchema schema = test::make_test_schema();
  ReplicatorConfig config;
  config.max_input_bytes = 16;
  const auto server = tickwire::test::created(ServerReplicator::create(schema, config));
  server->add_client(1);
  server->add_client(2);  // an honest client at the same time
  (void)server->snapshot_for(1, 1, WorldState{});
  (void)server->snapshot_for(2, 1, WorldState{});
  const std::vector<std::byte> honest_input = {std::byte{1}, std::byte{2}, std::byte{3}};
  const auto honest = tickwire::test::created(ClientReplicator::create(schema, config));

  using detail::BitWriter;
  using detail::UpdateDecode;
  const auto whole = [](BitWriter& w, std::uint32_t size) {
    w.write_varuint(size);
    for (std::uint32_t i = 0; i < size; ++i)
      w.write(i, 8);
  };
  const std::vector<BadUpdate> bad = {
      {"more inputs than the redundancy", [](BitWriter& w) { w.write_varuint(9); },
       UpdateDecode::inputs_rejected},
      {"an input over max_input_bytes",
       [&](BitWriter& w) { w.write_varuint(1), w.write_bool(false), w.write(5, 32), whole(w, 17); },
       UpdateDecode::inputs_rejected},
      {"a size larger than the bytes that follow",
       [](BitWriter& w) {
         w.write_varuint(1), w.write_bool(false), w.write(5, 32), w.write_varuint(12);
       },
       UpdateDecode::malformed},
      {"inputs before tick 1",
       [&](BitWriter& w) { w.write_varuint(3), w.write_bool(false), w.write(2, 32); },
       UpdateDecode::malformed},
      {"an ack of a snapshot before tick 1",
       [&](BitWriter& w) { w.write_varuint(0), w.write_bool(true), w.write(2, 16); },
       UpdateDecode::malformed},
      {"inputs before tick 1, counted back from the ack",
       [&](BitWriter& w) {
         w.write_varuint(1), w.write_bool(true), w.write(1, 16), w.write_bool(false),
             w.write_varuint(1), whole(w, 1);
       },
       UpdateDecode::malformed},
      {"a delta cut short",
       [&](BitWriter& w) {
         w.write_varuint(2), w.write_bool(false), w.write(5, 32), whole(w, 2), w.write_bool(true),
             w.write_bool(true), w.write_bool(true), w.write(0, 3);
       },
       UpdateDecode::malformed},
      {"a byte after the end",
       [&](BitWriter& w) {
         w.write_varuint(1), w.write_bool(false), w.write(5, 32), whole(w, 1), w.write(0, 8);
       },
       UpdateDecode::malformed},
      {"padding that is not zero",
       [&](BitWriter& w) {
         w.write_varuint(1), w.write_bool(false), w.write(5, 32), whole(w, 1), w.write(1, 1);
       },
       UpdateDecode::malformed},
      {"an empty bit stream", [](BitWriter&) {}, UpdateDecode::malformed},
      {"a varuint of 33 zero bits", [](BitWriter& w) { w.write(0, 32), w.write(0, 8); },
       UpdateDecode::malformed},
  };
  detail::DecodedUpdate scratch;
  const detail::ClientUpdateLimits limits{.max_inputs = config.input_redundancy,
                                          .max_input_bytes = config.max_input_bytes,
                                          .newest_sent = 1};
  std::uint64_t malformed = 0, rejected = 0;
  for (const BadUpdate& update : bad) {
    BitWriter bits;
    update.write(bits);
    const auto message = update_of(bits);
    EXPECT_EQ(detail::decode_client_update(message, limits, scratch), update.expected)
        << update.what;
    server->on_message(1, message);
    (update.expected == UpdateDecode::malformed ? malformed : rejected) += 1;
    EXPECT_EQ(server->counters().malformed, malformed) << update.what;
    EXPECT_EQ(server->counters().inputs_rejected, rejected) << update.what;
  }
  // A real update cut anywhere is refused, or (cut in the FlatBuffers padding after the bits)
  // decodes to the same inputs; random bytes are refused.
  const auto sender = tickwire::test::created(ClientReplicator::create(schema, config));
  for (WireTick tick = 1; tick <= 4; ++tick)
    sender->add_input(tick, std::vector<std::byte>(tick + 1, std::byte(tick)));
  const auto real = sender->update_message();
  detail::DecodedUpdate whole_update;
  ASSERT_EQ(detail::decode_client_update(real, limits, whole_update), UpdateDecode::ok);
  for (std::size_t size = 0; size < real.size(); ++size) {
    if (detail::decode_client_update(std::span(real.data(), size), limits, scratch) ==
        UpdateDecode::ok) {
      EXPECT_EQ(scratch.inputs, whole_update.inputs) << "cut to " << size << " bytes";
    }
  }
  std::mt19937_64 random(tickwire::test::test_seed(22));
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> garbage(random() % 64);
    for (auto& b : garbage)
      b = std::byte(random());
    server->on_message(1, garbage);
  }
  EXPECT_GE(server->counters().malformed, malformed + 1900);
  for (WireTick tick = 1; tick <= 4; ++tick)
    EXPECT_FALSE(server->take_input(1, tick)) << "nothing of the bad updates was kept";

  // The honest client, meanwhile, is unaffected.
  honest->add_input(2, honest_input);
  server->on_message(2, honest->update_message());
  EXPECT_EQ(server->take_input(2, 2), honest_input);
  // A real update decodes to what was sent.
  EXPECT_EQ(whole_update.first_tick, 1u);
  ASSERT_EQ(whole_update.inputs.size(), 4u);
  EXPECT_EQ(whole_update.inputs[3], std::vector<std::byte>(5, std::byte(4)));
}

}  // namespace
}  // namespace tickwire::sim
