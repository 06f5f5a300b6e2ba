// cubes: a replicated world with client-side prediction and interpolation, without graphics.
// A server simulates cubes bouncing in a box and one player cube that moves by the client's
// input; it sends each client delta-compressed snapshots. The client predicts its own cube from
// its input at once (and reconciles with what the server says), and interpolates the others a
// little in the past. Both ends live in this process and talk over encrypted ENet on 127.0.0.1;
// at the end each prints the hash of the world at the newest tick the client has, and the two
// must match. The simulation layer never sees a socket: bytes in, bytes out.

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/sim/interpolation.hpp>
#include <tickwire/sim/prediction.hpp>
#include <tickwire/sim/replicator.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

namespace net = tickwire::net;
namespace sim = tickwire::sim;

constexpr double kTickRate = 60;
constexpr double kDt = 1 / kTickRate;
constexpr double kWall = 60;  // the box is [-kWall, kWall] on both axes
constexpr sim::EntityId kPlayerId = 1000;
constexpr net::Channel kSnapshots = 0, kUpdates = 1;

// What is replicated, quantized: positions to 1/64 unit, predicted from velocities.
sim::EntitySchema make_schema() {
  sim::EntitySchema schema;
  schema.add({"cube",
              {sim::FieldSpec::real("x", -64, 64, 1.0 / 64).with_rate("vx"),
               sim::FieldSpec::real("y", -64, 64, 1.0 / 64).with_rate("vy"),
               sim::FieldSpec::real("vx", -32, 32, 1.0 / 64),
               sim::FieldSpec::real("vy", -32, 32, 1.0 / 64)}});
  schema.add({"player",
              {sim::FieldSpec::real("x", -64, 64, 1.0 / 64),
               sim::FieldSpec::real("y", -64, 64, 1.0 / 64)}});
  return schema;
}

struct Cube {
  double x, y, vx, vy;
};
struct Player {
  double x = 0, y = 0;
};
struct Input {
  std::int8_t dx = 0, dy = 0;
};

// The game's rules, run alike by the server and by the client's prediction: a quarter unit per
// tick in the input's direction, exact in binary so that both ends agree to the bit.
Player move_player(const Player& p, const Input& in) {
  return {std::clamp(p.x + 0.25 * in.dx, -kWall, kWall),
          std::clamp(p.y + 0.25 * in.dy, -kWall, kWall)};
}
void move_cube(Cube& c) {
  c.x += c.vx * kDt, c.y += c.vy * kDt;
  if (std::abs(c.x) > kWall) c.vx = -c.vx, c.x = std::clamp(c.x, -kWall, kWall);
  if (std::abs(c.y) > kWall) c.vy = -c.vy, c.y = std::clamp(c.y, -kWall, kWall);
}
// What the client's player "presses": a fixed pattern, so that every run is alike.
Input input_for(sim::WireTick tick) {
  return {static_cast<std::int8_t>((tick / 60) % 2 ? 1 : -1),
          static_cast<std::int8_t>(static_cast<int>(tick / 90 % 3) - 1)};
}

