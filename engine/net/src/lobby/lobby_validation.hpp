#pragma once
// What the lobby accepts in the text fields players choose: nicknames, room names, game modes,
// chat. Each check returns an empty string when the text is fine, else what is wrong with it (it
// goes to the player in the error message).

#include <cstddef>
#include <string>
#include <string_view>

namespace tickwire::net::lobby_detail {

// min..max bytes of [A-Za-z0-9_-].
std::string check_nickname(std::string_view nickname, std::size_t min, std::size_t max);
// min..max bytes of valid UTF-8 without control characters.
std::string check_text(std::string_view what, std::string_view text, std::size_t min,
                       std::size_t max);
// The key under which a nickname is unique: ASCII lower case.
std::string nickname_key(std::string_view nickname);

bool is_valid_utf8(std::string_view text);

}  // namespace tickwire::net::lobby_detail
