#pragma once
// What the lobby accepts in the text fields players choose: nicknames, room names, game modes,
// chat. Each check returns an empty string when the text is fine, else what is wrong with it (it
// goes to the player in the error message). And the one key a game server hands the lobby.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tickwire::net::lobby_detail {

// min..max bytes of [A-Za-z0-9_-].
std::string check_nickname(std::string_view nickname, std::size_t min, std::size_t max);
// min..max bytes of valid UTF-8 without control characters.
std::string check_text(std::string_view what, std::string_view text, std::size_t min,
                       std::size_t max);
// True when `key` is an X25519 public key the lobby can seal session keys to: not one of the
// low-order points (the all-zero key among them) that would make every sealed box unreadable.
bool is_usable_seal_key(std::span<const std::uint8_t> key);

// The key under which a nickname is unique: ASCII lower case.
std::string nickname_key(std::string_view nickname);

bool is_valid_utf8(std::string_view text);

}  // namespace tickwire::net::lobby_detail
