#include "lobby/served_folder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <filesystem>
#include <vector>

#include "tickwire/net/lobby.hpp"

namespace tickwire::net {

bool is_replay_file_name(std::string_view name) {
  if (name.size() <= kReplayFileExtension.size() || name.size() > 128 ||
      !name.ends_with(kReplayFileExtension))
    return false;
  const std::string_view stem = name.substr(0, name.size() - kReplayFileExtension.size());
  return std::all_of(stem.begin(), stem.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool is_served_file_name(std::string_view name) {
  // The first character is no '.': hidden files stay hidden, and "." and ".." are not names.
  if (name.empty() || name.size() > 128 || name.front() == '.' ||
      name.find("..") != std::string_view::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace tickwire::net

namespace tickwire::net::lobby_detail {
namespace {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using websocket_detail::HttpReply;
using websocket_detail::HttpRequest;
using websocket_detail::HttpResponse;

// A folder holding more than this is not read further: listing it must stay cheap on the io
// thread (the recorder keeps its newest N, an operator's folder a handful).
constexpr std::size_t kMaxScannedEntries = 10'000;

HttpResponse text(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

// Strong validator of a file that is not rewritten in place (the recorder renames finished files
// into the folder; an operator replacing a file changes its time): its size and modification time.
std::string etag_of(const struct stat& info) {
  char text[64];
  std::snprintf(text, sizeof text, "\"%llx-%llx\"", static_cast<unsigned long long>(info.st_size),
                static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1'000'000'000ull +
                    static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  return text;
}

// If-None-Match: "*" or a comma-separated list of tags, each possibly weak (W/"...").
bool none_match_hits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const std::size_t comma = std::min(header.find(','), header.size());
    std::string_view tag = header.substr(0, comma);
    header.remove_prefix(std::min(comma + 1, header.size()));
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

bool parse_u64(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.size() > 19) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::string json_string(std::string_view text) {
  // Served names are [A-Za-z0-9._-] (both name rules): nothing to escape, but say so in code.
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size, ByteRange& range) {
  constexpr std::string_view kUnit = "bytes=";
  if (!header.starts_with(kUnit)) return RangeRequest::whole;
  header.remove_prefix(kUnit.size());
  // One range only: a client asking for several gets the whole file (RFC 9110 lets a server
  // ignore Range).
  if (header.find(',') != std::string_view::npos) return RangeRequest::whole;
  const std::size_t dash = header.find('-');
  if (dash == std::string_view::npos) return RangeRequest::whole;
  const std::string_view first = header.substr(0, dash);
  const std::string_view last = header.substr(dash + 1);
  std::uint64_t a = 0, b = 0;
  if (first.empty()) {
    // "-N": the last N bytes.
    if (!parse_u64(last, b)) return RangeRequest::whole;
    if (b == 0 || size == 0) return RangeRequest::unsatisfiable;
    range = {size - std::min(b, size), size - 1};
    return RangeRequest::partial;
  }
  if (!parse_u64(first, a)) return RangeRequest::whole;
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else if (!parse_u64(last, b) || b < a) {
    return RangeRequest::whole;
  }
  if (a >= size) return RangeRequest::unsatisfiable;
  range = {a, std::min(b, size - 1)};
  return RangeRequest::partial;
}

std::string_view content_type_for(std::string_view name) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr Type kTypes[] = {
      {".json", "application/json"}, {".txt", "text/plain; charset=utf-8"},
      {".png", "image/png"},         {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".zip", "application/zip"},
      {".gz", "application/gzip"},   {".tgz", "application/gzip"},
      {".tar", "application/x-tar"}, {".ogg", "audio/ogg"},
      {".wav", "audio/wav"},
  };
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string extension(name.substr(dot));
  std::transform(extension.begin(), extension.end(), extension.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  for (const Type& type : kTypes) {
    if (type.extension == extension) return type.content_type;
  }
  return "application/octet-stream";
}

std::vector<FolderEntry> newest_first(const ServedFolder& folder) {
  std::vector<FolderEntry> entries;
  std::error_code error;
  std::size_t scanned = 0;
  for (fs::directory_iterator it(folder.directory, error), end;
       !error && it != end && scanned < kMaxScannedEntries; it.increment(error), ++scanned) {
    std::string name = it->path().filename().string();
    if (!folder.is_served_name(name)) continue;
    // lstat: a link is not listed, as it is not served.
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    entries.push_back(
        {std::move(name), static_cast<std::uint64_t>(info.st_size),
         static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec});
  }
  // Equal times by name, so that the order is stable.
  std::sort(entries.begin(), entries.end(), [](const FolderEntry& a, const FolderEntry& b) {
    return a.modified_ns != b.modified_ns ? a.modified_ns > b.modified_ns : a.name > b.name;
  });
  return entries;
}

std::size_t keep_newest(const ServedFolder& folder, std::size_t keep, std::string_view spare) {
  std::vector<FolderEntry> entries = newest_first(folder);
  const auto spared = std::find_if(entries.begin(), entries.end(),
                                   [&](const FolderEntry& e) { return e.name == spare; });
  if (spared != entries.end()) std::rotate(entries.begin(), spared, spared + 1);
  std::size_t deleted = 0;
  for (std::size_t i = keep; i < entries.size(); ++i) {
    // unlink, not a rename or a truncation: a download in progress keeps its descriptor, and
    // with it the file's bytes, until it ends.
    if (::unlink((folder.directory + "/" + entries[i].name).c_str()) == 0) ++deleted;
  }
  return deleted;
}

HttpResponse list_folder(const HttpRequest& request, const ServedFolder& folder,
                         std::size_t limit) {
  std::vector<FolderEntry> entries = newest_first(folder);
  if (entries.size() > limit) entries.resize(limit);
  std::string body = "{" + json_string(folder.list_key) + ":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const FolderEntry& e = entries[i];
    if (i > 0) body += ',';
    body += "{\"name\":" + json_string(e.name) + ",\"bytes\":" + std::to_string(e.bytes) +
            ",\"modified_unix_ms\":" + std::to_string(e.modified_ns / 1'000'000) +
            ",\"url\":" + json_string(std::string(folder.url_prefix) + e.name) + "}";
  }
  body += "]}\n";
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

HttpReply download_from_folder(const HttpRequest& request, const ServedFolder& folder,
                               std::string_view name, std::atomic<std::uint64_t>& path_refused) {
  const std::string no_such = "No such " + std::string(folder.what) + ".\n";
  if (!folder.is_served_name(name)) {
    ++path_refused;
    return text(request, http::status::not_found, no_such);
  }
  const std::string path = folder.directory + "/" + std::string(name);
  auto file = websocket_detail::OpenFile::open(path);
  if (!file) {
    // Missing is an honest miss; a link or a directory there is someone probing.
    struct stat entry {};
    if (::lstat(path.c_str(), &entry) == 0) ++path_refused;
    return text(request, http::status::not_found, no_such);
  }
  struct stat info {};
  if (::fstat(file->descriptor(), &info) != 0) {
    return text(request, http::status::not_found, no_such);
  }
  const std::string etag = etag_of(info);
  const std::uint64_t size = file->size();

  const auto if_none_match = request.find(http::field::if_none_match);
  if (if_none_match != request.end() &&
      none_match_hits({if_none_match->value().data(), if_none_match->value().size()}, etag)) {
    HttpResponse response{http::status::not_modified, request.version()};
    response.set(http::field::etag, etag);
    response.set(http::field::cache_control, "no-cache");
    return response;
  }

  ByteRange range{0, size == 0 ? 0 : size - 1};
  RangeRequest kind = RangeRequest::whole;
  const auto range_header = request.find(http::field::range);
  if (range_header != request.end()) {
    kind = parse_range({range_header->value().data(), range_header->value().size()}, size, range);
  }
  if (kind == RangeRequest::unsatisfiable) {
    HttpResponse response =
        text(request, http::status::range_not_satisfiable,
             "The range starts past the end of the " + std::string(folder.what) + ".\n");
    response.set(http::field::content_range, "bytes */" + std::to_string(size));
    return response;
  }
  HttpResponse response{
      kind == RangeRequest::partial ? http::status::partial_content : http::status::ok,
      request.version()};
  response.set(http::field::content_type, std::string(content_type_for(name)));
  response.set("X-Content-Type-Options", "nosniff");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + std::string(name) + "\"");
  response.set(http::field::accept_ranges, "bytes");
  response.set(http::field::etag, etag);
  response.set(http::field::cache_control, "no-cache");
  if (kind == RangeRequest::partial) {
    response.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                                 std::to_string(range.last) + "/" +
                                                 std::to_string(size));
  }
  HttpReply reply(std::move(response));
  const std::uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
  reply.file = HttpReply::FileRange{std::move(file), range.first, length};
  return reply;
}

}  // namespace tickwire::net::lobby_detail
