// HttpFetch: one GET or PUT over a Beast stream (plain TCP or TLS) on an io_context of its own, run
// by the fetch's thread. The body is read into a fixed buffer (http::buffer_body) and appended to
// memory or to the partial file, so memory stays one buffer whatever the size.

#include "tickwire/net/http_fetch.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "websocket/tls_context.hpp"

namespace tickwire::net {

Status HttpFetchConfig::validate() const {
  if (host.empty()) return Status::error("HttpFetchConfig.host is empty: give a host or address");
  if (target.empty() || target.front() != '/') {
    return Status::error("HttpFetchConfig.target '" + target + "' must start with '/'");
  }
  if (!upload_from.empty() && !save_to.empty()) {
    return Status::error("HttpFetchConfig.save_to '" + save_to +
                         "' and upload_from go not together: an upload's answer stays in memory");
  }
  if (bearer_token.find_first_of("\r\n") != std::string::npos) {
    return Status::error("HttpFetchConfig.bearer_token holds a line break");
  }
  if (max_bytes < 1) return Status::error("HttpFetchConfig.max_bytes is 0: use at least 1");
  if (stall_timeout_ms < 100) {
    return Status::error("HttpFetchConfig.stall_timeout_ms " + std::to_string(stall_timeout_ms) +
                         " is too short: use at least 100");
  }
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The body is read this much at a time.
constexpr std::size_t kReadBytes = 64 * 1024;

class Fetch final : public HttpFetch {
 public:
  Fetch(HttpFetchConfig config, std::unique_ptr<asio::ssl::context> tls)
      : config_(std::move(config)), tls_(std::move(tls)) {}
  ~Fetch() override {
    cancel();
    if (thread_.joinable()) thread_.join();
  }

  void begin() {
    thread_ = std::thread([this] {
      if (tls_) {
        beast::ssl_stream<beast::tcp_stream> stream(io_, *tls_);
        run(stream);
      } else {
        beast::tcp_stream stream(io_);
        run(stream);
      }
    });
  }

  Progress progress() const override {
    std::lock_guard lock(mutex_);
    return progress_;
  }
  std::string body() const override {
    std::lock_guard lock(mutex_);
    return progress_.state == State::done ? body_ : std::string();
  }
  void cancel() override {
    cancelled_ = true;
    io_.stop();
  }

 private:
  static beast::tcp_stream& lowest(beast::tcp_stream& stream) { return stream; }
  static beast::tcp_stream& lowest(beast::ssl_stream<beast::tcp_stream>& stream) {
    return stream.next_layer();
  }

  template <class Stream>
  void run(Stream& stream) {
    std::string error = fetch(stream);
    if (file_ != nullptr) {  // only when fetch() failed before the rename
      std::fclose(file_);
      file_ = nullptr;
      ::unlink(partial_path().c_str());
    }
    std::lock_guard lock(mutex_);
    // A cancel that comes after the last byte was saved changes nothing: the file is whole.
    if (error.empty()) {
      progress_.state = State::done;
    } else if (cancelled_) {
      progress_.state = State::cancelled;
    } else {
      progress_.state = State::failed;
      progress_.error = std::move(error);
    }
  }

  std::string partial_path() const { return config_.save_to + ".part"; }

  // What an asynchronous operation's handler was called with: its error and, for reads and
  // writes, the bytes moved.
  struct Outcome {
    beast::error_code ec;
    std::size_t bytes = 0;
  };

  // Starts an operation, `start(handler)`, and runs the io_context until its handler is called,
  // at most stall_timeout_ms of silence; nothing if the fetch was cancelled first.
  template <class Start>
  std::optional<Outcome> await(beast::tcp_stream& socket, Start start) {
    std::optional<Outcome> outcome;
    socket.expires_after(std::chrono::milliseconds(config_.stall_timeout_ms));
    start([&outcome](beast::error_code ec, const auto&... results) {
      outcome = Outcome{ec};
      if constexpr (sizeof...(results) == 1 &&
                    (std::is_integral_v<std::remove_cvref_t<decltype(results)>> && ...)) {
        outcome->bytes = (results, ...);
      }
    });
    io_.restart();
    while (!outcome && !cancelled_ && io_.run_one() > 0) {
    }
    return outcome;
  }

  template <class Request>
  void set_common_fields(Request& request) const {
    request.set(http::field::host, config_.host);
    request.set(http::field::user_agent, "tickwire");
    if (!config_.bearer_token.empty())
      request.set(http::field::authorization, "Bearer " + config_.bearer_token);
    request.keep_alive(false);
  }

  // Reads the header of an answer into a fresh `parser` (the one before, an interim 100
  // Continue, is done with).
  template <class Stream>
  std::string read_answer_header(Stream& stream, beast::flat_buffer& buffer,
                                 std::optional<http::response_parser<http::buffer_body>>& parser) {
    parser.emplace();
    parser->body_limit(config_.max_bytes);
    const auto read = await(lowest(stream), [&](auto handler) {
      http::async_read_header(stream, buffer, *parser, std::move(handler));
    });
    if (!read) return "cancelled";
    if (read->ec == http::error::body_limit) return "the answer is larger than max_bytes";
    if (read->ec) return "no answer: " + read->ec.message();
    return {};
  }

  // PUT upload_from: the header with "Expect: 100-continue", then the body once the server says
  // 100 Continue, a piece at a time (progress().sent). Leaves `parser` on the final answer's
  // header, which is a refusal when it came instead of the 100.
  template <class Stream>
  std::string upload(Stream& stream, beast::flat_buffer& buffer,
                     std::optional<http::response_parser<http::buffer_body>>& parser) {
    beast::error_code ec;
    http::file_body::value_type body;
    body.open(config_.upload_from.c_str(), beast::file_mode::scan, ec);
    if (ec) return "cannot read " + config_.upload_from + ": " + ec.message();
    http::request<http::file_body> request{http::verb::put, config_.target, 11, std::move(body)};
    set_common_fields(request);
    request.set(http::field::content_type, "application/octet-stream");
    request.set(http::field::expect, "100-continue");
    request.prepare_payload();
    {
      std::lock_guard lock(mutex_);
      progress_.to_send = request.body().size();
    }
    http::request_serializer<http::file_body> serializer{request};
    const auto sent = await(lowest(stream), [&](auto handler) {
      http::async_write_header(stream, serializer, std::move(handler));
    });
    if (!sent) return "cancelled";
    if (sent->ec) return "cannot send the request: " + sent->ec.message();
    if (std::string error = read_answer_header(stream, buffer, parser); !error.empty())
      return error;
    if (parser->get().result() != http::status::continue_) return {};
    while (!serializer.is_done()) {
      const auto wrote = await(lowest(stream), [&](auto handler) {
        http::async_write_some(stream, serializer, std::move(handler));
      });
      if (!wrote) return "cancelled";
      if (wrote->ec) return "the upload broke off: " + wrote->ec.message();
      std::lock_guard lock(mutex_);
      progress_.sent += wrote->bytes;
    }
    return read_answer_header(stream, buffer, parser);
  }

  template <class Stream>
  std::string fetch(Stream& stream) {
    beast::tcp_stream& socket = lowest(stream);
    beast::error_code ec;
    tcp::resolver resolver(io_);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(config_.host, std::to_string(config_.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    io_.run();
    if (cancelled_) return "cancelled";
    if (ec) return "cannot resolve " + config_.host + ": " + ec.message();

    const auto connected =
        await(socket, [&](auto handler) { socket.async_connect(endpoints, std::move(handler)); });
    if (!connected) return "cancelled";
    if (connected->ec) {
      return "cannot connect to " + config_.host + ":" + std::to_string(config_.port) + ": " +
             connected->ec.message();
    }
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      const std::string& name =
          config_.tls.server_name.empty() ? config_.host : config_.tls.server_name;
      if (!websocket_detail::expect_server_name(stream.native_handle(), name)) {
        return "TLS: cannot check the server's name " + name;
      }
      const auto shaken = await(socket, [&](auto handler) {
        stream.async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (!shaken) return "cancelled";
      if (shaken->ec) return "TLS handshake failed: " + shaken->ec.message();
    }

    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::buffer_body>> parser;
    if (config_.upload_from.empty()) {
      http::request<http::empty_body> request{http::verb::get, config_.target, 11};
      set_common_fields(request);
      const auto sent = await(
          socket, [&](auto handler) { http::async_write(stream, request, std::move(handler)); });
      if (!sent) return "cancelled";
      if (sent->ec) return "cannot send the request: " + sent->ec.message();
      if (std::string error = read_answer_header(stream, buffer, parser); !error.empty())
        return error;
    } else if (std::string error = upload(stream, buffer, parser); !error.empty()) {
      return error;
    }
    const unsigned status = parser->get().result_int();
    {
      std::lock_guard lock(mutex_);
      progress_.status = static_cast<int>(status);
      progress_.total = parser->content_length().value_or(0);
    }
    const bool success = config_.upload_from.empty() ? status == 200 : status / 100 == 2;
    if (!success) return "the server answered " + std::to_string(status);
    if (!config_.save_to.empty()) {
      file_ = std::fopen(partial_path().c_str(), "wb");
      if (file_ == nullptr) return "cannot write " + partial_path();
    }

    std::vector<char> chunk(kReadBytes);
    while (!parser->is_done()) {
      parser->get().body().data = chunk.data();
      parser->get().body().size = chunk.size();
      const auto read = await(socket, [&](auto handler) {
        http::async_read_some(stream, buffer, *parser, std::move(handler));
      });
      if (!read) return "cancelled";
      ec = read->ec;
      if (ec == http::error::need_buffer) ec = {};
      if (ec == http::error::body_limit) return "the answer is larger than max_bytes";
      if (ec) return "the download broke off: " + ec.message();
      const std::size_t got = chunk.size() - parser->get().body().size;
      if (got == 0) continue;
      if (file_ != nullptr) {
        if (std::fwrite(chunk.data(), 1, got, file_) != got)
          return "cannot write " + partial_path();
      }
      std::lock_guard lock(mutex_);
      if (file_ == nullptr) body_.append(chunk.data(), got);
      progress_.bytes += got;
    }
    if (file_ != nullptr) {
      const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
      std::fclose(file_);
      file_ = nullptr;
      if (!flushed || std::rename(partial_path().c_str(), config_.save_to.c_str()) != 0) {
        ::unlink(partial_path().c_str());
        return "cannot save " + config_.save_to;
      }
    }
    return {};
  }

  const HttpFetchConfig config_;
  const std::unique_ptr<asio::ssl::context> tls_;
  asio::io_context io_;
  std::atomic<bool> cancelled_{false};
  std::thread thread_;
  std::FILE* file_ = nullptr;  // the partial file, on the fetch's thread only
  mutable std::mutex mutex_;
  Progress progress_;
  std::string body_;
};

}  // namespace

Result<std::unique_ptr<HttpFetch>> HttpFetch::start(const HttpFetchConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  std::unique_ptr<asio::ssl::context> tls;
  if (config.transport_security == WebSocketSecurity::tls) {
    auto made = websocket_detail::make_client_tls_context(config.tls);
    if (!made.ok()) return Status::error(made.error());
    tls = std::move(made.value());
  }
  auto fetch = std::make_unique<Fetch>(config, std::move(tls));
  try {
    fetch->begin();
  } catch (const std::system_error& error) {
    return Status::error(std::string("cannot start the fetch's thread: ") + error.what());
  }
  return std::unique_ptr<HttpFetch>(std::move(fetch));
}

}  // namespace tickwire::net
