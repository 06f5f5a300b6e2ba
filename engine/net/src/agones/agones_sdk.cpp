// AgonesSdk: one thread that owns an io_context and sends the lifecycle requests the game asked
// for, one at a time, each on a fresh loopback connection (a request every couple of seconds
// does not justify keeping one alive). The thread runs its io_context only for the request in
// hand, so a strand is unnecessary. The game's calls only set flags under a mutex and wake it.

#include "tickwire/net/agones_sdk.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "tickwire/net/log.hpp"

namespace tickwire::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The gateway answers lifecycle requests with "{}" and GET /gameserver with a few kilobytes: a
// larger answer is not the sidecar's, and is cut off rather than buffered.
constexpr std::uint64_t kMaxResponseBytes = 64 * 1024;
constexpr std::uint64_t kLogEveryNthFailure = 10;

enum class Request { ready, allocate, health, shutdown };

std::string_view path_of(Request request) {
  switch (request) {
    case Request::ready:
      return "/ready";
    case Request::allocate:
      return "/allocate";
    case Request::health:
      return "/health";
    case Request::shutdown:
      return "/shutdown";
  }
  return "/health";
}

class Sdk final : public AgonesSdk {
 public:
  explicit Sdk(const AgonesSdkConfig& config)
      : config_(config),
        endpoint_(asio::ip::make_address(config.host), config.port),
        retry_delay_(config.retry_initial_ms) {
    thread_ = std::thread([this] { run(); });
  }

  ~Sdk() override {
    {
      std::lock_guard lock(mutex_);
      // A request in flight finishes first (within request_timeout_ms): abandoning it would
      // leave its handlers, which refer to the request's locals, queued in the io_context.
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void ready() override { want(want_ready_); }
  void allocate() override { want(want_allocate_); }
  void shutdown() override { want(want_shutdown_); }

  bool wait_until_shut_down(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return state_.shut_down; });
  }

