// tickwire-bench-encode: the CPU cost of one round of snapshots (every client's, through
// ServerReplicator::snapshots_for) with the Arena server's settings, in this process alone.
//
// The end-to-end Arena benchmark (tickwire-bench-arena) is what a server costs, but on a shared
// machine its figures move with the load: the bots starve, send fewer inputs, and the server has
// less to do. This one has no network and no bots. An Arena-shaped world (players with the
// Arena's 8 fields, drones with its 4) moves as the Arena's bots and drones do; each client sees
// what is within the view radius (a SpatialGrid, as the Arena), ranks it by distance (the Arena's
// priority), gets at most the byte budget, and acknowledges every snapshot it receives. The figure
// is the calling thread's CPU time per round (plus the encoding workers' with --threads), median
// and minimum over the rounds, which other processes' scheduling barely moves.
//
// The last column hashes every snapshot byte of the run: two builds that print the same hash
// for the same options encode the same bytes. Exits 1 if a client fails to apply a snapshot.

#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_map>

#include "tickwire/sim/replicator.hpp"
#include "tickwire/sim/spatial_grid.hpp"

namespace tickwire::bench {
namespace {

struct Options {
  std::vector<int> players{64, 128, 256};
  int drones = 60;
  int rounds = 150;  // measured snapshot rounds per count, after 30 of warm-up
  double view_radius = 45;
  std::size_t budget_bytes = 160;
  std::size_t threads = 1;
  std::uint64_t seed = 1;
};

double thread_cpu_us() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

struct Body {
  double x = 0, y = 0, vx = 0, vy = 0, aim = 0;
  int ticks_to_turn = 0;  // players: until the next change of direction
};

// The Arena's motion (game-demo/rules, the bots of game-demo/bot): a player runs at 6 m/s in
// one of the 8 directions (or stands) and picks another every 0.5 to 2 s, keeping off the walls,
// while its aim drifts every tick; a drone flies at 2 m/s, turns a little one tick in 30 and
// bounces off the walls.
void move_player(Body& body, std::mt19937_64& random, double tick_rate_hz) {
  std::uniform_real_distribution<double> drift(-0.05, 0.05);
  if (--body.ticks_to_turn <= 0) {
    std::uniform_int_distribution<int> axis(-1, 1);
    double dx = axis(random), dy = axis(random);
    if (std::abs(body.x) > 50) dx = body.x > 0 ? -1 : 1;
    if (std::abs(body.y) > 50) dy = body.y > 0 ? -1 : 1;
    const double length = std::hypot(dx, dy);
    body.vx = length > 0 ? dx / length * 6 : 0;
    body.vy = length > 0 ? dy / length * 6 : 0;
    std::uniform_int_distribution<int> turn_after(static_cast<int>(tick_rate_hz / 2),
                                                  static_cast<int>(tick_rate_hz * 2));
    body.ticks_to_turn = turn_after(random);
  }
  body.x = std::clamp(body.x + body.vx / tick_rate_hz, -59.5, 59.5);
  body.y = std::clamp(body.y + body.vy / tick_rate_hz, -59.5, 59.5);
  body.aim += drift(random);
}

void move_drone(Body& body, std::mt19937_64& random, double tick_rate_hz) {
  std::uniform_real_distribution<double> wobble(-0.3, 0.3);
  if (random() % 30 == 0) {
    const double heading = std::atan2(body.vy, body.vx) + wobble(random);
    body.vx = std::cos(heading) * 2;
    body.vy = std::sin(heading) * 2;
  }
  body.x += body.vx / tick_rate_hz;
  body.y += body.vy / tick_rate_hz;
  constexpr double kLimit = 59.4;
  if (std::abs(body.x) > kLimit) body.vx = -body.vx, body.x = std::clamp(body.x, -kLimit, kLimit);
  if (std::abs(body.y) > kLimit) body.vy = -body.vy, body.y = std::clamp(body.y, -kLimit, kLimit);
}

struct ArenaShape {
  sim::EntitySchema schema;
  sim::TypeId player = 0;
  sim::TypeId drone = 0;
};

// The Arena's entity types (game-demo/rules/arena.fbs): x and y first, moved by vx and vy.
ArenaShape arena_shape() {
  using sim::FieldSpec;
  const auto position = [](const char* name, const char* rate) {
    return FieldSpec::real(name, -64, 64, 0.004).with_rate(rate);
  };
  const auto velocity = [](const char* name) { return FieldSpec::real(name, -16, 16, 0.0625); };
  ArenaShape shape;
  shape.player =
      shape.schema.add({"Player",
                        {position("x", "vx"), position("y", "vy"), velocity("vx"), velocity("vy"),
                         FieldSpec::angle("aim", 0.0123), FieldSpec::integer("health", 0, 100),
                         FieldSpec::integer("score", 0, 999), FieldSpec::boolean("alive")}});
  shape.drone = shape.schema.add(
      {"Drone", {position("x", "vx"), position("y", "vy"), velocity("vx"), velocity("vy")}});
  return shape;
}

struct Measured {
  double median_us = 0;  // CPU per round
  double min_us = 0;
  std::uint64_t bytes = 0;  // per round, all clients
  std::uint64_t hash = 0;
  std::uint64_t rejected = 0;  // snapshots a client failed to apply (a bug)
};

Measured run(int players, const Options& options) {
  const ArenaShape shape = arena_shape();
  sim::ReplicatorConfig config;
  config.max_snapshot_bytes = options.budget_bytes;
  config.encode_threads = options.threads;
  // The configuration is the benchmark's own and valid: value() would end the run otherwise.
  const auto made = sim::ServerReplicator::create(shape.schema, config).value();
  sim::ServerReplicator& server = *made;
  std::vector<sim::ClientId> clients;
  std::vector<std::unique_ptr<sim::ClientReplicator>> receivers;
  for (int i = 0; i < players; ++i) {
    clients.push_back(static_cast<sim::ClientId>(i + 1));  // the id of the player's entity too
    server.add_client(clients.back());
    receivers.push_back(sim::ClientReplicator::create(shape.schema, config).value());
  }

  std::mt19937_64 random(options.seed);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::vector<Body> bodies(static_cast<std::size_t>(players + options.drones));
  for (Body& body : bodies) {
    body.x = unit(random) * 55;
    body.y = unit(random) * 55;
    const double heading = unit(random) * 3.14159;
    body.vx = std::cos(heading) * 2;  // drones' velocity; players pick theirs on the first tick
    body.vy = std::sin(heading) * 2;
  }

  sim::SpatialGrid grid = sim::SpatialGrid::create(options.view_radius / 3).value();
  std::unordered_map<sim::ClientId, std::pair<double, double>> viewers;
  server.interest = [&](sim::ClientId client, const sim::WorldState& world,
                        std::vector<std::uint32_t>& indices) {
    const auto [x, y] = viewers.at(client);
    grid.within(x, y, options.view_radius, indices);
    if (const auto own = world.index_of(client))
      indices.push_back(static_cast<std::uint32_t>(*own));
  };
  server.priority = [&](sim::ClientId client) -> sim::EntityPriority {
    const auto [x, y] = viewers.at(client);
    return [&shape, client, x, y](const sim::WorldState::Entity& e) {
      if (e.id == client) return 1000.0f;
      const double dx = shape.schema.dequantize(e.type, 0, e.fields[0]) - x;
      const double dy = shape.schema.dequantize(e.type, 1, e.fields[1]) - y;
      return static_cast<float>(1.0 + 10.0 / (1.0 + std::sqrt(dx * dx + dy * dy) / 5.0));
    };
  };

  constexpr int kWarmupRounds = 30;
  std::vector<double> costs;
  Measured result;
  result.hash = 1469598103934665603ull;  // FNV-1a
  sim::WorldState::Builder builder;
  for (sim::WireTick tick = 1; costs.size() < static_cast<std::size_t>(options.rounds); ++tick) {
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      if (i < static_cast<std::size_t>(players)) {
        move_player(bodies[i], random, config.tick_rate_hz);
      } else {
        move_drone(bodies[i], random, config.tick_rate_hz);
      }
    }
    if (!server.snapshot_due(tick)) continue;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      const Body& b = bodies[i];
      const auto id = static_cast<sim::EntityId>(i + 1);
      if (i < static_cast<std::size_t>(players)) {
        const double values[] = {b.x, b.y, b.vx, b.vy, b.aim, 100, 3, 1};
        builder.set_values(shape.schema, id, shape.player, values);
      } else {
        const double values[] = {b.x, b.y, b.vx, b.vy};
        builder.set_values(shape.schema, id, shape.drone, values);
      }
    }
    const sim::WorldState world = builder.build();
    grid.clear();
    for (std::uint32_t i = 0; i < world.size(); ++i) {
      const sim::WorldState::Entity e = world.at(i);
      grid.insert(i, shape.schema.dequantize(e.type, 0, e.fields[0]),
                  shape.schema.dequantize(e.type, 1, e.fields[1]));
    }
    grid.build();
    for (int i = 0; i < players; ++i)
      viewers[clients[static_cast<std::size_t>(i)]] = {bodies[static_cast<std::size_t>(i)].x,
                                                       bodies[static_cast<std::size_t>(i)].y};

