#pragma once
// The cluster case of tickwire-bench-lobby: chat fan-out with the room's clients split across two
// lobby nodes (two LobbyServers, each in a child process, on one real redis-server that the
// benchmark starts on a free loopback port) against the same clients on one node, in the same run:
// CPU per delivery per node, Redis commands per chat line, and delivery latency.

#include <string>

namespace tickwire::bench {

struct ClusterOptions {
  double seconds = 5.0;  // fan-out time counted per round and setup
  int rounds = 3;        // the order of the setups turns by round
  int clients = 100;     // in one room; the goals are read at 100
  int window = 2;        // lines each client keeps in flight
  int probes = 300;      // latency probes per round and setup (one line at a time)
  bool quick = false;    // a smoke run: figures are not meaningful
};

// Prints the report on stdout. Returns 0 when every setup ran and every line arrived, or when
// redis-server is missing (the case says so and is skipped); 1 otherwise. Never judged on speed.
int run_cluster(const std::string& program, const ClusterOptions& options);

}  // namespace tickwire::bench