int main() {
  const sim::EntitySchema schema = make_schema();
  if (const auto valid = schema.validate(); !valid)
    return std::fprintf(stderr, "schema: %s\n", valid.message().c_str()), 1;
  // Types and fields looked up once, by name, so that reordering the schema breaks nothing.
  const sim::TypeId cube_type = *schema.find_type("cube"),
                    player_type = *schema.find_type("player");
  const std::size_t player_x = *schema.find_field(player_type, "x"),
                    player_y = *schema.find_field(player_type, "y");

  // Transport: encrypted ENet, with a ticket this program issues as a lobby would (see echo).
  const auto lobby = net::JoinTicketIssuer::generate();
  const auto seal = net::GameServerSealKeys::generate();
  net::EnetServerConfig server_config;
  server_config.port = 0;
  server_config.require_ticket = net::TicketRequirement{lobby.public_key(), "cubes:1", 2000, seal};
  auto server = net::make_enet_server(server_config);
  if (!server) return std::fprintf(stderr, "server: %s\n", server.error().c_str()), 1;
  net::IssuedTicket issued = lobby.issue_with_keys(1, 1, "cubes:1", seal.public_key);
  net::EnetClientConfig client_config;
  client_config.server_port = (*server)->port();
  client_config.join_ticket = std::move(issued.ticket);
  client_config.session_keys = issued.keys;
  auto client = net::make_enet_client(client_config);
  if (!client) return std::fprintf(stderr, "client: %s\n", client.error().c_str()), 1;

  // Server state: the world, its replicator, and the hash of every tick it sent.
  std::vector<Cube> cubes;
  for (int i = 0; i < 16; ++i)
    cubes.push_back({i * 7.0 - 52, i * -5.0 + 40, (i % 5) * 3.0 - 6, (i % 3) * 4.0 - 4});
  Player player;
  auto made_server_replicator = sim::ServerReplicator::create(schema);
  if (!made_server_replicator)
    return std::fprintf(stderr, "server: %s\n", made_server_replicator.error().c_str()), 1;
  sim::ServerReplicator& server_replicator = *made_server_replicator.value();
  std::map<sim::WireTick, std::uint64_t> sent_hashes;
  net::PeerId peer = net::kInvalidPeer;

  // Client state: its replicator, its own cube predicted, the others interpolated.
  auto made_client_replicator = sim::ClientReplicator::create(schema);
  if (!made_client_replicator)
    return std::fprintf(stderr, "client: %s\n", made_client_replicator.error().c_str()), 1;
  sim::ClientReplicator& client_replicator = *made_client_replicator.value();
  auto made_interpolator = sim::Interpolator::create(schema);
  if (!made_interpolator)
    return std::fprintf(stderr, "client: %s\n", made_interpolator.error().c_str()), 1;
  sim::Interpolator& interpolator = *made_interpolator.value();
  sim::Predictor<Player, Input> predictor({}, move_player, [](const Player& a, const Player& b) {
    return std::hypot(a.x - b.x, a.y - b.y);
  });
  sim::WireTick client_tick = 0;  // the tick the client's next input is for

  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  net::Event event;
  for (sim::WireTick tick = 1; tick <= 300; ++tick) {
    // ---- server: inputs in, one tick of simulation, snapshots out
    while ((*server)->poll(event)) {
      if (event.type == net::EventType::connected) server_replicator.add_client(peer = event.peer);
      if (event.type == net::EventType::message)
        server_replicator.on_message(event.peer, event.payload.bytes());
    }
    if (peer != net::kInvalidPeer) {
      if (auto bytes = server_replicator.take_input(peer, tick);
          bytes && bytes->size() == sizeof(Input))
        player = move_player(
            player, {static_cast<std::int8_t>((*bytes)[0]), static_cast<std::int8_t>((*bytes)[1])});
    }
    for (Cube& cube : cubes)
      move_cube(cube);
    sim::WorldState::Builder builder;
    for (std::size_t i = 0; i < cubes.size(); ++i) {
      const std::array<double, 4> values{cubes[i].x, cubes[i].y, cubes[i].vx, cubes[i].vy};
      builder.set_values(schema, static_cast<sim::EntityId>(i + 1), cube_type, values);
    }
    builder.set_values(schema, kPlayerId, player_type, std::array<double, 2>{player.x, player.y});
    const sim::WorldState world = builder.build();
    if (peer != net::kInvalidPeer && server_replicator.snapshot_due(tick)) {
      sent_hashes[tick] = world.hash();
      (void)(*server)->send(peer, kSnapshots, net::Delivery::unreliable_sequenced,
                            server_replicator.snapshot_for(peer, tick, world));
    }
    (*server)->flush();

    // ---- client: snapshots in, its own input predicted at once, the rest interpolated
    while ((*client)->poll(event)) {
      if (event.type != net::EventType::message ||
          !client_replicator.on_message(event.payload.bytes()))
        continue;
      const sim::WorldState& latest = client_replicator.latest();
      interpolator.add(client_replicator.latest_tick(), latest, seconds());
      // Run a few ticks ahead of the server so that inputs arrive before their tick (a real
      // client steers this lead with sim::ClockSync from the measured round trip).
      if (client_tick == 0) client_tick = client_replicator.latest_tick() + 6;
      if (const auto own = latest.find(kPlayerId);
          own && client_replicator.last_applied_input() > 0) {
        predictor.reconcile(client_replicator.last_applied_input(),
                            {schema.dequantize(player_type, player_x, own->fields[player_x]),
                             schema.dequantize(player_type, player_y, own->fields[player_y])});
      }
    }
    if (client_tick != 0) {
      const Input input = input_for(client_tick);
      predictor.predict(client_tick, input);
      const std::array<std::byte, 2> bytes{std::byte(input.dx), std::byte(input.dy)};
      client_replicator.add_input(client_tick++, bytes);
      (void)(*client)->send(kUpdates, net::Delivery::unreliable,
                            client_replicator.update_message());
      const auto& drawn = interpolator.sample(seconds());  // what a renderer would draw
      if (tick % 60 == 0) {
        std::printf(
            "client: tick %u, %zu entities drawn %.0f ms in the past, own cube at (%.2f, %.2f), "
            "%llu corrections\n",
            client_replicator.latest_tick(), drawn.size(), interpolator.delay_seconds() * 1000,
            predictor.state().x, predictor.state().y,
            static_cast<unsigned long long>(predictor.corrections()));
      }
    }
    (*client)->flush();
    std::this_thread::sleep_until(start + std::chrono::duration<double>(tick * kDt));
  }

  const sim::WireTick last = client_replicator.latest_tick();
  if (last == 0) return std::fprintf(stderr, "client: no snapshot arrived\n"), 1;
  std::printf("server: world hash at tick %u: %016llx\n", last,
              static_cast<unsigned long long>(sent_hashes[last]));
  std::printf("client: world hash at tick %u: %016llx\n", last,
              static_cast<unsigned long long>(client_replicator.latest().hash()));
  return 0;
}
