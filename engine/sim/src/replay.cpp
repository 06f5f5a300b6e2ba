// Replay files: framing, index and checks (schemas/replay.fbs describes the layout).

#include "tickwire/sim/replay.hpp"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <tickwire/schemas/replay_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

// xxHash compiled into this file (header only): nothing links to it.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "config_error.hpp"

namespace tickwire::sim {
namespace {

namespace fb = tickwire::replay;

constexpr std::array<char, 8> kMagic = {'T', 'W', 'R', 'E', 'P', 'L', 'A', 'Y'};
constexpr std::array<char, 8> kEndMagic = {'T', 'W', 'R', 'P', 'E', 'N', 'D', '!'};
constexpr std::size_t kTrailerBytes = 4 + 8;  // index frame offset, end magic
// Nesting and table counts for the verifier: a chunk holds up to ticks_per_chunk records.
constexpr flatbuffers::uoffset_t kMaxDepth = 8;
constexpr flatbuffers::uoffset_t kMaxTables = 2'000'000;

// The oldest format version this build still reads: version 1 differs only in its checksums.
constexpr std::uint16_t kOldestReadableFormatVersion = 1;

// A frame's checksum in a file of `format_version`: XXH3 64 from version 2; FNV-1a 64, a byte at
// a time, in version 1 (440 us for a 400 KB chunk against 15 us for XXH3 on the benchmark VM,
// once on the recorder's writer thread and again for a reader to check it).
std::uint64_t frame_checksum(std::uint16_t format_version, std::span<const std::byte> bytes) {
  if (format_version >= 2) return XXH3_64bits(bytes.data(), bytes.size());
  std::uint64_t hash = 14695981039346656037ull;
  for (std::byte b : bytes) {
    hash ^= static_cast<std::uint8_t>(b);
    hash *= 1099511628211ull;
  }
  return hash;
}

void put_u32(std::vector<std::byte>& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
}

std::uint32_t get_u32(std::span<const std::byte> bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[at + i])) << (8 * i);
  return value;
}

// Where the next frame starts in a file whose bytes so far end at `end`: after padding that puts
// its FlatBuffer (4 bytes after its start) 8-byte aligned in a file read into aligned memory.
std::uint64_t next_frame_start(std::uint64_t end) {
  return end + (8 - (end + 4) % 8) % 8;
}

// Bytes of a frame starting at file offset `start` whose FlatBuffer has `size` bytes: its size,
// the FlatBuffer and the padding before the next frame.
std::size_t frame_bytes(std::uint64_t start, std::size_t size) {
  return static_cast<std::size_t>(next_frame_start(start + 4 + size) - start);
}

// The finished FlatBuffer of `fbb`.
std::span<const std::byte> finished_bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return {reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

// A sink that appends what it is handed to `bytes`.
ReplayRecorder::ByteSink append_to(std::vector<std::byte>& bytes) {
  return [&bytes](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
    return true;
  };
}

// Appends a frame holding `bytes` (a FlatBuffer); `base` is the file offset of out[0].
void put_frame(std::vector<std::byte>& out, std::uint64_t base, std::span<const std::byte> bytes) {
  const std::size_t size = frame_bytes(base + out.size(), bytes.size());
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
  out.resize(out.size() + size - 4 - bytes.size(), std::byte{0});
}

// Appends the index frame and the trailer that points at it; `base` is the file offset of out[0].
void put_index_and_trailer(std::vector<std::byte>& out, std::uint64_t base,
                           const std::vector<fb::ChunkEntry>& entries,
                           std::uint64_t header_checksum, std::uint32_t tick_count,
                           bool cut_short) {
  flatbuffers::FlatBufferBuilder fbb(64 + entries.size() * sizeof(fb::ChunkEntry));
  fbb.Finish(fb::CreateReplayIndex(fbb, fbb.CreateVectorOfStructs(entries), header_checksum,
                                   tick_count, cut_short));
  const auto index_offset = static_cast<std::uint32_t>(base + out.size());
  put_frame(out, base, finished_bytes(fbb));
  put_u32(out, index_offset);
  out.insert(out.end(), reinterpret_cast<const std::byte*>(kEndMagic.data()),
             reinterpret_cast<const std::byte*>(kEndMagic.data()) + kEndMagic.size());
}

}  // namespace

