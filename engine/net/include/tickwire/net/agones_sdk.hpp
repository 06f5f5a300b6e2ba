#pragma once
// A game server's side of Agones' lifecycle (https://agones.dev), through the SDK sidecar's local
// HTTP/JSON gateway: Ready once the server listens, Health on a period well inside the health
// check's window, Allocate when a match starts on it (self-allocation, so that a fleet scale-down
// or rolling update does not delete a server in a match), and Shutdown when the process is done.
//
// Every lifecycle request runs on the SDK's own thread: ready(), allocate() and shutdown() record
// what is wanted and return at once, so the game loop never waits on the sidecar (only the
// start-up call game_server() blocks). A request that fails (the sidecar not up yet, an error
// status, a timeout) is logged (category "agones", a warning on the first failure of a run and on
// every tenth after it) and retried with a backoff that doubles up to
// AgonesSdkConfig::retry_max_ms; it is never fatal to the match.
//
// At start-up, game_server() reads the GameServer record (GET /gameserver) for the address and
// ports Agones gave the server, which players must be sent to (with a Dynamic port policy the
// host port differs from the one the process binds).
//
// What it does not do: the gRPC SDK, watching the GameServer record, labels, annotations, player
// tracking, counters or lists. It trusts the sidecar no more than any peer: a response is read
// with a size limit, and a GameServer record that is not JSON or lacks the fields is an error.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickwire/net/status.hpp"

namespace tickwire::net {

// The port of the sidecar's HTTP gateway that Agones hands the game server in the
// AGONES_SDK_HTTP_PORT environment variable; `fallback` when it is unset (Agones' default is
// 9358). An error names the variable when it is set but not a port number.
Result<std::uint16_t> agones_sdk_port_from_environment(std::uint16_t fallback = 9358);

struct AgonesSdkConfig {
  // IP address of the SDK sidecar's HTTP gateway. Default "127.0.0.1": the sidecar listens on
  // localhost inside the game server's pod. An IPv4 or IPv6 literal.
  std::string host = "127.0.0.1";
  // TCP port of the gateway. Default 9358 (use agones_sdk_port_from_environment()).
  std::uint16_t port = 9358;
  // Milliseconds between Health pings once ready() was called. Default 2000: Agones' default
  // health check marks a server unhealthy after 3 missed periods of 5 s, so a ping every 2 s
  // survives a lost one or two. Must stay below 60000.
  std::uint32_t health_interval_ms = 2000;
  // Milliseconds one request may take from connect to the last byte of the answer. Default 2000.
  std::uint32_t request_timeout_ms = 2000;
  // Milliseconds before the first retry of a failed request; each further failure doubles it up
  // to retry_max_ms. Defaults 200 and 2000 (so a sidecar that starts after the game server
  // hears Ready within about 2 s of coming up).
  std::uint32_t retry_initial_ms = 200;
  std::uint32_t retry_max_ms = 2000;

  Status validate() const;
};

// What the sidecar has confirmed (a 2xx answer), and the requests' outcomes so far.
struct AgonesSdkState {
  bool ready = false;
  bool allocated = false;
  bool shut_down = false;
  std::uint64_t health_pings = 0;     // Health requests answered with 2xx
  std::uint64_t requests_failed = 0;  // any request: refused, timed out, or a non-2xx status
  std::uint64_t consecutive_failures = 0;
};

// The parts of the GameServer record a game server needs to be found by its players.
struct AgonesGameServer {
  std::string name;     // object_meta.name
  std::string state;    // status.state: "Scheduled", "RequestReady", "Ready", "Allocated", ...
  std::string address;  // status.address: the node's address players reach
  std::vector<std::pair<std::string, std::uint16_t>> ports;  // status.ports: name, host port

  std::optional<std::uint16_t> port(std::string_view port_name) const;
};

// Parses the JSON of GET /gameserver (at most 64 KiB). An error says what was missing.
Result<AgonesGameServer> parse_agones_game_server(std::string_view json);

class AgonesSdk {
 public:
  // Starts the SDK's thread. It sends nothing until ready() is called.
  static Result<std::unique_ptr<AgonesSdk>> start(const AgonesSdkConfig& config);
  // Stops the thread, after the request in flight if there is one (at most request_timeout_ms).
  // Call shutdown() and wait_until_shut_down() first to tell Agones.
  virtual ~AgonesSdk() = default;

  // The server listens and takes players: POST /ready (until confirmed), and from its
  // confirmation on a Health ping every health_interval_ms (before any other request but
  // Shutdown).
  virtual void ready() = 0;
  // A match started here: POST /allocate (until confirmed).
  virtual void allocate() = 0;
  // The process is about to exit: POST /shutdown (until confirmed); Health pings go on until it
  // is confirmed.
  virtual void shutdown() = 0;
  // Waits up to `timeout` for the sidecar to confirm Shutdown. True when it did.
  virtual bool wait_until_shut_down(std::chrono::milliseconds timeout) = 0;
  virtual AgonesSdkState state() const = 0;
  // GET /gameserver, retried with backoff until it succeeds or `timeout` passes. It blocks the
  // calling thread: call it at start-up, before the game loop (the sidecar may start after the
  // game server, so give it some seconds).
  virtual Result<AgonesGameServer> game_server(std::chrono::milliseconds timeout) = 0;
};

}  // namespace tickwire::net
