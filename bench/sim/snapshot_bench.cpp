// tickwire-bench-snapshots: bits per entity and kbit/s per client of Tickwire's delta snapshots,
// against the uncompressed state (Gaffer on Games' measure) and a plain FlatBuffers full
// snapshot measured in the same run, plus encode and decode time.
//
// Each scenario runs at 60 Hz with snapshots at 30 Hz. Between server and each client, 5 % of
// snapshots and of acknowledgements are lost and acknowledgements arrive 100 ms (3 snapshots)
// late, so deltas are taken against baselines a few snapshots old, as on a real network.

#include <flatbuffers/flatbuffers.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <random>

#include "full_snapshot_generated.h"
#include "scenarios.hpp"
#include "tickwire/sim/replicator.hpp"

namespace tickwire::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 10;
  std::uint64_t seed = 1;
  double loss = 0.05;
  int ack_delay_snapshots = 3;
  // Velocities only feed the prediction of positions; over the ~130 ms a baseline is old, a
  // 1/64 m/s rounding moves a predicted position by 1 mm, a quarter of the 1/256 m position step.
  double velocity_step = 1.0 / 64;
};

struct Result {
  std::string name;
  std::size_t entities = 0;
  std::size_t clients = 0;
  double body_bits = 0;      // mean snapshot body, bits
  double message_bytes = 0;  // mean whole message (envelope + body), bytes
  double full_fb_bytes = 0;  // mean plain FlatBuffers full snapshot, bytes
  double encode_us = 0;      // per snapshot per client
  double decode_us = 0;
  double fb_build_us = 0;
  std::size_t uncompressed_bits = 0;  // per entity
  std::uint64_t mismatches = 0;       // client state differing from what the server sent
};

std::size_t plain_flatbuffers_snapshot(
    const Scenario& scenario, std::uint32_t tick, flatbuffers::FlatBufferBuilder& builder,
    std::vector<std::pair<sim::EntityId, std::vector<float>>>& raw) {
  scenario.raw(raw);
  builder.Clear();
  std::vector<flatbuffers::Offset<EntityState>> entities;
  entities.reserve(raw.size());
  for (const auto& [id, values] : raw) {
    entities.push_back(CreateEntityState(builder, id, builder.CreateVector(values)));
  }
  builder.Finish(CreateFullSnapshot(builder, tick, builder.CreateVector(entities)));
  return builder.GetSize();
}

Result run(Scenario& scenario, const Options& options) {
  sim::ReplicatorConfig config;
  config.max_snapshot_bytes = 0;  // measure compression, not the budget
  // The scenarios' schemas and this config are valid: value() would throw otherwise.
  const auto server = sim::ServerReplicator::create(scenario.schema(), config).value();
  std::vector<std::unique_ptr<sim::ClientReplicator>> clients;
  for (std::size_t c = 0; c < scenario.clients(); ++c) {
    server->add_client(static_cast<sim::ClientId>(c));
    clients.push_back(sim::ClientReplicator::create(scenario.schema(), config).value());
  }
  std::mt19937_64 random(options.seed);
  std::bernoulli_distribution lost(options.loss);
  struct InFlightAck {
    int due;
    sim::ClientId client;
    std::vector<std::byte> bytes;
  };
  std::deque<InFlightAck> acks;
  flatbuffers::FlatBufferBuilder fb_builder(1 << 16);
  std::vector<std::pair<sim::EntityId, std::vector<float>>> raw;

  Result result;
  result.name = scenario.name();
  result.clients = scenario.clients();
  result.uncompressed_bits = scenario.uncompressed_bits_per_entity();
  const int ticks = static_cast<int>(options.seconds * 60);
  const int warmup_snapshots = 30;  // the first second: full snapshots until acks arrive
  std::size_t measured = 0, fb_measured = 0, entity_samples = 0;
  Clock::duration encode{}, decode{}, fb_build{};
  int snapshot_index = 0;
  for (int tick = 1; tick <= ticks; ++tick) {
    scenario.step();
    if (tick % 2 != 0) continue;
    ++snapshot_index;
    const auto wire_tick = static_cast<sim::WireTick>(tick);
    const sim::WorldState world = scenario.state();
    while (!acks.empty() && acks.front().due <= snapshot_index) {
      server->on_message(acks.front().client, acks.front().bytes);
      acks.pop_front();
    }
    const bool counted = snapshot_index > warmup_snapshots;
    for (std::size_t c = 0; c < clients.size(); ++c) {
      const auto id = static_cast<sim::ClientId>(c);
      const auto start = Clock::now();
      const std::vector<std::byte> message = server->snapshot_for(id, wire_tick, world);
      const auto encoded = Clock::now();
      bool applied = false;
      if (!lost(random)) {
        applied = clients[c]->on_message(message);
        if (counted) decode += Clock::now() - encoded;
      }
      if (counted) {
        encode += encoded - start;
        result.body_bits += static_cast<double>(server->client_stats(id)->last_snapshot_bits);
        result.message_bytes += static_cast<double>(message.size());
        entity_samples += world.size();
        ++measured;
        if (applied && clients[c]->latest() != world) ++result.mismatches;
      }
      if (!lost(random)) {
        acks.push_back(
            {snapshot_index + options.ack_delay_snapshots, id, clients[c]->update_message()});
      }
    }
    if (counted) {
      const auto start = Clock::now();
      result.full_fb_bytes +=
          static_cast<double>(plain_flatbuffers_snapshot(scenario, wire_tick, fb_builder, raw));
      fb_build += Clock::now() - start;
      ++fb_measured;
    }
  }
  const auto us = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  result.entities = entity_samples / std::max<std::size_t>(measured, 1);
  result.body_bits /= static_cast<double>(measured);
  result.message_bytes /= static_cast<double>(measured);
  result.full_fb_bytes /= static_cast<double>(fb_measured);
  result.encode_us = us(encode) / static_cast<double>(measured);
  result.decode_us = us(decode) / static_cast<double>(measured);
  result.fb_build_us = us(fb_build) / static_cast<double>(fb_measured);
  return result;
}