Status ReplayRecorderConfig::validate() const {
  using detail::invalid_field;
  if (ticks_per_chunk < 1 || ticks_per_chunk > 100'000)
    return invalid_field("ticks_per_chunk", ticks_per_chunk, "1..100000");
  if (max_tick_bytes < 1 || max_tick_bytes > (64u << 20))
    return invalid_field("max_tick_bytes", max_tick_bytes, "1..67108864");
  return {};
}

namespace {

// The recorder writes no other tick rate, and a reader must not divide by one it was sent
// (0, a NaN, a negative one from a damaged or hostile file).
Status check_tick_rate(double tick_rate_hz) {
  if (tick_rate_hz > 0 && tick_rate_hz <= 1000) return {};
  return Status::error("tick_rate_hz = " + std::to_string(tick_rate_hz) +
                       " is invalid: use 1..1000");
}

}  // namespace

ReplayBuffers::ReplayBuffers() = default;
ReplayBuffers::ReplayBuffers(ReplayBuffers&&) noexcept = default;
ReplayBuffers& ReplayBuffers::operator=(ReplayBuffers&&) noexcept = default;
ReplayBuffers::~ReplayBuffers() = default;

Result<ReplayRecorder> ReplayRecorder::make(ReplayInfo info, ReplayRecorderConfig config,
                                            ReplayBuffers recycled) {
  if (Status valid = config.validate(); !valid.ok())
    return Status::error("replay recorder: " + valid.message());
  if (Status rate = check_tick_rate(info.tick_rate_hz); !rate.ok())
    return Status::error("replay recorder: " + rate.message());
  return ReplayRecorder(std::move(info), config, std::move(recycled));
}

ReplayRecorder::ReplayRecorder(ReplayRecorder&&) noexcept = default;
ReplayRecorder& ReplayRecorder::operator=(ReplayRecorder&&) noexcept = default;
ReplayRecorder::~ReplayRecorder() = default;

ReplayRecorder::ReplayRecorder(ReplayInfo info, ReplayRecorderConfig config, ReplayBuffers recycled)
    : config_(config), buffers_(std::move(recycled)) {
  // The magic is 8 bytes and each frame's FlatBuffer starts 4 bytes after the frame: 4 bytes of
  // padding put the header's FlatBuffer at offset 16.
  std::array<std::byte, kMagic.size() + 4> start{};
  std::memcpy(start.data(), kMagic.data(), kMagic.size());
  out_.reserve(start.size() + 256 + info.initial_state.size());
  out_.assign(start.begin(), start.end());
  flatbuffers::FlatBufferBuilder fbb(256 + info.initial_state.size());
  const auto game = fbb.CreateString(info.game);
  const auto initial = fbb.CreateVector(
      reinterpret_cast<const std::uint8_t*>(info.initial_state.data()), info.initial_state.size());
  fbb.Finish(fb::CreateReplayHeader(fbb, kReplayFormatVersion, game, info.game_version,
                                    info.match_id, info.tick_rate_hz, info.started_unix_ms,
                                    initial));
  header_checksum_ = frame_checksum(kReplayFormatVersion, finished_bytes(fbb));
  put_frame(out_, 0, finished_bytes(fbb));
  written_ = out_.size();
  records_.reserve(config_.ticks_per_chunk);
}

bool ReplayRecorder::record(std::uint32_t tick, std::span<const std::byte> data,
                            std::uint64_t state_hash) {
  if (finished_ || (tick_count_ > 0 && tick <= last_tick_) || data.size() > config_.max_tick_bytes)
    return false;
  if (records_.empty()) start_chunk(data.size());
  flatbuffers::FlatBufferBuilder& fbb = *buffers_.builder_;
  const auto bytes =
      fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  records_.push_back(fb::CreateTickRecord(fbb, tick, state_hash, bytes).o);
  if (records_.size() == 1) chunk_first_tick_ = tick;
  ++tick_count_;
  last_tick_ = tick;
  if (records_.size() >= config_.ticks_per_chunk) finish_chunk();
  return true;
}

void ReplayRecorder::start_chunk(std::size_t first_tick_bytes) {
  if (chunk_ready_) keep_ready_chunk();
  if (!buffers_.builder_) {
    // Room for a chunk of ticks twice the first one's size, and at least 2 MiB (a 256-player
    // Arena chunk is about 1.5 MB): growing by half again copies the chunk so far into fresh
    // memory each time, where room the chunk never reaches costs nothing (the builder writes
    // from the end, and the pages it does not touch are never faulted in).
    const std::size_t per_chunk = (first_tick_bytes + 64) * config_.ticks_per_chunk * 2;
    buffers_.builder_ = std::make_unique<flatbuffers::FlatBufferBuilder>(
        std::clamp<std::size_t>(per_chunk, 2u << 20, 64u << 20));
  }
  buffers_.builder_->Clear();
}

void ReplayRecorder::finish_chunk() {
  if (records_.empty()) return;
  flatbuffers::FlatBufferBuilder& fbb = *buffers_.builder_;
  // The offsets as FlatBuffers takes them (Offset<T> is one uoffset_t).
  static_assert(sizeof(flatbuffers::Offset<fb::TickRecord>) == sizeof(std::uint32_t));
  const auto* offsets =
      reinterpret_cast<const flatbuffers::Offset<fb::TickRecord>*>(records_.data());
  fbb.Finish(fb::CreateReplayChunk(fbb, fbb.CreateVector(offsets, records_.size())));
  const std::span<const std::byte> bytes = finished_bytes(fbb);
  chunks_.push_back(
      {chunk_first_tick_, last_tick_, written_, frame_checksum(kReplayFormatVersion, bytes)});
  written_ += frame_bytes(written_, bytes.size());
  records_.clear();
  chunk_ready_ = true;
  ready_at_ = out_.size();
}

void ReplayRecorder::keep_ready_chunk() {
  // Nothing is added to out_ after a ready chunk but by finish(), which takes no more ticks: the
  // chunk goes at the end, where it starts in the file.
  put_frame(out_, chunks_.back().offset - out_.size(), finished_bytes(*buffers_.builder_));
  chunk_ready_ = false;
}

bool ReplayRecorder::write_pending(const ByteSink& write) {
  const std::span<const std::byte> out(out_);
  bool ok = true;
  if (chunk_ready_) {
    // The chunk's frame from the builder's memory, between the bytes before and after it.
    const std::span<const std::byte> chunk = finished_bytes(*buffers_.builder_);
    const auto size = static_cast<std::uint32_t>(chunk.size());
    std::array<std::byte, 4> prefix{};
    for (std::size_t i = 0; i < prefix.size(); ++i)
      prefix[i] = static_cast<std::byte>((size >> (8 * i)) & 0xFF);
    static constexpr std::array<std::byte, 8> kZeros{};
    const std::size_t padding = frame_bytes(chunks_.back().offset, size) - 4 - size;
    ok = (ready_at_ == 0 || write(out.first(ready_at_))) && write(prefix) && write(chunk) &&
         (padding == 0 || write(std::span(kZeros).first(padding))) &&
         (ready_at_ == out.size() || write(out.subspan(ready_at_)));
    chunk_ready_ = false;
  } else if (!out.empty()) {
    ok = write(out);
  }
  out_.clear();
  return ok;
}

std::vector<std::byte> ReplayRecorder::take_bytes() {
  std::vector<std::byte> taken;
  (void)write_pending(append_to(taken));
  return taken;
}

bool ReplayRecorder::finish(const ByteSink& write) {
  if (!finished_) {
    finish_chunk();
    std::vector<fb::ChunkEntry> entries;
    entries.reserve(chunks_.size());
    for (const Chunk& c : chunks_)
      entries.emplace_back(c.first_tick, c.last_tick, c.offset, c.checksum);
    const std::size_t before = out_.size();
    put_index_and_trailer(out_, written_ - before, entries, header_checksum_, tick_count_, false);
    written_ += out_.size() - before;
    finished_ = true;
  }
  return write_pending(write);
}

std::vector<std::byte> ReplayRecorder::finish() {
  std::vector<std::byte> taken;
  (void)finish(append_to(taken));
  return taken;
}

ReplayBuffers ReplayRecorder::take_buffers() {
  finished_ = true;
  chunk_ready_ = false;
  out_.clear();
  return std::move(buffers_);
}

namespace {

// The header's FlatBuffer, checked: verified, and of a format version this build reads.
Result<ReplayInfo> read_header(std::span<const std::byte> header_bytes) {
  const schemas::AlignedView header_view(header_bytes);
  flatbuffers::Verifier header_verifier(header_view.data(), header_view.size(), kMaxDepth,
                                        kMaxTables);
  if (!fb::VerifyReplayHeaderBuffer(header_verifier)) {
    return Status::error("replay is corrupt: its header is not a valid ReplayHeader");
  }
  const auto* header = fb::GetReplayHeader(header_view.data());
  if (header->format_version() < kOldestReadableFormatVersion ||
      header->format_version() > kReplayFormatVersion) {
    return Status::error("replay format version " + std::to_string(header->format_version()) +
                         " is not supported (this build reads versions " +
                         std::to_string(kOldestReadableFormatVersion) + " to " +
                         std::to_string(kReplayFormatVersion) + ")");
  }
  ReplayInfo info;
  info.format_version = header->format_version();
  info.game = header->game() != nullptr ? header->game()->str() : std::string();
  info.game_version = header->game_version();
  info.match_id = header->match_id();
  info.tick_rate_hz = header->tick_rate_hz();
  if (Status rate = check_tick_rate(info.tick_rate_hz); !rate.ok())
    return Status::error("replay is corrupt: its header's " + rate.message());
  info.started_unix_ms = header->started_unix_ms();
  if (const auto* initial = header->initial_state()) {
    const auto* data = reinterpret_cast<const std::byte*>(initial->data());
    info.initial_state.assign(data, data + initial->size());
  }
  return info;
}

using TickRecords = flatbuffers::Vector<flatbuffers::Offset<fb::TickRecord>>;

// A chunk's records, checked: verified, not empty, ticks increasing after `previous_tick`
// (updated to the chunk's last). `chunk_bytes` must be 8-byte aligned in memory; `which` names
// the chunk in an error.
Result<const TickRecords*> read_chunk(std::span<const std::byte> chunk_bytes,
                                      std::optional<std::uint32_t>& previous_tick,
                                      const std::string& which) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(chunk_bytes.data()),
                                 chunk_bytes.size(), kMaxDepth, kMaxTables);
  if (!verifier.VerifyBuffer<fb::ReplayChunk>(nullptr)) {
    return Status::error("replay is corrupt: " + which + " is not a valid ReplayChunk");
  }
  const auto* records = flatbuffers::GetRoot<fb::ReplayChunk>(chunk_bytes.data())->records();
  if (records == nullptr || records->size() == 0) {
    return Status::error("replay is corrupt: " + which + " holds no ticks");
  }
  for (const fb::TickRecord* record : *records) {
    if (previous_tick && record->tick() <= *previous_tick) {
      return Status::error("replay is corrupt: tick " + std::to_string(record->tick()) + " in " +
                           which + " does not follow tick " + std::to_string(*previous_tick));
    }
    previous_tick = record->tick();
  }
  return records;
}

