#pragma once
// Recorded matches over the lobby's HTTP: GET /api/replays (the newest replay files as JSON, each
// with its download URL) and GET /replays/NAME (the file: Range for 206/416, ETag and
// If-None-Match for 304, streamed in chunks by the listener). Only names of the form
// [A-Za-z0-9_-]+.twreplay are looked up, in the one directory: no path reaches outside it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "websocket/http_handler.hpp"

namespace tickwire::net::lobby_detail {

inline constexpr std::string_view kReplayPathPrefix = "/replays/";

// The byte range a Range header asks of a file of `size` bytes.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
enum class RangeRequest {
  whole,          // no Range, or one this server ignores (several ranges, another unit, syntax)
  partial,        // one satisfiable range: 206
  unsatisfiable,  // starts past the end: 416
};
RangeRequest parse_range(std::string_view header, std::uint64_t size, ByteRange& range);

websocket_detail::HttpResponse replay_list(const websocket_detail::HttpRequest& request,
                                           const std::string& directory, std::size_t limit);
websocket_detail::HttpReply replay_download(const websocket_detail::HttpRequest& request,
                                            const std::string& directory, std::string_view name);

}  // namespace tickwire::net::lobby_detail
