// The handshake workload: connections opened, upgraded (and welcomed by the lobby) and closed,
// so many at a time.

#include "load_client.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "load_connection.hpp"

namespace tickwire::bench {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

HandshakeResult run_handshakes(ServerKind kind, std::uint16_t port, int count, int concurrency) {
  asio::io_context ioc(1);
  HandshakeResult result;
  int started = 0;
  int active = 0;
  std::function<void()> start_more;
  const auto finish_one = [&](const std::string& error) {
    --active;
    if (error.empty()) {
      ++result.completed;
    } else {
      ++result.failed;
      if (result.error.empty()) result.error = error;
    }
    start_more();
  };
  start_more = [&] {
    while (started < count && active < concurrency) {
      auto client = std::make_shared<LoadConnection>(ioc, kind, started);
      ++started;
      ++active;
      client->open(port, "hs" + std::to_string(started),
                   [&finish_one](LoadConnection& self, const std::string& error) {
                     if (!error.empty()) return finish_one(error);
                     self.close([&finish_one](LoadConnection&, const std::string& closed) {
                       finish_one(closed);
                     });
                   });
    }
  };
  const auto start = Clock::now();
  start_more();
  run_for(ioc, std::chrono::seconds(120));
  result.seconds = seconds_since(start);
  if (result.completed + result.failed < count && result.error.empty()) {
    result.error = "the run did not finish in time";
  }
  return result;
}

}  // namespace tickwire::bench