// The FlatBuffer of the frame at `offset`, if the frame lies within `file` (before `end`).
std::optional<std::span<const std::byte>> frame_at(std::span<const std::byte> file,
                                                   std::uint64_t offset, std::size_t end) {
  if (offset > end || end - offset < 4) return std::nullopt;
  const std::uint32_t size = get_u32(file, offset);
  if (size > end - offset - 4) return std::nullopt;
  return file.subspan(offset + 4, size);
}

}  // namespace

Result<ReplayReader> ReplayReader::open(std::vector<std::byte> file,
                                        const ReplayReaderLimits& limits) {
  if (file.size() > limits.max_file_bytes) {
    return Status::error("replay is " + std::to_string(file.size()) + " bytes, over the limit of " +
                         std::to_string(limits.max_file_bytes));
  }
  if (file.size() < kMagic.size() || std::memcmp(file.data(), kMagic.data(), kMagic.size()) != 0) {
    return Status::error("not a replay file (no TWREPLAY signature at its start)");
  }
  if (file.size() < kMagic.size() + 4 + kTrailerBytes ||
      std::memcmp(file.data() + file.size() - kEndMagic.size(), kEndMagic.data(),
                  kEndMagic.size()) != 0) {
    return Status::error(
        "replay is truncated: its trailer is missing (the recording did not finish, or the file "
        "was cut short)");
  }
  ReplayReader reader;
  reader.file_ = std::move(file);
  const std::span<const std::byte> bytes(reader.file_);
  const std::size_t body_end = bytes.size() - kTrailerBytes;

  // The index, through the trailer.
  const std::uint32_t index_offset = get_u32(bytes, body_end);
  const auto index_bytes = frame_at(bytes, index_offset, body_end);
  if (!index_bytes || index_offset < kMagic.size()) {
    return Status::error("replay is corrupt: its index offset " + std::to_string(index_offset) +
                         " is outside the file");
  }
  const schemas::AlignedView index_view(*index_bytes);
  flatbuffers::Verifier index_verifier(index_view.data(), index_view.size(), kMaxDepth, kMaxTables);
  if (!index_verifier.VerifyBuffer<fb::ReplayIndex>(nullptr)) {
    return Status::error("replay is corrupt: its index is not a valid ReplayIndex");
  }
  const auto* index = flatbuffers::GetRoot<fb::ReplayIndex>(index_view.data());

  // The header: read (verified) first, since its format version says which checksum it has.
  const auto header_bytes = frame_at(bytes, kMagic.size() + 4, index_offset);
  if (!header_bytes)
    return Status::error("replay is corrupt: its header frame is outside the file");
  auto info = read_header(*header_bytes);
  if (!info) return Status::error(info.error());
  reader.info_ = std::move(info.value());
  const std::uint16_t version = reader.info_.format_version;
  if (frame_checksum(version, *header_bytes) != index->header_checksum()) {
    return Status::error("replay is corrupt: the header's checksum does not match");
  }

  // Every chunk, so that next() and seek() never meet bad bytes.
  const auto* entries = index->chunks();
  const std::size_t chunk_count = entries != nullptr ? entries->size() : 0;
  // The verifier checks a vector's length field, not that its 8-byte structs are 8-byte aligned
  // (a crafted index can put them 4 bytes off, which the fuzzer found): reading a member through
  // a misaligned struct is undefined.
  if (entries != nullptr &&
      reinterpret_cast<std::uintptr_t>(entries->Data()) % alignof(fb::ChunkEntry) != 0) {
    return Status::error("replay is corrupt: its index is misaligned");
  }
  if (chunk_count > limits.max_chunks) {
    return Status::error("replay has " + std::to_string(chunk_count) +
                         " chunks, over the limit of " + std::to_string(limits.max_chunks));
  }
  std::uint64_t records_seen = 0;
  std::optional<std::uint32_t> previous_tick;
  std::uint64_t previous_end = 0;
  for (std::size_t i = 0; i < chunk_count; ++i) {
    const fb::ChunkEntry* entry = entries->Get(static_cast<flatbuffers::uoffset_t>(i));
    const std::string which = "chunk " + std::to_string(i) + " of " + std::to_string(chunk_count);
    const auto chunk_bytes = frame_at(bytes, entry->offset(), index_offset);
    if (!chunk_bytes || entry->offset() < previous_end) {
      return Status::error("replay is corrupt: " + which + " lies outside the file");
    }
    previous_end = entry->offset() + 4 + chunk_bytes->size();
    if (frame_checksum(version, *chunk_bytes) != entry->checksum()) {
      return Status::error("replay is corrupt: " + which + " does not match its checksum");
    }
    const std::size_t start = static_cast<std::size_t>(chunk_bytes->data() - bytes.data());
    if (start % 8 != 0) return Status::error("replay is corrupt: " + which + " is misaligned");
    auto records = read_chunk(*chunk_bytes, previous_tick, which);
    if (!records) return Status::error(records.error());
    if ((*records)->Get(0)->tick() != entry->first_tick() ||
        (*records)->Get((*records)->size() - 1)->tick() != entry->last_tick()) {
      return Status::error("replay is corrupt: the index's ticks for " + which +
                           " differ from the chunk's");
    }
    records_seen += (*records)->size();
    reader.chunks_.push_back({entry->first_tick(), entry->last_tick(), start, chunk_bytes->size()});
  }
  if (records_seen != index->tick_count()) {
    return Status::error("replay is corrupt: the index counts " +
                         std::to_string(index->tick_count()) + " ticks, the chunks hold " +
                         std::to_string(records_seen));
  }
  reader.tick_count_ = index->tick_count();
  reader.cut_short_ = index->cut_short();
  return reader;
}

