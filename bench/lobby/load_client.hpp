#pragma once
// The load generator: many WebSocket clients on one thread of the benchmark's own process, built
// on Beast's async streams, speaking either the lobby protocol (LobbyMessages: Hello, CreateRoom,
// JoinRoom, SendChat; binary FlatBuffers, or JSON text frames in the idle reading) or the raw Beast
// server's (a text frame is a chat line). One connection is load_connection.hpp; each workload
// below has its own file (fanout_load.cpp, handshake_load.cpp, idle_load.cpp).
// Loopback only: it connects to 127.0.0.1.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lobby_wire.hpp"
#include "server_process.hpp"

namespace tickwire::bench {

struct FanoutSettings {
  int clients = 100;            // all in one room, and every one of them sends
  int window = 2;               // lines each client has sent and not yet seen come back, at most
  std::size_t text_size = 32;   // bytes of chat text per line
  double warmup_seconds = 0.5;  // chat before counting starts
  double seconds = 5.0;         // chat counted
  // After the counted chat, lines sent one at a time (the next once every client has the last,
  // 2 ms later), each timed from its send to each client's receipt: delivery latency without
  // queueing. 0 = none. Senders take turns.
  int latency_probes = 0;
};

struct FanoutResult {
  std::string error;                   // empty when it ran
  std::uint64_t timed_deliveries = 0;  // lines received by any client within the counted time
  double seconds = 0;                  // the counted time, as measured
  double server_cpu_seconds = 0;       // the servers' CPU time within the counted time (summed)
  // What `readings` (see run_fanout) grew by within the counted time, entry by entry.
  std::vector<double> window_readings;
  // Lines received within the counted time by the clients of each server (ports[i]).
  std::vector<std::uint64_t> timed_deliveries_by_server;
  // Send-to-receive time of every delivery of the latency probes, in microseconds.
  std::vector<double> latency_us;
  double generator_cpu_seconds = 0;  // the load generator's CPU time meanwhile (one thread)
  std::uint64_t lines_sent = 0;      // over the whole run, warm-up included
  std::uint64_t deliveries = 0;      // over the whole run, after the drain
  std::uint64_t lost = 0;            // lines_sent * clients - deliveries

  double deliveries_per_second() const {
    return seconds > 0 ? static_cast<double>(timed_deliveries) / seconds : 0;
  }
  double cpu_us_per_delivery() const {
    return timed_deliveries > 0 ? server_cpu_seconds * 1e6 / static_cast<double>(timed_deliveries)
                                : 0;
  }
};

// `clients` connect (and say Hello, create and join one room on the lobby), then each keeps
// `window` lines in flight: it sends the next one when one of its own comes back. Every client
// counts every line it receives; after the counted time sending stops and the run waits for the
// lines still in flight, so that `lost` counts only lines that never arrived. Then the latency
// probes, if any.
//
// Client i connects to ports[i % ports.size()] (several lobby nodes serving one room: client 0
// creates it on the first). `readings` is called at the start and at the end of the counted
// time; its first ports.size() entries are each server's CPU seconds so far, any further entry a
// counter of the caller's (reported in window_readings).
FanoutResult run_fanout(ServerKind kind, const std::vector<std::uint16_t>& ports,
                        const FanoutSettings& settings,
                        const std::function<std::vector<double>()>& readings);

struct HandshakeResult {
  std::string error;
  int completed = 0;  // connections opened, upgraded (and welcomed by the lobby) and closed
  int failed = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? completed / seconds : 0; }
};

// Opens `count` connections, `concurrency` at a time: TCP connect, WebSocket upgrade, on the lobby
// a Hello answered by Welcome, then a WebSocket close handshake. Timed from the first connect to
// the last close.
HandshakeResult run_handshakes(ServerKind kind, std::uint16_t port, int count, int concurrency);

struct IdleResult {
  std::string error;
  int opened = 0;
};

// Members of each room in the idle reading by default (a game's room, not one room of everyone).
inline constexpr std::size_t kDefaultIdleRoomSize = 8;

enum class IdleStage {
  said_hello,   // every connection open and welcomed (upgraded, on raw Beast)
  joined_room,  // every lobby connection in a room of `room_size` (raw Beast: as said_hello)
};

// Opens `count` connections (with Hello on the lobby), waits `settle_seconds` with all of them
// open and idle and calls `measure(said_hello)`; then puts them in rooms of `room_size`, waits
// again and calls `measure(joined_room)`; then closes them. The lobby clients speak `encoding`.
IdleResult run_idle(ServerKind kind, std::uint16_t port, int count, std::size_t room_size,
                    LobbyEncoding encoding, double settle_seconds,
                    const std::function<void(IdleStage)>& measure);

}  // namespace tickwire::bench