void print(const std::vector<Result>& results) {
  constexpr double kSnapshotsPerSecond = 30;
  std::printf("\nPer client, snapshots at 30 Hz; bits per entity per snapshot (b/e) and kbit/s:\n");
  std::printf("%-30s %5s | %9s %9s | %8s %9s %7s | %8s %8s %6s | %8s %8s %8s\n", "scenario", "ents",
              "raw b/e", "kbit/s", "tw b/e", "tw kbit/s", "% raw", "fb b/e", "fb kbit/s", "% fb",
              "enc us", "dec us", "fb us");
  for (const Result& r : results) {
    const double entities = static_cast<double>(r.entities);
    const double raw_bits = static_cast<double>(r.uncompressed_bits);
    const double tw_bits = r.message_bytes * 8 / entities;  // whole message, envelope included
    const double fb_bits = r.full_fb_bytes * 8 / entities;
    std::printf(
        "%-30s %5zu | %9.1f %9.1f | %8.2f %9.1f %6.2f%% | %8.1f %9.1f %5.1f%% | %8.1f %8.1f "
        "%8.1f\n",
        r.name.c_str(), r.entities, raw_bits, raw_bits * entities * kSnapshotsPerSecond / 1000,
        tw_bits, r.message_bytes * 8 * kSnapshotsPerSecond / 1000, 100 * tw_bits / raw_bits,
        fb_bits, r.full_fb_bytes * 8 * kSnapshotsPerSecond / 1000, 100 * tw_bits / fb_bits,
        r.encode_us, r.decode_us, r.fb_build_us);
  }
  std::printf("\nBody only (without the FlatBuffers envelope, about 40 bytes per snapshot):\n");
  for (const Result& r : results) {
    const double body_per_entity = r.body_bits / static_cast<double>(r.entities);
    std::printf("  %-30s %6.2f bits/entity = %5.2f%% of uncompressed%s\n", r.name.c_str(),
                body_per_entity, 100 * body_per_entity / static_cast<double>(r.uncompressed_bits),
                r.mismatches == 0 ? "" : "  (CLIENT STATE MISMATCHES!)");
  }
  std::printf("\nGoals: (a) <= 1.5%% of uncompressed, (b) <= 15%%:\n");
  for (const Result& r : results) {
    const double share = 100 * r.message_bytes * 8 / static_cast<double>(r.entities) /
                         static_cast<double>(r.uncompressed_bits);
    const char* goal = r.name.rfind("(a)", 0) == 0   ? "<= 1.5%"
                       : r.name.rfind("(b)", 0) == 0 ? "<= 15%"
                                                     : nullptr;
    if (goal == nullptr) continue;
    const double limit = r.name.rfind("(a)", 0) == 0 ? 1.5 : 15.0;
    std::printf("  %-30s %6.2f%% (goal %s): %s\n", r.name.c_str(), share, goal,
                share <= limit ? "met" : "NOT met");
  }
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  tickwire::bench::Options options;
  CLI::App app{"Tickwire snapshot compression benchmark"};
  app.add_option("--seconds", options.seconds, "Simulated seconds per scenario")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed")->capture_default_str();
  app.add_option("--loss", options.loss, "Snapshot and ack loss, 0..1")->capture_default_str();
  app.add_option("--ack-delay", options.ack_delay_snapshots, "Ack delay in snapshots")
      ->capture_default_str();
  app.add_option("--velocity-step", options.velocity_step,
                 "Precision of velocities in (b) and (c), m/s")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::printf(
      "Tickwire snapshot benchmark: %.0f s per scenario at 60 Hz, snapshots at 30 Hz, %.0f%% "
      "loss, acks %d snapshots late, velocities to 1/%.0f m/s, seed %llu\n",
      options.seconds, options.loss * 100, options.ack_delay_snapshots, 1 / options.velocity_step,
      static_cast<unsigned long long>(options.seed));
  std::vector<tickwire::bench::Result> results;
  std::vector<std::unique_ptr<tickwire::bench::Scenario>> scenarios;
  scenarios.push_back(tickwire::bench::make_resting_cubes(options.seed));
  scenarios.push_back(tickwire::bench::make_moving_crowd(options.seed, options.velocity_step));
  scenarios.push_back(tickwire::bench::make_players(options.seed, options.velocity_step));
  for (auto& scenario : scenarios)
    results.push_back(tickwire::bench::run(*scenario, options));
  tickwire::bench::print(results);
  for (const auto& r : results) {
    if (r.mismatches != 0) return 1;
  }
  return 0;
}