std::uint32_t ReplayReader::first_tick() const {
  return chunks_.empty() ? 0 : chunks_.front().first_tick;
}

std::uint32_t ReplayReader::last_tick() const {
  return chunks_.empty() ? 0 : chunks_.back().last_tick;
}

bool ReplayReader::seek(std::uint32_t tick) {
  // The first chunk that ends at or after `tick`; within it, the first record at or after it.
  const auto found =
      std::lower_bound(chunks_.begin(), chunks_.end(), tick,
                       [](const Chunk& c, std::uint32_t t) { return c.last_tick < t; });
  chunk_ = static_cast<std::size_t>(found - chunks_.begin());
  record_ = 0;
  if (found == chunks_.end()) return false;
  const auto* records =
      flatbuffers::GetRoot<fb::ReplayChunk>(file_.data() + found->offset)->records();
  const auto at = std::lower_bound(
      records->begin(), records->end(), tick,
      [](const fb::TickRecord* record, std::uint32_t t) { return record->tick() < t; });
  record_ = static_cast<std::size_t>(at - records->begin());
  return true;
}

std::optional<ReplayTick> ReplayReader::next() {
  while (chunk_ < chunks_.size()) {
    const auto* records =
        flatbuffers::GetRoot<fb::ReplayChunk>(file_.data() + chunks_[chunk_].offset)->records();
    if (record_ < records->size()) {
      const fb::TickRecord* record = records->Get(static_cast<flatbuffers::uoffset_t>(record_++));
      std::span<const std::byte> data;
      if (const auto* bytes = record->data()) {
        data = {reinterpret_cast<const std::byte*>(bytes->data()), bytes->size()};
      }
      return ReplayTick{record->tick(), record->state_hash(), data};
    }
    ++chunk_;
    record_ = 0;
  }
  return std::nullopt;
}

