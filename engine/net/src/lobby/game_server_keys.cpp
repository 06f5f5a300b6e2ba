// The lobby's secrets files: the game servers' allow-list (parse_game_server_keys(),
// read_game_server_keys()) and the upload tokens (read_upload_tokens()).

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "sodium_ready.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::net {
namespace {

constexpr std::size_t kHexDigits = 2 * sizeof(ServerPublicKey);

// `word` as a key in hex or standard base64; false when it is neither.
bool decode_key(std::string_view word, ServerPublicKey& key) {
  std::size_t length = 0;
  if (word.size() == kHexDigits) {
    return sodium_hex2bin(key.data(), key.size(), word.data(), word.size(), nullptr, &length,
                          nullptr) == 0 &&
           length == key.size();
  }
  return sodium_base642bin(key.data(), key.size(), word.data(), word.size(), nullptr, &length,
                           nullptr, sodium_base64_VARIANT_ORIGINAL) == 0 &&
         length == key.size();
}

}  // namespace

Result<std::vector<ServerPublicKey>> parse_game_server_keys(std::string_view text) {
  ensure_sodium();
  std::vector<ServerPublicKey> keys;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    line.remove_prefix(first);
    const std::string_view word = line.substr(0, line.find_first_of(" \t\r"));
    ServerPublicKey key{};
    if (!decode_key(word, key)) {
      return Status::error("line " + std::to_string(line_number) +
                           ": not an Ed25519 public key (expected 64 hex digits or 44 characters "
                           "of base64, then optionally a name)");
    }
    keys.push_back(key);
  }
  return keys;
}

Result<std::vector<ServerPublicKey>> read_game_server_keys(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("game server key file " + path + ": cannot read it");
  std::ostringstream text;
  text << in.rdbuf();
  auto keys = parse_game_server_keys(text.str());
  if (!keys) return Status::error("game server key file " + path + ": " + keys.error());
  return keys;
}

Result<std::vector<std::string>> read_upload_tokens(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("upload token file " + path + ": cannot read it");
  std::vector<std::string> tokens;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::string token = line.substr(first);
    if (token.size() < 32 || token.find_first_of(" \t") != std::string::npos) {
      return Status::error("upload token file " + path + ": line " + std::to_string(line_number) +
                           ": a token is one word of at least 32 characters");
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace tickwire::net
