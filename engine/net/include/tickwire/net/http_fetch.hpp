#pragma once
// One HTTP GET or PUT on a thread of its own, for a game's menus and servers: the lobby's replay
// list (GET /api/replays) into memory, a replay (GET /replays/NAME) into a file, or a replay sent
// to a lobby (PUT /replays/NAME from a file, with a bearer token), with progress another thread
// reads each frame. A download is written under "<save_to>.part" and renamed to save_to only
// once every byte of the body has arrived: a cut or cancelled download never leaves a file under
// the final name. An upload says "Expect: 100-continue" and sends its body only once the server
// has accepted the header, so a refusal (401, 409, 413 ...) costs no body.
//
// What it does not do: redirects, keep-alive, Range resumption, compression, proxies. One fetch
// is one connection.

#include <cstdint>
#include <memory>
#include <string>

#include "tickwire/net/status.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {

struct HttpFetchConfig {
  // Server host name, IPv4 or IPv6 address. Default "127.0.0.1".
  std::string host = "127.0.0.1";
  // Server TCP port. Default 7700 (tickwire-server's lobby).
  std::uint16_t port = 7700;
  // Request target; must start with '/'. Default "/".
  std::string target = "/";
  // https (the default, the certificate checked as `tls` says) or plain http.
  WebSocketSecurity transport_security = WebSocketSecurity::tls;
  WebSocketClientTls tls;
  // Where the body goes: empty keeps it in memory (HttpFetch::body()); otherwise this file,
  // replaced only when the download completes. Default empty.
  std::string save_to;
  // PUT this file, whole, as the request's body (application/octet-stream); empty: a GET. Any
  // 2xx answer is success. With it, save_to must be empty. Default empty.
  std::string upload_from;
  // Sent as "Authorization: Bearer <token>" when not empty. A secret: read it from a file, never
  // take it from a command line. Default empty.
  std::string bearer_token;
  // The largest body taken, in bytes; a larger one (announced or arriving) fails the fetch.
  // Default 256 MiB (at least 1).
  std::uint64_t max_bytes = 256ull * 1024 * 1024;
  // The fetch fails when connecting, or any read or write, makes no progress for this long, in
  // milliseconds. Default 10000 (at least 100).
  std::uint32_t stall_timeout_ms = 10000;

  Status validate() const;
};

class HttpFetch {
 public:
  enum class State { running, done, failed, cancelled };
  struct Progress {
    State state = State::running;
    std::uint64_t bytes = 0;    // body bytes received so far
    std::uint64_t total = 0;    // Content-Length, 0 until known (or none sent)
    std::uint64_t sent = 0;     // an upload's body bytes sent so far
    std::uint64_t to_send = 0;  // an upload's size, 0 until the file is open
    int status = 0;             // the HTTP status, 0 until the header arrived
    std::string error;          // with failed: what went wrong, for the user
  };

  // Starts the fetch on its own thread. Fails only for an invalid config or a CA file that
  // cannot be read; everything else is reported through progress().
  static Result<std::unique_ptr<HttpFetch>> start(const HttpFetchConfig& config);
  // Cancels a fetch still running (its partial file removed) and waits for its thread.
  virtual ~HttpFetch() = default;

  // From any thread, as often as wanted.
  virtual Progress progress() const = 0;
  // The body, once done, when save_to was empty.
  virtual std::string body() const = 0;
  // Stops a running fetch; progress() then says cancelled.
  virtual void cancel() = 0;
};

}  // namespace tickwire::net