    const double workers_before = server.worker_cpu_seconds();
    const double start = thread_cpu_us();
    const auto messages = server.snapshots_for(clients, tick, world);
    const double cost =
        thread_cpu_us() - start + (server.worker_cpu_seconds() - workers_before) * 1e6;
    const bool counted = tick > 2 * kWarmupRounds;
    if (counted) costs.push_back(cost);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (counted) result.bytes += messages[i].size();
      for (const std::byte b : messages[i]) {
        result.hash ^= static_cast<std::uint8_t>(b);
        result.hash *= 1099511628211ull;
      }
      if (!receivers[i]->on_message(messages[i])) ++result.rejected;
      server.on_message(clients[i], receivers[i]->update_message());
    }
  }
  std::sort(costs.begin(), costs.end());
  result.median_us = costs[costs.size() / 2];
  result.min_us = costs.front();
  result.bytes /= costs.size();
  return result;
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  using tickwire::bench::Options;
  Options options;
  CLI::App app{"Tickwire snapshot encoding cost with the Arena's settings, in-process"};
  app.add_option("--players", options.players, "client counts to measure")->capture_default_str();
  app.add_option("--drones", options.drones, "drones in the world")->capture_default_str();
  app.add_option("--rounds", options.rounds, "measured snapshot rounds per count (>= 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--view-radius", options.view_radius, "metres each client sees")
      ->capture_default_str();
  app.add_option("--budget", options.budget_bytes, "snapshot budget in bytes")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "encode_threads")->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the world's motion")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf(
      "Snapshot encoding with the Arena's settings, no network: %d drones, %.0f m view radius, "
      "%zu-byte budget,\npriority by distance, %zu encode thread(s), 30 Hz snapshots, every "
      "snapshot acknowledged. CPU time of a\nround (every client's snapshot), median and minimum "
      "of %d rounds; us/client is the median per client;\n'x first' against the first count; "
      "'hash' of every snapshot byte (equal hashes: equal bytes).\n\n",
      options.drones, options.view_radius, options.budget_bytes, options.threads, options.rounds);
  std::printf("players  round med us  round min us  us/client  x first  bytes/client     hash\n");
  double first = 0;
  for (const int players : options.players) {
    if (players < 1 || players > 4096) {
      std::fprintf(stderr, "--players %d: use 1..4096\n", players);
      return 1;
    }
    const auto measured = tickwire::bench::run(players, options);
    const double per_client = measured.median_us / players;
    if (first == 0) first = per_client;
    std::printf("%7d  %12.0f  %12.0f  %9.2f  %6.2fx  %12.1f  %016llx\n", players,
                measured.median_us, measured.min_us, per_client, per_client / first,
                static_cast<double>(measured.bytes) / players,
                static_cast<unsigned long long>(measured.hash));
    if (measured.rejected != 0) {
      std::fprintf(stderr, "%llu snapshots were not applied by their client\n",
                   static_cast<unsigned long long>(measured.rejected));
      return 1;
    }
  }
  return 0;
}
