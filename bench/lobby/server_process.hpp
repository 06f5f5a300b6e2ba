#pragma once
// A server under test in a child process of its own (this same program, run with --serve), so
// that the CPU time and resident memory read from /proc are the server's alone and not the load
// generator's.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace tickwire::bench {

// The lobby over plaintext ws:// and over TLS (wss://, its certificate made at start), and over
// plaintext with its state in Redis (one node of a cluster: several share one redis-server).
enum class ServerKind { raw_beast, tickwire_lobby, tickwire_lobby_tls, tickwire_lobby_redis };

const char* server_name(ServerKind kind);

class ServerProcess {
 public:
  // Starts `program --serve <kind>` and waits for the port it prints. ok() tells if it did.
  // `redis_port`: the redis-server on 127.0.0.1 of a tickwire_lobby_redis server.
  ServerProcess(const std::string& program, ServerKind kind, std::uint16_t redis_port = 0);
  // Closes the child's stdin (its signal to stop) and waits for it to exit.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ok() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  // User + system CPU time of every thread of the child so far, in seconds (10 ms resolution).
  double cpu_seconds() const;
  // The child's resident set (VmRSS), in KiB; 0 if it cannot be read.
  std::uint64_t rss_kib() const;

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string error_;
};

// The --serve side: runs the server, prints "port <n>" on stdout, and returns once stdin reaches
// end of file (the parent closed it or died). Returns the process exit status.
int serve_raw_beast();
// `redis_port` > 0: the lobby's state is in the redis-server on 127.0.0.1 at that port.
int serve_tickwire_lobby(bool tls, std::uint16_t redis_port = 0);

// User + system CPU time of every thread of process `pid` so far, in seconds (10 ms
// resolution); 0 if it cannot be read.
double process_cpu_seconds(pid_t pid);

// Raises RLIMIT_NOFILE to its hard limit; children inherit it. Returns the new soft limit.
std::uint64_t raise_fd_limit();

}  // namespace tickwire::bench
