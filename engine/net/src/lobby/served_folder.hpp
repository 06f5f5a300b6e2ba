#pragma once
// A folder of files served over the lobby's HTTP: a JSON list of what is in it, each with its
// download URL, and GET/HEAD of one file (Range for 206/416, ETag and If-None-Match for 304,
// Content-Type by extension, streamed in chunks by the listener). Two folders use it: recorded
// matches (GET /api/replays, /replays/NAME) and the operator's files (GET /api/files,
// /files/NAME: maps, mod packs).
//
// What keeps a request inside its folder: only names that pass the folder's name rule are looked
// up (no '/', no "..", no leading '.', so no hidden file either), the lobby refuses any path with
// ".." or '%' before it gets here, and the file is opened without following a symbolic link and
// only if it is a plain file. A name refused by the rule, a link or anything not a plain file is
// counted in http_path_refused.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/http_handler.hpp"

namespace tickwire::net::lobby_detail {

inline constexpr std::string_view kReplayPathPrefix = "/replays/";
inline constexpr std::string_view kFilesPathPrefix = "/files/";

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

// The Content-Type a download is sent with, by the name's extension (case-insensitive):
//   .json application/json, .txt text/plain; charset=utf-8, .png image/png, .jpg/.jpeg
//   image/jpeg, .zip application/zip, .gz/.tgz application/gzip, .tar application/x-tar,
//   .ogg audio/ogg, .wav audio/wav; anything else (.twreplay, maps, packs) application/
//   octet-stream. No HTML, SVG or script type: a file from the folder must never run as a page of
//   the lobby's origin (downloads also carry nosniff and Content-Disposition: attachment).
std::string_view content_type_for(std::string_view name);

struct ServedFolder {
  std::string directory;                     // empty: the folder is off (404)
  std::string_view url_prefix;               // "/replays/": the URL of NAME is prefix + NAME
  std::string_view list_key;                 // the JSON list's key: {"replays":[...]}
  bool (*is_served_name)(std::string_view);  // the folder's name rule
  std::string_view what;                     // "replay", "file": for the messages
};

// A served file of a folder: its name, size and modification time.
struct FolderEntry {
  std::string name;
  std::uint64_t bytes = 0;
  std::int64_t modified_ns = 0;  // since the Unix epoch
};
// The folder's served files (names that pass its rule, plain files, no link), newest first by
// modification time, equal times by name descending; a folder of more than 10,000 entries is
// read only that far (a listing must stay cheap on the io thread).
std::vector<FolderEntry> newest_first(const ServedFolder& folder);

// Deletes the folder's served files beyond the newest `keep` (in newest_first's order), but never
// `spare` (the file just stored: a coarse file clock may date it no later than older ones). A
// download streaming one of them already goes on to its end, since it reads from a descriptor it
// holds and an unlinked file lives while it is open; a request after the unlink gets 404. Returns
// how many it deleted.
std::size_t keep_newest(const ServedFolder& folder, std::size_t keep, std::string_view spare);

// {"<list_key>":[{"name","bytes","modified_unix_ms","url"}...]}, newest first, at most `limit`.
websocket_detail::HttpResponse list_folder(const websocket_detail::HttpRequest& request,
                                           const ServedFolder& folder, std::size_t limit);
// One file of the folder (GET or HEAD); `path_refused` counts names refused by the rule, links
// and entries that are not plain files.
websocket_detail::HttpReply download_from_folder(const websocket_detail::HttpRequest& request,
                                                 const ServedFolder& folder, std::string_view name,
                                                 std::atomic<std::uint64_t>& path_refused);

}  // namespace tickwire::net::lobby_detail
