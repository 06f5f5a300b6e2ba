#include "sim_messages.hpp"

namespace tickwire::sim::detail {

const schemas::SimMessage* verified_sim_message(std::span<const std::byte> bytes,
                                                std::size_t max_size, std::size_t max_tables,
                                                std::optional<schemas::AlignedView>& view) {
  if (bytes.size() > max_size) return nullptr;
  const std::uint8_t* data = view.emplace(bytes).data();
  constexpr flatbuffers::uoffset_t kMaxDepth = 8;
  flatbuffers::Verifier verifier(data, bytes.size(), kMaxDepth,
                                 static_cast<flatbuffers::uoffset_t>(max_tables));
  if (!schemas::VerifySimMessageBuffer(verifier)) return nullptr;
  return schemas::GetSimMessage(data);
}

void finish_message(flatbuffers::FlatBufferBuilder& builder,
                    flatbuffers::Offset<schemas::SimMessage> message, std::vector<std::byte>& out) {
  builder.Finish(message);
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  out.assign(data, data + builder.GetSize());
}

}  // namespace tickwire::sim::detail
