// The simulation layer wired to real transports the way a game does it: snapshots go out
// unreliable-sequenced, client updates (inputs and acknowledgements) unreliable, under simulated
// loss and latency. Over the in-memory loopback (hand-driven clock) and over ENet through a
// UDP link simulator.

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "../support/created.hpp"
#include "../support/pump.hpp"
#include "../unit/sim/test_world.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/loopback_transport.hpp"
#include "tickwire/net/udp_link_simulator.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::test {
namespace {

constexpr net::Channel kSnapshots = 0;
constexpr net::Channel kUpdates = 1;

struct Outcome {
  int snapshots_applied = 0;
  int deltas_applied = 0;
  int mismatches = 0;
  int inputs_applied = 0;
  int connected_ticks = 0;  // ticks the server ran with the client connected
};

// Runs `ticks` server ticks. `wait_a_tick` advances time by one tick (sleep or clock).
Outcome replicate(net::ServerTransport& server, net::ClientTransport& client, int ticks,
                  const std::function<void()>& wait_a_tick) {
  const sim::EntitySchema schema = sim::test::make_test_schema();
  const auto server_replicator = tickwire::test::created(sim::ServerReplicator::create(schema));
  const auto client_replicator = tickwire::test::created(sim::ClientReplicator::create(schema));
  sim::test::TestWorld world(test_seed(51), 150);
  std::map<sim::WireTick, std::uint64_t> sent_hashes;
  net::PeerId peer = net::kInvalidPeer;
  Outcome outcome;
  net::Event event;
  for (int tick = 1; tick <= ticks; ++tick) {
    // Server side.
    while (server.poll(event)) {
      if (event.type == net::EventType::connected) {
        peer = event.peer;
        server_replicator->add_client(peer);
      } else if (event.type == net::EventType::message) {
        server_replicator->on_message(event.peer, event.payload.bytes());
      }
    }
    if (peer != net::kInvalidPeer) {
      ++outcome.connected_ticks;
      if (server_replicator->take_input(peer, static_cast<sim::WireTick>(tick)))
        ++outcome.inputs_applied;
      world.step();
      const sim::WorldState state = world.state(schema);
      sent_hashes[static_cast<sim::WireTick>(tick)] = state.hash();
      const auto snapshot =
          server_replicator->snapshot_for(peer, static_cast<sim::WireTick>(tick), state);
      EXPECT_EQ(server.send(peer, kSnapshots, net::Delivery::unreliable_sequenced, snapshot),
                net::SendResult::ok);
    }
    // Client side.
    while (client.poll(event)) {
      if (event.type != net::EventType::message) continue;
      if (!client_replicator->on_message(event.payload.bytes())) continue;
      ++outcome.snapshots_applied;
      const sim::WireTick applied = client_replicator->latest_tick();
      if (client_replicator->latest().hash() != sent_hashes[applied]) ++outcome.mismatches;
    }
    if (client.state() == net::ClientState::connected) {
      // The client runs a few ticks ahead; its input for that tick rides with its acknowledgement.
      const std::byte input[] = {std::byte(tick & 0xFF)};
      client_replicator->add_input(static_cast<sim::WireTick>(tick + 3), input);
      (void)client.send(kUpdates, net::Delivery::unreliable, client_replicator->update_message());
    }
    server.flush();
    client.flush();
    wait_a_tick();
  }
  outcome.deltas_applied = outcome.snapshots_applied - 1;  // all but the first are deltas if acked
  return outcome;
}

TEST(Replication, over_the_loopback_with_loss_and_latency) {
  std::uint64_t now_us = 0;
  net::LoopbackConfig config;
  config.clock = [&] { return now_us; };
  config.conditions = net::NetworkConditions::symmetric(
      {.latency_ms = 40, .jitter_ms = 10, .loss = 0.1, .duplicate = 0.05, .reorder = 0.05},
      test_seed(52));
  auto network = std::move(net::LoopbackNetwork::create(config).value());
  auto server = std::move(network->make_server().value());
  auto client = network->make_client();
  const Outcome outcome = replicate(*server, *client, 1200, [&] { now_us += 16667; });
  EXPECT_EQ(outcome.mismatches, 0);
  EXPECT_GT(outcome.snapshots_applied, 900);  // 10 % loss, some arrive stale
  EXPECT_GT(outcome.inputs_applied, 1000);
}

TEST(Replication, over_enet_through_a_lossy_link) {
  // Encrypted, as a game ships: the test plays the lobby that issues the ticket and its keys.
  const auto lobby = net::JoinTicketIssuer::generate();
  const auto seal = net::GameServerSealKeys::generate();
  net::EnetServerConfig server_config;
  server_config.port = 0;
  server_config.require_ticket = net::TicketRequirement{lobby.public_key(), "arena", 2000, seal};
  auto server = std::move(net::make_enet_server(server_config).value());
  net::UdpLinkSimulatorConfig link_config;
  link_config.target_port = server->port();
  link_config.conditions = net::NetworkConditions::symmetric(
      {.latency_ms = 20, .jitter_ms = 5, .loss = 0.1}, test_seed(53));
  auto link = std::move(net::UdpLinkSimulator::start(link_config).value());
  net::EnetClientConfig client_config;
  client_config.server_port = link->port();
  net::IssuedTicket issued = lobby.issue_with_keys(1, 1, "arena", seal.public_key);
  client_config.join_ticket = std::move(issued.ticket);
  client_config.session_keys = issued.keys;
  auto client = std::move(net::make_enet_client(client_config).value());
  // Real time: 4 s at 60 Hz. The connection takes the first ticks, more of them when the loss
  // hits the handshake (a lost datagram costs a resend), so what counts is the share of the
  // connected ticks: 10 % loss each way, and an input needs its tick's update to arrive in time.
  const Outcome outcome = replicate(
      *server, *client, 240, [] { std::this_thread::sleep_for(std::chrono::microseconds(16667)); });
  EXPECT_EQ(outcome.mismatches, 0);
  ASSERT_GT(outcome.connected_ticks, 60) << "connected within 3 s";
  EXPECT_GT(outcome.snapshots_applied, outcome.connected_ticks * 6 / 10);
  EXPECT_GT(outcome.inputs_applied, outcome.connected_ticks * 6 / 10);
}

}  // namespace
}  // namespace tickwire::test
