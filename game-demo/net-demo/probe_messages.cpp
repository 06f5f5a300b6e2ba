#include "probe_messages.hpp"

#include <flatbuffers/flatbuffers.h>

#include <tickwire/schemas/ping_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

namespace tickwire::demo {
namespace {

namespace fb = tickwire::schemas;

// Limits for the verifier: a probe is a tiny, flat message.
constexpr flatbuffers::uoffset_t kMaxDepth = 8;
constexpr flatbuffers::uoffset_t kMaxTables = 16;
constexpr std::size_t kMaxNoteBytes = 256;

std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& builder) {
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

}  // namespace

std::vector<std::byte> encode(const PingMessage& ping) {
  flatbuffers::FlatBufferBuilder builder(128);
  const auto note = builder.CreateString(ping.note.substr(0, kMaxNoteBytes));
  const auto body = fb::CreatePing(builder, ping.sequence, ping.client_time_us, note);
  builder.Finish(fb::CreateProbe(builder, fb::ProbeBody::Ping, body.Union()));
  return finish(builder);
}

std::vector<std::byte> encode(const PongMessage& pong) {
  flatbuffers::FlatBufferBuilder builder(64);
  const auto body =
      fb::CreatePong(builder, pong.sequence, pong.client_time_us, pong.server_time_us, pong.peers);
  builder.Finish(fb::CreateProbe(builder, fb::ProbeBody::Pong, body.Union()));
  return finish(builder);
}

DecodedProbe decode_probe(std::span<const std::byte> bytes) {
  DecodedProbe out;
  const schemas::AlignedView view(bytes);
  const std::uint8_t* data = view.data();
  flatbuffers::Verifier verifier(data, bytes.size(), kMaxDepth, kMaxTables);
  if (!fb::VerifyProbeBuffer(verifier)) return out;
  const fb::Probe* probe = fb::GetProbe(data);
  if (const fb::Ping* ping = probe->body_as_Ping()) {
    const std::size_t note_size = ping->note() != nullptr ? ping->note()->size() : 0;
    if (note_size > kMaxNoteBytes) return out;
    out.ping = PingMessage{ping->sequence(), ping->client_time_us(),
                           note_size > 0 ? ping->note()->str() : std::string()};
  } else if (const fb::Pong* pong = probe->body_as_Pong()) {
    out.pong = PongMessage{pong->sequence(), pong->client_time_us(), pong->server_time_us(),
                           pong->peers()};
  }
  return out;
}

}  // namespace tickwire::demo
