#pragma once
// Plain HTTP requests that arrive on a WebSocket server's port (anything that is not an upgrade).
// The listener hands each to a handler: by default one that answers 404; the lobby plugs its
// routes (health, rooms, metrics, the web page) in here without touching the listener.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace tickwire::net::websocket_detail {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using HttpRequestHeader = boost::beast::http::request_header<>;

// An open file, closed with its last reference.
class OpenFile {
 public:
  // Nothing if the file cannot be opened for reading.
  static std::shared_ptr<OpenFile> open(const std::string& path);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int descriptor() const { return fd_; }
  std::uint64_t size() const { return size_; }

 private:
  OpenFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  std::uint64_t size_;
};

// What a handler answers: a response, and for a download the bytes of a file that make its body.
// The listener streams those in chunks (kHttpFileChunkBytes at a time, each read and written
// before the next), so that a large file never sits in memory nor blocks the io thread on one
// long read; Content-Length is the range's length.
struct HttpReply {
  HttpReply(HttpResponse r) : response(std::move(r)) {}  // NOLINT(google-explicit-constructor)
  HttpResponse response;
  struct FileRange {
    std::shared_ptr<OpenFile> file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::optional<FileRange> file;  // set: the body; the response's own body is ignored
};

inline constexpr std::size_t kHttpFileChunkBytes = 64 * 1024;

// Runs on the io thread, so it must not block. `client_address` is the client's IP address (for
// per-address rate limits). The listener sets the response's version and Content-Length from
// the request and body, and closes the connection after it (one plain request per connection:
// http_session.cpp says why); the handler sets status, headers and body.
// A request whose body is over the listener's limit (16 KiB) never reaches the handler: the
// listener answers 413 itself.
using HttpRequestHandler =
    std::function<HttpReply(const HttpRequest& request, const std::string& client_address)>;

// A request whose body the listener writes to a file instead of memory: an upload. Its body is
// read only once the handler has seen the header and said where it goes, so that a refused
// upload (401, 413...) is answered before a byte of its body is read.
struct HttpUpload {
  // Created new (O_EXCL) for the body, and removed whatever happens (a cut upload, a body over
  // max_bytes, the server shutting down) unless finish() has moved it away.
  std::string partial_path;
  // The most body bytes taken: a Content-Length over it, or a chunked body growing past it, is
  // answered 413 (Beast's body_limit).
  std::uint64_t max_bytes = 0;
  // Called on the io thread once the whole body is in partial_path (closed): moves it to its
  // final name and answers. The connection closes after the answer.
  std::function<HttpResponse(const HttpRequestHeader& header)> finish;
  // Called instead of finish() when the body never arrives whole: `over_limit` when it was over
  // max_bytes (answered 413), otherwise it was cut off (the client left or stalled). May be empty.
  std::function<void(bool over_limit)> abandoned;
};

// Looks at a request's header before its body is read. nothing: not an upload, the request is
// read whole (up to 16 KiB of body) and goes to the HttpRequestHandler; a response: answered at
// once, the body unread, and the connection closed; an HttpUpload: its body goes to a file.
using HttpUploadGate = std::function<std::optional<std::variant<HttpResponse, HttpUpload>>(
    const HttpRequestHeader& header, const std::string& client_address)>;

// 404 for every request.
HttpResponse answer_not_found(const HttpRequest& request, const std::string& client_address);

}  // namespace tickwire::net::websocket_detail
