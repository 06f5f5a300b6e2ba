#include "lobby/replay_uploads.hpp"

#include <fcntl.h>  // AT_FDCWD
#include <sodium.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <unistd.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <cerrno>

#include "lobby/lobby_metrics.hpp"
#include "lobby/served_folder.hpp"
#include "sodium_ready.hpp"

namespace tickwire::net::lobby_detail {
namespace {

namespace http = boost::beast::http;
using websocket_detail::HttpRequestHeader;
using websocket_detail::HttpResponse;
using websocket_detail::HttpUpload;

constexpr std::string_view kBearer = "Bearer ";
// The content types a replay may be sent as: what curl --data-binary is told to send, and ours.
constexpr std::string_view kReplayContentTypes[] = {"application/octet-stream",
                                                    "application/x-tickwire-replay"};

HttpResponse text(unsigned version, http::status status, std::string body) {
  HttpResponse response{status, version};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

// The media type without parameters ("application/octet-stream; x=y" is application/octet-stream).
std::string_view media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ')
    value.remove_suffix(1);
  return value;
}

// A name for the partial file no other upload can have: hidden (a dot first) and not ending in
// .twreplay, so neither the list nor a download ever shows it.
std::string partial_name() {
  unsigned char random[16];
  randombytes_buf(random, sizeof random);
  char hex[2 * sizeof random + 1];
  sodium_bin2hex(hex, sizeof hex, random, sizeof random);
  return std::string(".upload-") + hex + ".part";
}

}  // namespace

ReplayUploads::ReplayUploads(ServedFolder replays, const std::vector<std::string>& tokens,
                             std::uint64_t max_bytes, std::size_t keep, LobbyMetrics& metrics)
    : replays_(std::move(replays)), max_bytes_(max_bytes), keep_(keep), metrics_(metrics) {
  ensure_sodium();
  for (const std::string& token : tokens) {
    TokenHash hash{};
    crypto_generichash(hash.data(), hash.size(),
                       reinterpret_cast<const unsigned char*>(token.data()), token.size(), nullptr,
                       0);
    token_hashes_.push_back(hash);
  }
}

bool ReplayUploads::token_known(std::string_view token) const {
  // Hashing first makes every comparison the same length, and sodium_memcmp takes the same time
  // wherever the bytes differ: the answer's timing tells nothing of a token's bytes.
  TokenHash hash{};
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  bool known = false;
  for (const TokenHash& candidate : token_hashes_) {
    known |= sodium_memcmp(candidate.data(), hash.data(), hash.size()) == 0;
  }
  return known;
}

std::variant<HttpResponse, HttpUpload> ReplayUploads::admit(const HttpRequestHeader& header,
                                                            std::string_view name) {
  const unsigned version = header.version();
  if (replays_.directory.empty() || token_hashes_.empty()) {
    ++metrics_.upload_unauthenticated;
    return text(version, http::status::forbidden, "This lobby takes no uploads.\n");
  }
  const auto authorization = header.find(http::field::authorization);
  if (authorization == header.end()) {
    ++metrics_.upload_unauthenticated;
    HttpResponse response = text(version, http::status::unauthorized,
                                 "Uploads need \"Authorization: Bearer TOKEN\".\n");
    response.set(http::field::www_authenticate, "Bearer realm=\"tickwire-uploads\"");
    return response;
  }
  const std::string_view credentials(authorization->value().data(), authorization->value().size());
  if (!credentials.starts_with(kBearer) || !token_known(credentials.substr(kBearer.size()))) {
    ++metrics_.upload_unauthenticated;
    return text(version, http::status::forbidden, "This token may not upload.\n");
  }
  if (!is_replay_file_name(name)) {
    ++metrics_.upload_bad_request;
    return text(version, http::status::bad_request,
                "A replay's name is letters, digits, '-' and '_' then .twreplay.\n");
  }
  const auto type = header.find(http::field::content_type);
  const std::string_view media = type == header.end()
                                     ? std::string_view{}
                                     : media_type({type->value().data(), type->value().size()});
  bool allowed = false;
  for (const std::string_view kind : kReplayContentTypes)
    allowed |= boost::beast::iequals(boost::beast::string_view(media.data(), media.size()),
                                     boost::beast::string_view(kind.data(), kind.size()));
  if (!allowed) {
    ++metrics_.upload_bad_request;
    return text(version, http::status::unsupported_media_type,
                "Only replays are taken: send Content-Type: application/octet-stream.\n");
  }
  const std::string final_path = replays_.directory + "/" + std::string(name);
  if (::access(final_path.c_str(), F_OK) == 0) {
    ++metrics_.upload_exists;
    return text(version, http::status::conflict,
                "A replay of that name is there already: replays are never replaced.\n");
  }
  // A declared length over the limit is refused here; a chunked body is stopped at the limit by
  // the listener (HttpUpload::max_bytes).
  const auto length = header.find(http::field::content_length);
  if (length != header.end()) {
    std::uint64_t declared = 0;
    const std::string_view digits(length->value().data(), length->value().size());
    const bool number = !digits.empty() && digits.size() <= 19 &&
                        digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (number) {
      for (const char c : digits)
        declared = declared * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!number || declared > max_bytes_) {
      ++metrics_.upload_too_large;
      return text(version, http::status::payload_too_large,
                  "The upload is over " + std::to_string(max_bytes_) + " bytes.\n");
    }
  }

  HttpUpload upload;
  upload.partial_path = replays_.directory + "/" + partial_name();
  upload.max_bytes = max_bytes_;
  upload.finish = [this, final_path, partial = upload.partial_path, stored = std::string(name),
                   url = std::string(kReplayPathPrefix) +
                         std::string(name)](const HttpRequestHeader& request) -> HttpResponse {
    // Never over a replay that arrived meanwhile (another upload of the same name, the
    // recorder): RENAME_NOREPLACE fails instead, atomically.
    if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) !=
        0) {
      if (errno == EEXIST) {
        ++metrics_.upload_exists;
        return text(request.version(), http::status::conflict,
                    "A replay of that name arrived meanwhile: replays are never replaced.\n");
      }
      return text(request.version(), http::status::internal_server_error,
                  "The upload cannot be stored.\n");
    }
    ++metrics_.uploads_stored;
    if (keep_ != 0) metrics_.replays_pruned += keep_newest(replays_, keep_, stored);
    HttpResponse response = text(request.version(), http::status::created, "Stored.\n");
    response.set(http::field::location, url);
    return response;
  };
  upload.abandoned = [this](bool over_limit) {
    ++(over_limit ? metrics_.upload_too_large : metrics_.upload_cut);
  };
  return upload;
}

}  // namespace tickwire::net::lobby_detail
