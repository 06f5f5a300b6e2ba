#include "lobby/lobby_codec.hpp"

#include <flatbuffers/idl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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
  // Nor does it mind a body type without its body, which every handler would read through null.
  if (message->body() == nullptr) {
    error = DecodeError::malformed;
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
    case wire::LobbyBody::SpectateMatch:
    case wire::LobbyBody::GetRegistrationChallenge:
    case wire::LobbyBody::RegisterGameServer:
    case wire::LobbyBody::ReportLoad:
    case wire::LobbyBody::MatchEnd:
    case wire::LobbyBody::MatchBegan:
      return true;
    default:
      return false;
  }
}

namespace {

flatbuffers::IDLOptions json_options() {
  flatbuffers::IDLOptions options;
  options.strict_json = true;  // print "quoted" field names: what JSON.parse() accepts
  options.indent_step = -1;    // one line per message
  options.output_enum_identifiers = true;
  return options;
}

// The embedded schema, compiled once per process to its binary form (.bfbs), from which a parser
// is made in a fraction of the time the text takes (about 60 against 250 microseconds).
const std::vector<std::uint8_t>& binary_schema() {
  static const std::vector<std::uint8_t> bfbs = [] {
    flatbuffers::Parser parser(json_options());
    const std::string schema(lobby_schema_text());
    if (!parser.Parse(schema.c_str()) || !parser.SetRootType("LobbyMessage")) {
      // The schema was compiled by flatc in this build: failing here is a build bug.
      std::fprintf(stderr, "tickwire: embedded lobby.fbs does not parse: %s\n",
                   parser.error_.c_str());
      std::abort();
    }
    parser.Serialize();
    const std::uint8_t* data = parser.builder_.GetBufferPointer();
    return std::vector<std::uint8_t>(data, data + parser.builder_.GetSize());
  }();
  return bfbs;
}

std::unique_ptr<flatbuffers::Parser> make_parser() {
  auto parser = std::make_unique<flatbuffers::Parser>(json_options());
  const std::vector<std::uint8_t>& bfbs = binary_schema();
  if (!parser->Deserialize(bfbs.data(), bfbs.size()) || !parser->SetRootType("LobbyMessage")) {
    std::fprintf(stderr, "tickwire: the compiled lobby schema does not load: %s\n",
                 parser->error_.c_str());
    std::abort();
  }
  return parser;
}

// What a person typing JSON by hand needs to fix it, short enough for a reply: the parser's
// message ("line: column: error: ...") cut at a character boundary, since it may quote the input.
constexpr std::size_t kMaxErrorDetail = 200;

std::string short_detail(const std::string& text) {
  if (text.size() <= kMaxErrorDetail) return text;
  std::size_t end = kMaxErrorDetail;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
    --end;
  return text.substr(0, end) + "...";
}

}  // namespace

struct LobbyCodec::JsonParser {
  // A parser that failed keeps part of what it read (flatbuffers 2.0.8 leaks about as many bytes
  // as a bad number literal was long, for ever): after a failure the parser is replaced, so a
  // rejected frame costs no memory. The good path reuses the parser and pays nothing for this.
  std::unique_ptr<flatbuffers::Parser> parser = make_parser();
  std::string text;  // NUL-terminated copy of the frame, which the parser needs
  std::vector<std::uint8_t> buffer;
};

LobbyCodec::LobbyCodec() : json_(std::make_unique<JsonParser>()) {}
LobbyCodec::~LobbyCodec() = default;

const wire::LobbyMessage* LobbyCodec::decode_binary(std::span<const std::byte> bytes,
                                                    DecodeError& error) {
  const schemas::AlignedView& view = binary_view_.emplace(bytes);
  const wire::LobbyMessage* message = verify(view.data(), view.size(), error);
  if (message == nullptr) {
    error_detail_ =
        error == DecodeError::unsupported
            ? "this body is not a request a client may send"
            : "this binary frame is not a LobbyMessage FlatBuffer with a body (lobby.fbs)";
  }
  return message;
}

const wire::LobbyMessage* LobbyCodec::decode_json(std::span<const std::byte> text,
                                                  DecodeError& error) {
  error = DecodeError::malformed;
  // The parser reads up to the first NUL; a NUL inside would hide the rest from it.
  if (std::find(text.begin(), text.end(), std::byte{0}) != text.end()) {
    error_detail_ = "the JSON text holds a NUL character";
    return nullptr;
  }
  json_->text.assign(reinterpret_cast<const char*>(text.data()), text.size());
  // ParseJson, never Parse: Parse would accept schema text and let a client change the schema.
  if (!json_->parser->ParseJson(json_->text.c_str())) {
    error_detail_ = "not a LobbyMessage in JSON: " + short_detail(json_->parser->error_);
    json_->parser = make_parser();
    return nullptr;
  }
  // A frame far larger than the messages the lobby takes must not keep its buffers large.
  constexpr std::size_t kKeptTextCapacity = 4096;
  const auto& builder = json_->parser->builder_;
  json_->buffer.assign(builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize());
  if (json_->text.capacity() > kKeptTextCapacity) std::string().swap(json_->text);
  const wire::LobbyMessage* message = verify(json_->buffer.data(), json_->buffer.size(), error);
  if (message == nullptr) {
    error_detail_ =
        error == DecodeError::unsupported
            ? "body_type names a body that is not a request a client may send"
            : "the JSON does not make a valid LobbyMessage (a body_type needs its body)";
  }
  return message;
}

std::string LobbyCodec::to_json(std::span<const std::byte> message) {
  std::string out;
  if (!flatbuffers::GenerateText(*json_->parser, message.data(), &out)) out.clear();
  return out;
}

}  // namespace tickwire::net::lobby_detail
