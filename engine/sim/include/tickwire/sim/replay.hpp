#pragma once
// Match recording and replay, for any game: ReplayRecorder turns what a game hands it each tick
// (the bytes it needs to replay that tick, and its state hash) into the bytes of a replay file;
// ReplayReader checks such bytes whole and gives the ticks back, from the start or from any tick.
//
// Bytes in, bytes out: neither opens a file (the game writes them where it likes). What a tick's
// bytes hold is the game's business; Tickwire replays by determinism, so a game records its
// inputs, joins and leaves, its seeds in the initial state, and replays them through the same
// rules (docs/replay.md says why, and the file format).
//
// Not done here: re-simulating (the game does, with its rules), or keeping the game's state for
// seeking (seeking gives the records from a tick on; ReplayKeyframes in replay_keyframes.hpp keeps
// copies of the state as playback passes them, so that a seek re-simulates from the nearest one).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tickwire/status.hpp"

namespace flatbuffers {
class FlatBufferBuilder;
}

namespace tickwire::sim {

// The version a recorder writes. A reader also reads version 1 (FNV-1a checksums).
inline constexpr std::uint16_t kReplayFormatVersion = 2;

// What a replay says about itself (its header and index).
struct ReplayInfo {
  std::uint16_t format_version = kReplayFormatVersion;
  std::string game;                // e.g. "arena"
  std::uint32_t game_version = 0;  // of the game's rules
  std::uint64_t match_id = 0;
  double tick_rate_hz = 60;
  std::uint64_t started_unix_ms = 0;
  std::vector<std::byte> initial_state;  // the game's seeds and starting state
};

struct ReplayRecorderConfig {
  // Ticks per chunk: the unit the index points at and the recorder hands out. Smaller seeks more
  // finely and loses less of a recording cut short; larger costs less index. Default 256 (about
  // 4 s at 60 Hz).
  std::uint32_t ticks_per_chunk = 256;
  // Bytes of one tick's data at most; a record past it is refused (record() returns false).
  // Default 1 MiB.
  std::size_t max_tick_bytes = 1 << 20;
  // Fine, or which field is wrong, its value and what to use.
  Status validate() const;
};

// The memory a recorder builds its chunks in, handed from a finished recorder to the next
// (ReplayRecorder::take_buffers(), then make()): a server that records match after match then
// builds every chunk in memory it has written before, where fresh memory costs a page fault per
// 4 KiB (a chunk is about 400 KB at 64 Arena players). Empty when default-made.
class ReplayBuffers {
 public:
  ReplayBuffers();
  ReplayBuffers(ReplayBuffers&&) noexcept;
  ReplayBuffers& operator=(ReplayBuffers&&) noexcept;
  ~ReplayBuffers();

 private:
  friend class ReplayRecorder;
  std::unique_ptr<flatbuffers::FlatBufferBuilder> builder_;
};

class ReplayRecorder {
 public:
  // Refuses an invalid config or info.tick_rate_hz, naming the field (in every build). Builds
  // its chunks in `recycled` (a finished recorder's) when given.
  static Result<ReplayRecorder> make(ReplayInfo info, ReplayRecorderConfig config = {},
                                     ReplayBuffers recycled = {});

  // Records one tick: `tick` above the last one recorded, `data` what the game needs to replay
  // it, `state_hash` its state after the tick (0 for none). False, and nothing recorded, for a
  // tick out of order or data over the limit.
  bool record(std::uint32_t tick, std::span<const std::byte> data, std::uint64_t state_hash);

  // Hands the file's bytes made since the last call (the header at first, then whole chunks) to
  // `write`, in order, in a few pieces: append them to the file. A whole chunk is handed over
  // from the memory it was built in, without a copy, if this is called before the next record()
  // (a chunk not taken by then is copied aside). Stops at the first false from `write` and
  // returns false: the rest of those bytes are dropped, the file is broken anyway. Cheap when
  // there are none.
  using ByteSink = std::function<bool(std::span<const std::byte>)>;
  bool write_pending(const ByteSink& write);
  // The same bytes as one vector.
  std::vector<std::byte> take_bytes();
  // Ends the recording: the last chunk, the index and the trailer, handed to `write` after
  // whatever was pending (as write_pending()). The recorder takes no more ticks afterwards.
  bool finish(const ByteSink& write);
  // The same, all of the bytes not taken yet as one vector.
  std::vector<std::byte> finish();
  // Gives up the memory the chunks were built in, for the next recorder (make()). Once this is
  // called the recorder takes no more ticks, and bytes not taken are dropped: call it when the
  // recording is finished or abandoned.
  ReplayBuffers take_buffers();

