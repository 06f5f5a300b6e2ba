#pragma once
// Replays uploaded over the lobby's HTTP: PUT /replays/NAME with "Authorization: Bearer TOKEN"
// (one of LobbyConfig::upload_tokens). The body goes to a hidden partial file in the replay
// folder and is renamed to NAME only once it is whole, never over an existing replay: a partial
// file never appears under a replay's name, and a cut upload leaves nothing behind. Refusals are
// answered from the header alone, before the body is read. Once one is stored, the folder keeps
// its newest LobbyConfig::keep_replays replays (keep_newest): the lobby of a fleet takes every
// game server's replays and must not fill its disk.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lobby/served_folder.hpp"
#include "websocket/http_handler.hpp"

namespace tickwire::net::lobby_detail {

struct LobbyMetrics;

// What the lobby's upload route checks a PUT against.
class ReplayUploads {
 public:
  // `tokens`, `max_bytes` and `keep` as LobbyConfig::upload_tokens, max_upload_bytes and
  // keep_replays; `replays` the replay folder (its directory empty: no uploads).
  ReplayUploads(ServedFolder replays, const std::vector<std::string>& tokens,
                std::uint64_t max_bytes, std::size_t keep, LobbyMetrics& metrics);

  // The verdict on the header of a PUT to /replays/NAME (`name` is NAME): a refusal (401, 403,
  // 400, 415, 409, 413) or where its body goes.
  std::variant<websocket_detail::HttpResponse, websocket_detail::HttpUpload> admit(
      const websocket_detail::HttpRequestHeader& header, std::string_view name);

 private:
  using TokenHash = std::array<unsigned char, 32>;
  bool token_known(std::string_view token) const;

  ServedFolder replays_;
  std::vector<TokenHash> token_hashes_;  // BLAKE2b of each token, compared in constant time
  std::uint64_t max_bytes_;
  std::size_t keep_;  // 0: all
  LobbyMetrics& metrics_;
};

}  // namespace tickwire::net::lobby_detail
