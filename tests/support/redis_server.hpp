#pragma once
// A real redis-server for a test: on a free loopback port, in a temporary directory of its own,
// with nothing saved to disk (--save '' --appendonly no), stopped and removed with the object.
// No mock: the lobby's Redis state is tested against the server it runs on in production.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "free_port.hpp"
#include "raw_tcp_client.hpp"
#include "temp_directory.hpp"

namespace tickwire::test {

class RedisServer {
 public:
  // Where the binary is, or nothing (the test then skips, saying so).
  static std::optional<std::string> find_binary() {
    for (const char* path : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
      if (::access(path, X_OK) == 0) return std::string(path);
    }
    return std::nullopt;
  }
  static constexpr const char* kMissing =
      "needs redis-server (scripts/deps.sh installs Debian's redis-server package)";

  // Started and answering PING, or null with `error` set. `password`: requirepass, if any.
  static std::unique_ptr<RedisServer> start(std::string& error, const std::string& password = {}) {
    const auto binary = find_binary();
    if (!binary) {
      error = kMissing;
      return nullptr;
    }
    // A port that was free a moment ago can be taken before redis binds it: a few tries.
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto server = std::unique_ptr<RedisServer>(new RedisServer());
      if (server->launch(*binary, password, error)) return server;
    }
    return nullptr;
  }

  ~RedisServer() {
    process_.reset();  // before its directory goes (a member, destroyed after this)
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  // The server's process, for a benchmark that reads its CPU time.
  pid_t pid() const { return process_ ? process_->pid() : -1; }

 private:
  RedisServer() = default;

  bool launch(const std::string& binary, const std::string& password, std::string& error) {
    try {
      directory_.emplace("tickwire-redis");
    } catch (const std::runtime_error& failed) {
      error = std::string("redis-server: ") + failed.what();
      return false;
    }
    const std::string directory = directory_->string();
    port_ = free_tcp_port();
    std::vector<std::string> args{
        binary,    "--port",    std::to_string(port_),   "--bind", "127.0.0.1",
        "--save",  "",          "--appendonly",          "no",     "--dir",
        directory, "--logfile", directory + "/redis.log"};
    if (!password.empty()) {
      args.push_back("--requirepass");
      args.push_back(password);
    }
    process_ = std::make_unique<ChildProcess>(std::move(args), directory + "/stdout.log");
    if (!process_->started()) {
      error = "cannot fork redis-server";
      return false;
    }
    // Generous: a loaded CI machine under sanitizers starts processes slowly.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->running()) {
        error = "redis-server exited at start: " + process_->output();
        return false;
      }
      RawTcpClient client(port_);
      // Any answer to PING (+PONG, or -NOAUTH with a password) means it listens.
      if (client.connected() && client.send_bytes("PING\r\n") &&
          client.read_until(
              [](const std::string& got) { return got.find("\r\n") != std::string::npos; },
              std::chrono::seconds(1))) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error = "redis-server did not answer on port " + std::to_string(port_) + " within 10 s";
    return false;
  }

  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
  std::optional<TempDirectory> directory_;
};

}  // namespace tickwire::test