  AgonesSdkState state() const override {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  void want(bool& flag) {
    {
      std::lock_guard lock(mutex_);
      flag = true;
    }
    wake_.notify_all();
  }

  // The next request to send, by priority, or none yet: Shutdown first (the process is
  // leaving), then a Health ping that is due (an Allocate the sidecar keeps refusing must not
  // starve them, or Agones would take the server for dead in its match), then the rest.
  std::optional<Request> next_request(Clock::time_point now) const {
    if (now < retry_at_) return std::nullopt;
    if (want_shutdown_ && !state_.shut_down) return Request::shutdown;
    if (state_.ready && !state_.shut_down && now >= next_health_) return Request::health;
    if (want_ready_ && !state_.ready) return Request::ready;
    if (want_allocate_ && !state_.allocated) return Request::allocate;
    return std::nullopt;
  }

  Clock::time_point next_wakeup() const {
    Clock::time_point at = Clock::time_point::max();
    if (state_.ready && !state_.shut_down) at = next_health_;
    const bool pending = (want_shutdown_ && !state_.shut_down) || (want_ready_ && !state_.ready) ||
                         (want_allocate_ && !state_.allocated);
    if (pending) at = std::min(at, retry_at_);
    return std::max(at, retry_at_);
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto now = Clock::now();
      const std::optional<Request> request = next_request(now);
      if (!request) {
        const auto at = next_wakeup();
        if (at == Clock::time_point::max()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, at);
        }
        continue;
      }
      lock.unlock();
      io_.restart();
      std::string failure = send(*request);
      lock.lock();
      if (stopping_) break;
      finish(*request, std::move(failure));
      changed_.notify_all();
    }
  }

  // Records the outcome of one request (under the mutex).
  void finish(Request request, std::string failure) {
    const auto now = Clock::now();
    if (failure.empty()) {
      if (state_.consecutive_failures > 0) {
        log(LogLevel::info, "agones",
            "the SDK sidecar answers again, after " + std::to_string(state_.consecutive_failures) +
                " failed request(s)");
      }
      state_.consecutive_failures = 0;
      retry_delay_ = std::chrono::milliseconds(config_.retry_initial_ms);
      switch (request) {
        case Request::ready:
          state_.ready = true;
          next_health_ = now + std::chrono::milliseconds(config_.health_interval_ms);
          log(LogLevel::info, "agones", "Ready confirmed by the SDK sidecar");
          break;
        case Request::allocate:
          state_.allocated = true;
          log(LogLevel::info, "agones", "Allocated confirmed by the SDK sidecar");
          break;
        case Request::health:
          ++state_.health_pings;
          next_health_ = now + std::chrono::milliseconds(config_.health_interval_ms);
          break;
        case Request::shutdown:
          state_.shut_down = true;
          log(LogLevel::info, "agones", "Shutdown confirmed by the SDK sidecar");
          break;
      }
      return;
    }
    ++state_.requests_failed;
    ++state_.consecutive_failures;
    if (state_.consecutive_failures % kLogEveryNthFailure == 1) {
      log(LogLevel::warning, "agones",
          "POST " + std::string(path_of(request)) + " to the SDK sidecar at " + config_.host + ":" +
              std::to_string(config_.port) + " failed (" + failure + "; " +
              std::to_string(state_.consecutive_failures) +
              " in a row); retrying with backoff, the game goes on");
    }
    retry_at_ = now + retry_delay_;
    retry_delay_ = std::min(retry_delay_ * 2, std::chrono::milliseconds(config_.retry_max_ms));
    // A missed ping is retried like any request, then the period starts again.
    if (request == Request::health) next_health_ = retry_at_;
  }

  std::string send(Request request) {
    std::string ignored;
    return exchange(io_, config_, endpoint_, http::verb::post, path_of(request), ignored);
  }

  Result<AgonesGameServer> game_server(std::chrono::milliseconds timeout) override {
    asio::io_context io;  // this thread's own: the SDK's thread may be in a request
    const auto deadline = Clock::now() + timeout;
    auto delay = std::chrono::milliseconds(config_.retry_initial_ms);
    std::string failure;
    for (int attempt = 1;; ++attempt) {
      std::string body;
      io.restart();
      failure = exchange(io, config_, endpoint_, http::verb::get, "/gameserver", body);
      if (failure.empty()) {
        auto parsed = parse_agones_game_server(body);
        if (parsed) return parsed;
        failure = parsed.error();
      }
      if (attempt == 1) {
        log(LogLevel::warning, "agones",
            "GET /gameserver from the SDK sidecar failed (" + failure + "); retrying with backoff");
      }
      if (Clock::now() + delay >= deadline) break;
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(config_.retry_max_ms));
    }
    return Status::error("GET /gameserver from the Agones SDK sidecar at " + config_.host + ":" +
                         std::to_string(config_.port) + " failed: " + failure);
  }

  // One request on a fresh connection, run to its end on `io`. Empty on a 2xx answer (its body
  // in `body`), else what went wrong.
  static std::string exchange(asio::io_context& io, const AgonesSdkConfig& config,
                              const tcp::endpoint& endpoint, http::verb verb, std::string_view path,
                              std::string& body) {
    std::string failure;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::request<http::string_body> message{verb, std::string(path), 11};
    message.set(http::field::host, config.host + ":" + std::to_string(config.port));
    message.set(http::field::content_type, "application/json");
    if (verb == http::verb::post) message.body() = "{}";
    message.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    parser.header_limit(8 * 1024);
    // One deadline for the whole exchange.
    stream.expires_after(std::chrono::milliseconds(config.request_timeout_ms));
    stream.async_connect(endpoint, [&](beast::error_code ec) {
      if (ec) {
        failure = "connect: " + ec.message();
        return;
      }
      http::async_write(stream, message, [&](beast::error_code write_ec, std::size_t) {
        if (write_ec) {
          failure = "write: " + write_ec.message();
          return;
        }
        http::async_read(stream, buffer, parser, [&](beast::error_code read_ec, std::size_t) {
          if (read_ec) {
            failure = "read: " + read_ec.message();
            return;
          }
          const unsigned status = parser.get().result_int();
          if (status < 200 || status > 299) failure = "HTTP status " + std::to_string(status);
        });
      });
    });
    io.run();  // the caller restarted it
    if (failure.empty() && !parser.is_done()) failure = "abandoned";
    if (failure.empty()) body = parser.get().body();
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return failure;
  }

  const AgonesSdkConfig config_;
  const tcp::endpoint endpoint_;
  asio::io_context io_;  // this thread's only: run for one request at a time

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the game asked for something, or it is stopping
  std::condition_variable changed_;  // a request finished
  bool stopping_ = false;
  bool want_ready_ = false;
  bool want_allocate_ = false;
  bool want_shutdown_ = false;
  AgonesSdkState state_;
  Clock::time_point next_health_{};
  Clock::time_point retry_at_{};
  std::chrono::milliseconds retry_delay_;
  std::thread thread_;  // last: starts once every member above exists
};

}  // namespace

