#include "lobby/lobby_codec.hpp"

#include <flatbuffers/idl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "lobby/schema_text.hpp"

namespace tickwire::net::lobby_detail {
namespace {

// A request is a handful of tables (message, result, body): far below these, which only bound the
// work a hostile buffer can cause.
constexpr flatbuffers::uoffset_t kMaxDepth = 8;
constexpr flatbuffers::uoffset_t kMaxTables = 64;

const wire::LobbyMessage* verify(const std::uint8_t* data, std::size_t size, DecodeError& error) {
  flatbuffers::Verifier verifier(data, size, kMaxDepth, kMaxTables);
  if (!wire::VerifyLobbyMessageBuffer(verifier)) {
    error = DecodeError::malformed;
    return nullptr;
  }
  const wire::LobbyMessage* message = wire::GetLobbyMessage(data);
  // The verifier accepts union types it does not know (for forward compatibility); we do not.
  if (!is_request(message->body_type())) {
    error = DecodeError::unsupported;
    return nullptr;
  }
  error = DecodeError::none;
  return message;
}

}  // namespace

bool is_request(wire::LobbyBody body) {
  switch (body) {
    case wire::LobbyBody::Hello:
    case wire::LobbyBody::ListRooms:
    case wire::LobbyBody::CreateRoom:
    case wire::LobbyBody::JoinRoom:
    case wire::LobbyBody::LeaveRoom:
    case wire::LobbyBody::KickPlayer:
    case wire::LobbyBody::SendChat:
    case wire::LobbyBody::SetReady:
    case wire::LobbyBody::StartMatch:
    case wire::LobbyBody::RegisterGameServer:
    case wire::LobbyBody::ReportLoad:
    case wire::LobbyBody::MatchEnd:
      return true;
    default:
      return false;
  }
}

struct LobbyCodec::JsonParser {
  JsonParser() {
    flatbuffers::IDLOptions options;
    options.strict_json = true;  // print "quoted" field names: what JSON.parse() accepts
    options.indent_step = -1;    // one line per message
    options.output_enum_identifiers = true;
    parser = std::make_unique<flatbuffers::Parser>(options);
    const std::string schema(lobby_schema_text());
    if (!parser->Parse(schema.c_str()) || !parser->SetRootType("LobbyMessage")) {
      // The schema was compiled by flatc in this build: failing here is a build bug.
      std::fprintf(stderr, "tickwire: embedded lobby.fbs does not parse: %s\n",
                   parser->error_.c_str());
      std::abort();
    }
  }
  std::unique_ptr<flatbuffers::Parser> parser;
  std::string text;  // NUL-terminated copy of the frame, which the parser needs
  std::vector<std::uint8_t> buffer;
};

LobbyCodec::LobbyCodec() : json_(std::make_unique<JsonParser>()) {}
LobbyCodec::~LobbyCodec() = default;

const wire::LobbyMessage* LobbyCodec::decode_binary(std::span<const std::byte> bytes,
                                                    DecodeError& error) {
  const schemas::AlignedView& view = binary_view_.emplace(bytes);
  return verify(view.data(), view.size(), error);
}

const wire::LobbyMessage* LobbyCodec::decode_json(std::span<const std::byte> text,
                                                  DecodeError& error) {
  error = DecodeError::malformed;
  // The parser reads up to the first NUL; a NUL inside would hide the rest from it.
  if (std::find(text.begin(), text.end(), std::byte{0}) != text.end()) return nullptr;
  json_->text.assign(reinterpret_cast<const char*>(text.data()), text.size());
  // ParseJson, never Parse: Parse would accept schema text and let a client change the schema.
  if (!json_->parser->ParseJson(json_->text.c_str())) return nullptr;
  const auto& builder = json_->parser->builder_;
  json_->buffer.assign(builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize());
  return verify(json_->buffer.data(), json_->buffer.size(), error);
}

std::string LobbyCodec::to_json(std::span<const std::byte> message) {
  std::string out;
  if (!flatbuffers::GenerateText(*json_->parser, message.data(), &out)) out.clear();
  return out;
}

}  // namespace tickwire::net::lobby_detail
