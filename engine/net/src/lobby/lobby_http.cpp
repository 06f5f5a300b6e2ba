#include "lobby/lobby_http.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <variant>

#include "lobby/lobby_metrics.hpp"
#include "lobby/rate_limiter.hpp"
#include "lobby/replay_uploads.hpp"
#include "lobby/served_folder.hpp"

namespace tickwire::net::lobby_detail {
namespace {

namespace http = boost::beast::http;
using websocket_detail::HttpReply;
using websocket_detail::HttpRequest;
using websocket_detail::HttpResponse;

// Past this many client addresses the rate table starts over, so that a scan from many addresses
// cannot grow it without bound (it then forgets who was limited, which only errs on being lenient).
constexpr std::size_t kMaxTrackedAddresses = 4096;
// The web page is small; anything bigger in the web root is not for us to serve.
constexpr std::uintmax_t kMaxPageBytes = 1024 * 1024;

HttpResponse answer(const HttpRequest& request, http::status status, std::string content_type,
                    std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

HttpResponse plain(const HttpRequest& request, http::status status, std::string body) {
  return answer(request, status, "text/plain; charset=utf-8", std::move(body));
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One page of rooms: {"rooms":[...],"next_after_room_id":N}, N = 0 on the last page.
std::string rooms_json(const std::vector<RoomInfo>& all, const RoomFilter& filter,
                       std::size_t page) {
  // One more than the page tells whether another follows.
  std::vector<const RoomInfo*> rooms;
  const auto first =
      std::upper_bound(all.begin(), all.end(), filter.after,
                       [](RoomId after, const RoomInfo& room) { return after < room.id; });
  for (auto it = first; it != all.end() && rooms.size() <= page; ++it) {
    if (!filter.game_mode.empty() && it->game_mode != filter.game_mode) continue;
    if (filter.only_free_seats && !it->has_free_seat()) continue;
    rooms.push_back(&*it);
  }
  const std::size_t count = std::min(page, rooms.size());
  std::string out = "{\"rooms\":[";
  for (std::size_t i = 0; i < count; ++i) {
    const RoomInfo& room = *rooms[i];
    if (i > 0) out += ',';
    out += "{\"room_id\":" + std::to_string(room.id) + ",\"name\":" + json_string(room.name) +
           ",\"game_mode\":" + json_string(room.game_mode) +
           ",\"players\":" + std::to_string(room.members.size()) +
           ",\"max_players\":" + std::to_string(room.max_players) +
           ",\"in_match\":" + (room.match_id != 0 ? "true" : "false") + "}";
  }
  const RoomId next = count < rooms.size() ? rooms[count - 1]->id : 0;
  return out + "],\"next_after_room_id\":" + std::to_string(next) + "}\n";
}

// A decimal number without sign or leading junk, as a query parameter; false if it is not one.
bool parse_number(std::string_view text, std::uint64_t& value) {
  if (text.empty() || text.size() > 19) return false;  // 19 digits cannot overflow 64 bits
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// "game_mode=ctf&free=1&after=12&limit=20" into a filter and a page size; false if a parameter is
// unknown or its value bad.
bool parse_room_query(std::string_view query, RoomFilter& filter, std::size_t& page) {
  while (!query.empty()) {
    const std::size_t end = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, end);
    query.remove_prefix(std::min(end + 1, query.size()));
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    std::uint64_t number = 0;
    if (key == "game_mode") {
      // Mode names are plain words: no percent-decoding needed, and none accepted.
      if (value.find('%') != std::string_view::npos) return false;
      filter.game_mode = std::string(value);
    } else if (key == "free") {
      if (value != "0" && value != "1") return false;
      filter.only_free_seats = value == "1";
    } else if (key == "after") {
      if (!parse_number(value, number)) return false;
      filter.after = number;
    } else if (key == "limit") {
      if (!parse_number(value, number) || number == 0) return false;
      page = static_cast<std::size_t>(std::min<std::uint64_t>(number, page));
    } else {
      return false;
    }
  }
  return true;
}

class LobbyHttp {
 public:
  LobbyHttp(const LobbyConfig& config, std::function<RoomsSnapshot()> rooms, LobbyMetrics& metrics,
            std::function<LobbyCounters()> counters, std::function<bool()> lobby_turning)
      : config_(config),
        rooms_(std::move(rooms)),
        metrics_(metrics),
        counters_(std::move(counters)),
        lobby_turning_(std::move(lobby_turning)),
        replays_{config.replay_directory, kReplayPathPrefix, "replays", &is_replay_file_name,
                 "replay"},
        files_{config.files_directory, kFilesPathPrefix, "files", &is_served_file_name, "file"},
        uploads_(replays_, config.upload_tokens, config.max_upload_bytes, config.keep_replays,
                 metrics) {}

  // PUT /replays/NAME (an upload), judged on its header; every other request is read whole and
  // goes to handle().
  std::optional<std::variant<HttpResponse, websocket_detail::HttpUpload>> upload(
      const websocket_detail::HttpRequestHeader& header, const std::string& client_address) {
    if (header.method() != http::verb::put) return std::nullopt;
    const std::string_view target(header.target().data(), header.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (!path.starts_with(kReplayPathPrefix)) return std::nullopt;  // 405 or 404 from handle()
    ++metrics_.http_requests;
    if (!allow(client_address)) {
      ++metrics_.http_rate_limited;
      HttpResponse response{http::status::too_many_requests, header.version()};
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.set(http::field::retry_after, "1");
      response.body() = "Too many requests: slow down.\n";
      return response;
    }
    if (path.find("..") != std::string_view::npos || path.find('%') != std::string_view::npos) {
      ++metrics_.http_path_refused;
      HttpResponse response{http::status::forbidden, header.version()};
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.body() = "Forbidden.\n";
      return response;
    }
    return uploads_.admit(header, path.substr(kReplayPathPrefix.size()));
  }

  HttpReply handle(const HttpRequest& request, const std::string& client_address) {
    ++metrics_.http_requests;
    if (!allow(client_address)) {
      ++metrics_.http_rate_limited;
      HttpResponse response =
          plain(request, http::status::too_many_requests, "Too many requests: slow down.\n");
      response.set(http::field::retry_after, "1");
      return response;
    }
    const std::string_view target(request.target().data(), request.target().size());
    const std::size_t question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

    const bool replay = path.starts_with(kReplayPathPrefix);
    const bool download = replay || path.starts_with(kFilesPathPrefix);
    const bool known = path == "/healthz" || path == "/api/rooms" || path == "/metrics" ||
                       path == "/" || path == "/index.html" || path == "/api/replays" ||
                       path == "/api/files" || download;
    // A path that tries to climb out of a directory is refused outright, not looked up.
    if (path.find("..") != std::string_view::npos || path.find('%') != std::string_view::npos) {
      ++metrics_.http_path_refused;
      return plain(request, http::status::forbidden, "Forbidden.\n");
    }
    if (!known) {
      return plain(request, http::status::not_found, "Not found.\n");
    }
    // HEAD only where a download is: a client checks a file's size and ETag before fetching it.
    const bool head_allowed = download && request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head_allowed) {
      const std::string_view allowed = replay ? "GET, HEAD, PUT" : download ? "GET, HEAD" : "GET";
      HttpResponse response = plain(request, http::status::method_not_allowed,
                                    "Only " + std::string(allowed) + " allowed here.\n");
      response.set(http::field::allow, std::string(allowed));
      return response;
    }
    return route(request, path, query);
  }

 private:
  HttpReply route(const HttpRequest& request, std::string_view path, std::string_view query) {
    if (path == "/healthz") {
      if (!lobby_turning_()) {
        return plain(request, http::status::service_unavailable,
                     "The lobby's thread has stopped turning.\n");
      }
      return plain(request, http::status::ok, "ok\n");
    }
    if (path == "/metrics") {
      return answer(request, http::status::ok, "text/plain; version=0.0.4",
                    render_prometheus(counters_()));
    }
    if (path == "/api/rooms") {
      RoomFilter filter;
      std::size_t page = config_.max_rooms_per_page;
      if (!parse_room_query(query, filter, page)) {
        return plain(request, http::status::bad_request,
                     "Unknown query: use game_mode=NAME, free=0|1, after=ROOM_ID and limit=N "
                     "(N > 0).\n");
      }
      return answer(request, http::status::ok, "application/json",
                    rooms_json(*rooms_(), filter, page));
    }
    if (path == "/api/replays" || path.starts_with(kReplayPathPrefix)) {
      if (replays_.directory.empty()) {
        return plain(request, http::status::not_found, "This lobby serves no replays.\n");
      }
      if (path == "/api/replays") return list_folder(request, replays_, config_.max_replays_listed);
      return download_from_folder(request, replays_, path.substr(kReplayPathPrefix.size()),
                                  metrics_.http_path_refused);
    }
    if (path == "/api/files" || path.starts_with(kFilesPathPrefix)) {
      if (files_.directory.empty()) {
        return plain(request, http::status::not_found, "This lobby serves no files.\n");
      }
      if (path == "/api/files") return list_folder(request, files_, config_.max_files_listed);
      return download_from_folder(request, files_, path.substr(kFilesPathPrefix.size()),
                                  metrics_.http_path_refused);
    }
    return page(request);
  }

  HttpResponse page(const HttpRequest& request) {
    if (config_.web_root.empty()) {
      return plain(request, http::status::not_found, "This lobby serves no web page.\n");
    }
    std::ifstream file(config_.web_root + "/index.html", std::ios::binary);
    if (!file) return plain(request, http::status::not_found, "No index.html in the web root.\n");
    std::ostringstream content;
    content << file.rdbuf();
    std::string body = std::move(content).str();
    if (body.size() > kMaxPageBytes) {
      return plain(request, http::status::internal_server_error, "The page is too large.\n");
    }
    return answer(request, http::status::ok, "text/html; charset=utf-8", std::move(body));
  }

  bool allow(const std::string& address) {
    const auto now = TokenBucket::Clock::now();
    std::lock_guard lock(mutex_);
    if (buckets_.size() >= kMaxTrackedAddresses && !buckets_.contains(address)) buckets_.clear();
    auto it = buckets_.find(address);
    if (it == buckets_.end()) {
      it = buckets_
               .emplace(address,
                        TokenBucket(config_.http_burst, config_.http_requests_per_second, now))
               .first;
    }
    return it->second.try_take(now);
  }

  const LobbyConfig& config_;
  std::function<RoomsSnapshot()> rooms_;
  LobbyMetrics& metrics_;
  std::function<LobbyCounters()> counters_;
  std::function<bool()> lobby_turning_;
  std::mutex mutex_;  // the io thread is one thread today; the lock keeps this true if it is not
  std::unordered_map<std::string, TokenBucket> buckets_;
  const ServedFolder replays_;
  const ServedFolder files_;
  ReplayUploads uploads_;
};

}  // namespace

LobbyHttpRoutes make_lobby_http_handler(const LobbyConfig& config,
                                        std::function<RoomsSnapshot()> rooms, LobbyMetrics& metrics,
                                        std::function<LobbyCounters()> counters,
                                        std::function<bool()> lobby_turning) {
  auto http = std::make_shared<LobbyHttp>(config, std::move(rooms), metrics, std::move(counters),
                                          std::move(lobby_turning));
  LobbyHttpRoutes routes;
  routes.requests = [http](const websocket_detail::HttpRequest& request,
                           const std::string& address) { return http->handle(request, address); };
  routes.uploads = [http](const websocket_detail::HttpRequestHeader& header,
                          const std::string& address) { return http->upload(header, address); };
  return routes;
}

}  // namespace tickwire::net::lobby_detail