Result<std::uint16_t> agones_sdk_port_from_environment(std::uint16_t fallback) {
  const char* text = std::getenv("AGONES_SDK_HTTP_PORT");
  if (text == nullptr || *text == '\0') return fallback;
  const std::string_view value(text);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), port);
  if (error != std::errc{} || end != value.data() + value.size() || port == 0 || port > 65535) {
    return Status::error("AGONES_SDK_HTTP_PORT is \"" + std::string(value) +
                         "\", not a TCP port number (1-65535)");
  }
  return static_cast<std::uint16_t>(port);
}

std::optional<std::uint16_t> AgonesGameServer::port(std::string_view port_name) const {
  for (const auto& [entry_name, number] : ports) {
    if (entry_name == port_name) return number;
  }
  return std::nullopt;
}

Result<AgonesGameServer> parse_agones_game_server(std::string_view json) {
  if (json.size() > kMaxResponseBytes) {
    return Status::error("the GameServer record is larger than 64 KiB");
  }
  namespace pt = boost::property_tree;
  pt::ptree tree;
  try {
    std::istringstream in{std::string(json)};
    pt::read_json(in, tree);
  } catch (const pt::json_parser_error& error) {
    return Status::error(std::string("the GameServer record is not JSON: ") + error.what());
  }
  AgonesGameServer server;
  server.name = tree.get<std::string>("object_meta.name", "");
  server.state = tree.get<std::string>("status.state", "");
  server.address = tree.get<std::string>("status.address", "");
  if (server.address.empty()) return Status::error("the GameServer record has no status.address");
  if (const auto ports = tree.get_child_optional("status.ports")) {
    for (const auto& [key, entry] : *ports) {
      const auto name = entry.get_optional<std::string>("name");
      const auto number = entry.get_optional<unsigned>("port");
      if (!name || !number || *number == 0 || *number > 65535) {
        return Status::error("the GameServer record has a port without a name or a port number");
      }
      server.ports.emplace_back(*name, static_cast<std::uint16_t>(*number));
    }
  }
  return server;
}

Status AgonesSdkConfig::validate() const {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1 && inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
    return Status::error("AgonesSdkConfig.host is \"" + host +
                         "\": give the sidecar's IP address (default 127.0.0.1)");
  }
  if (port == 0) return Status::error("AgonesSdkConfig.port is 0: give the sidecar's HTTP port");
  if (health_interval_ms == 0 || health_interval_ms >= 60000) {
    return Status::error("AgonesSdkConfig.health_interval_ms is " +
                         std::to_string(health_interval_ms) +
                         ": it must be 1-59999, well inside Agones' health check window");
  }
  if (request_timeout_ms == 0) return Status::error("AgonesSdkConfig.request_timeout_ms is 0");
  if (retry_initial_ms == 0 || retry_max_ms < retry_initial_ms) {
    return Status::error("AgonesSdkConfig.retry_initial_ms is " + std::to_string(retry_initial_ms) +
                         " and retry_max_ms " + std::to_string(retry_max_ms) +
                         ": the first must be above 0 and at most the second");
  }
  return {};
}

Result<std::unique_ptr<AgonesSdk>> AgonesSdk::start(const AgonesSdkConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  return std::unique_ptr<AgonesSdk>(std::make_unique<Sdk>(config));
}

}  // namespace tickwire::net
