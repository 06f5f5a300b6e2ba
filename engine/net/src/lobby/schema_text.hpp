#pragma once
// The text of schemas/lobby.fbs, embedded at build time (embed_schema.cmake): the lobby's JSON
// codec parses it once, so that text frames follow exactly the schema the binary ones do.

#include <string_view>

namespace tickwire::net::lobby_detail {

std::string_view lobby_schema_text();

}  // namespace tickwire::net::lobby_detail
