#pragma once
// The transfer messages of schemas/transfer.fbs as plain structs: encode() builds one message,
// decode() verifies a received buffer and checks every field's bounds before anything reads it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "tickwire/net/file_transfer.hpp"
#include "tickwire/schemas/aligned_view.hpp"

namespace tickwire::net::transfer_detail {

inline constexpr std::size_t kHashBytes = 32;      // the whole file's hash (transfer_files.hpp)
inline constexpr std::size_t kCheckBytes = 32;     // SHA-256 of one chunk
inline constexpr std::size_t kMaxNameBytes = 255;  // a file name on common file systems
inline constexpr std::size_t kMaxKindBytes = 64;
inline constexpr std::uint32_t kMinChunkSize = 1024;
inline constexpr std::uint32_t kMaxChunkSize = 1024 * 1024;
// The most a chunk's message (encode(Chunk)) adds to its data, the file hash included: what a
// sender allows for when it sizes chunks to whole datagrams.
inline constexpr std::uint32_t kMaxChunkEncodingBytes = 176;

using Hash = std::array<std::byte, kHashBytes>;
using Check = std::array<std::byte, kCheckBytes>;

struct Offer {
  TransferId id;
  std::string name;
  std::string kind;
  std::uint64_t size = 0;
  std::uint32_t chunk_size = 0;
};
struct Accept {
  TransferId id;
  std::uint64_t offset = 0;
};
struct Chunk {
  TransferId id;
  std::uint64_t offset = 0;
  std::span<const std::byte> data;  // points into the decoded buffer
  Check check{};
  // The whole file's hash (transfer_files.hpp), on the last chunk only: the sender knows it once
  // it has hashed every chunk, which it does as it sends them.
  std::optional<Hash> file_hash;
};
struct Ack {
  TransferId id;
  std::uint64_t offset = 0;
};
struct Done {
  TransferId id;
};
struct Cancel {
  TransferId id;
  TransferError error = TransferError::cancelled;
};

using Message = std::variant<Offer, Accept, Chunk, Ack, Done, Cancel>;

// Nothing if the buffer is not a valid transfer message (verifier, unknown body, a field out of
// bounds: a hash or check of the wrong length, a chunk over kMaxChunkSize, an unknown error code).
// FlatBuffers needs aligned bytes: `view` holds them (the bytes themselves, or an aligned copy),
// and a Chunk's data points into it, so it must outlive the message.
std::optional<Message> decode(std::span<const std::byte> bytes,
                              std::optional<schemas::AlignedView>& view);

std::vector<std::byte> encode(const Offer& offer);
std::vector<std::byte> encode(const Accept& accept);
std::vector<std::byte> encode(const Chunk& chunk);
// A chunk built in `builder` (cleared first, its memory kept): the sender encodes every chunk this
// way, without a fresh allocation and a copy of the data per chunk. The bytes live in `builder`.
std::span<const std::byte> encode(const Chunk& chunk, flatbuffers::FlatBufferBuilder& builder);
std::vector<std::byte> encode(const Ack& ack);
std::vector<std::byte> encode(const Done& done);
std::vector<std::byte> encode(const Cancel& cancel);

// SHA-256 of one chunk's data. Both the chunk's own check and, through the list of them, the
// whole file's hash (transfer_files.hpp) come from it, so each side hashes the data once.
Check check_of(std::span<const std::byte> data);

}  // namespace tickwire::net::transfer_detail