  std::uint32_t tick_count() const { return tick_count_; }
  bool finished() const { return finished_; }

  ReplayRecorder(ReplayRecorder&&) noexcept;
  ReplayRecorder& operator=(ReplayRecorder&&) noexcept;
  ~ReplayRecorder();

 private:
  ReplayRecorder(ReplayInfo info, ReplayRecorderConfig config, ReplayBuffers recycled);
  void start_chunk(std::size_t first_tick_bytes);
  void finish_chunk();
  void keep_ready_chunk();

  struct Chunk {
    std::uint32_t first_tick, last_tick;
    std::uint64_t offset, checksum;
  };
  ReplayRecorderConfig config_;
  // Bytes not yet taken: those in out_, with the finished chunk still in the builder (when
  // chunk_ready_) between out_'s first ready_at_ bytes and the rest.
  std::vector<std::byte> out_;
  bool chunk_ready_ = false;
  std::size_t ready_at_ = 0;
  std::uint64_t written_ = 0;  // bytes made so far (taken or not): the next frame's offset
  std::uint64_t header_checksum_ = 0;
  // The chunk in progress, built as its ticks come: its records' offsets in the builder.
  std::vector<std::uint32_t> records_;
  std::uint32_t chunk_first_tick_ = 0;
  std::vector<Chunk> chunks_;
  ReplayBuffers buffers_;
  std::uint32_t tick_count_ = 0;
  std::uint32_t last_tick_ = 0;
  bool finished_ = false;
};

struct ReplayTick {
  std::uint32_t tick;
  std::uint64_t state_hash;
  std::span<const std::byte> data;  // valid while the reader lives
};

// Limits for reading replays from anywhere (a download, a player's upload).
struct ReplayReaderLimits {
  // Bytes of a replay file at most. Default 256 MiB.
  std::size_t max_file_bytes = 256u << 20;
  // Chunks at most (the index is read whole). Default 1,000,000.
  std::size_t max_chunks = 1'000'000;
};

class ReplayReader {
 public:
  // Checks everything before giving a reader: the trailer, the header and its version, the
  // index, every chunk (checksum, verifier, increasing ticks). A file cut short, corrupted or of
  // an unknown version is refused with a message that says which.
  static Result<ReplayReader> open(std::vector<std::byte> file,
                                   const ReplayReaderLimits& limits = {});

  const ReplayInfo& info() const { return info_; }
  std::uint32_t tick_count() const { return tick_count_; }
  // Salvaged from a recording that did not finish (salvage_replay()): the match went on past
  // last_tick().
  bool cut_short() const { return cut_short_; }
  std::uint32_t first_tick() const;  // 0 for a recording without ticks
  std::uint32_t last_tick() const;

  // Puts the cursor on the first recorded tick at or after `tick` (through the index); false if
  // there is none (past the end).
  bool seek(std::uint32_t tick);
  // The tick under the cursor, and moves past it; nothing at the end.
  std::optional<ReplayTick> next();

 private:
  struct Chunk {
    std::uint32_t first_tick, last_tick;
    std::size_t offset, size;  // of the chunk's FlatBuffer in file_
  };
  ReplayReader() = default;

  std::vector<std::byte> file_;
  ReplayInfo info_;
  std::vector<Chunk> chunks_;
  std::uint32_t tick_count_ = 0;
  bool cut_short_ = false;
  std::size_t chunk_ = 0;   // cursor: chunk index
  std::size_t record_ = 0;  // and record within it
};

// A recording that did not finish, made whole again (salvage_replay()).
struct SalvagedReplay {
  // A complete replay: the recording's first kept_bytes, then padding, an index rebuilt from its
  // whole chunks (marked cut short) and the trailer. ReplayReader::open() takes it.
  std::vector<std::byte> file;
  std::size_t kept_bytes = 0;  // of the recording, the bytes `file` starts with
  std::uint32_t tick_count = 0;
};

// Salvages a recording whose writer stopped before finish() (the process was killed, the
// machine lost power): its header and every whole chunk up to the first one that is cut short
// or does not check (checksum, verifier, increasing ticks), with a rebuilt index that says it was
// cut short. A recording takes no tick it had not handed out as a whole chunk (write_pending()), so
// the ticks lost are those of the chunk in progress. Refused (with why) when the header is not
// whole or valid, or no chunk is whole: nothing in it can be played. A file that is already a
// complete replay is refused too (open it).
Result<SalvagedReplay> salvage_replay(std::span<const std::byte> recording,
                                      const ReplayReaderLimits& limits = {});

}  // namespace tickwire::sim