Result<SalvagedReplay> salvage_replay(std::span<const std::byte> recording,
                                      const ReplayReaderLimits& limits) {
  if (recording.size() > limits.max_file_bytes) {
    return Status::error("recording is " + std::to_string(recording.size()) +
                         " bytes, over the limit of " + std::to_string(limits.max_file_bytes));
  }
  if (recording.size() < kMagic.size() ||
      std::memcmp(recording.data(), kMagic.data(), kMagic.size()) != 0) {
    return Status::error("not a replay file (no TWREPLAY signature at its start)");
  }
  const auto header_bytes = frame_at(recording, kMagic.size() + 4, recording.size());
  if (!header_bytes) return Status::error("nothing to salvage: the header is cut short");
  auto info = read_header(*header_bytes);
  if (!info) return Status::error(info.error());
  if (recording.size() >= kMagic.size() + 4 + kTrailerBytes &&
      std::memcmp(recording.data() + recording.size() - kEndMagic.size(), kEndMagic.data(),
                  kEndMagic.size()) == 0 &&
      ReplayReader::open({recording.begin(), recording.end()}, limits).ok()) {
    return Status::error("nothing to salvage: the recording is a complete replay");
  }

  // The frames after the header, in order, as long as each is a whole chunk that checks. The
  // recorder writes nothing else there before finish(), so the first frame that does not is
  // where the writer stopped (or the index it had begun).
  std::vector<fb::ChunkEntry> entries;
  std::uint32_t tick_count = 0;
  std::optional<std::uint32_t> previous_tick;
  std::size_t kept =
      static_cast<std::size_t>(header_bytes->data() - recording.data()) + header_bytes->size();
  std::size_t next = next_frame_start(kept);
  while (entries.size() < limits.max_chunks) {
    const auto chunk_bytes = frame_at(recording, next, recording.size());
    if (!chunk_bytes) break;
    // The chunk's FlatBuffer sits 8-byte aligned in the file; the view copies it where
    // `recording` itself is not so aligned in memory.
    const schemas::AlignedView view(*chunk_bytes);
    std::optional<std::uint32_t> last_tick = previous_tick;
    auto records = read_chunk({reinterpret_cast<const std::byte*>(view.data()), view.size()},
                              last_tick, "chunk " + std::to_string(entries.size()));
    if (!records) break;
    previous_tick = last_tick;
    entries.emplace_back((*records)->Get(0)->tick(), *last_tick, next,
                         frame_checksum(info->format_version, *chunk_bytes));
    tick_count += (*records)->size();
    kept = next + 4 + chunk_bytes->size();
    next = next_frame_start(kept);
  }
  if (entries.empty()) return Status::error("nothing to salvage: no chunk of ticks is whole");

  SalvagedReplay salvaged;
  salvaged.kept_bytes = kept;
  salvaged.tick_count = tick_count;
  salvaged.file.assign(recording.begin(), recording.begin() + static_cast<std::ptrdiff_t>(kept));
  salvaged.file.resize(next_frame_start(kept), std::byte{0});
  // In the recording's own format version: its header says which.
  put_index_and_trailer(salvaged.file, 0, entries,
                        frame_checksum(info->format_version, *header_bytes), tick_count, true);
  return salvaged;
}

}  // namespace tickwire::sim
