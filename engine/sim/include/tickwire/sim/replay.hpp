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

class ReplayRecorder {
 public:
  // Refuses an invalid config or info.tick_rate_hz, naming the field (in every build).
  static Result<ReplayRecorder> make(ReplayInfo info, ReplayRecorderConfig config = {});

  // Records one tick: `tick` above the last one recorded, `data` what the game needs to replay
  // it, `state_hash` its state after the tick (0 for none). False, and nothing recorded, for a
  // tick out of order or data over the limit.
  bool record(std::uint32_t tick, std::span<const std::byte> data, std::uint64_t state_hash);

  // The file's bytes made since the last call (the header at first, then whole chunks): append
  // them to the file. Cheap when there are none.
  std::vector<std::byte> take_bytes();
  // The same into `bytes` (what it held is dropped), whose buffer the recorder keeps for the
  // next bytes: a recorder handed the same buffer back every time allocates nothing once its
  // buffers have grown, where fresh memory for every chunk costs its page faults.
  void take_bytes(std::vector<std::byte>& bytes);
  // Ends the recording: the last chunk, the index and the trailer. The recorder takes no more
  // ticks afterwards.
  std::vector<std::byte> finish();

  std::uint32_t tick_count() const { return tick_count_; }
  bool finished() const { return finished_; }

  ReplayRecorder(ReplayRecorder&&) noexcept;
  ReplayRecorder& operator=(ReplayRecorder&&) noexcept;
  ~ReplayRecorder();

 private:
  ReplayRecorder(ReplayInfo info, ReplayRecorderConfig config);
  void flush_chunk();

  struct Pending {
    std::uint32_t tick;
    std::uint64_t state_hash;
    std::uint32_t offset;  // into pending_data_
    std::uint32_t size;
  };
  struct Chunk {
    std::uint32_t first_tick, last_tick;
    std::uint64_t offset, checksum;
  };
  ReplayRecorderConfig config_;
  std::vector<std::byte> out_;  // not yet taken
  std::uint64_t written_ = 0;   // bytes made so far (taken or not): the next frame's offset
  std::uint64_t header_checksum_ = 0;
  std::vector<Pending> pending_;
  std::vector<std::byte> pending_data_;
  std::vector<Chunk> chunks_;
  std::unique_ptr<flatbuffers::FlatBufferBuilder> chunk_builder_;  // reused by every chunk
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
// cut short. A recording takes no tick it had not handed out as a whole chunk (take_bytes()), so
// the ticks lost are those of the chunk in progress. Refused (with why) when the header is not
// whole or valid, or no chunk is whole: nothing in it can be played. A file that is already a
// complete replay is refused too (open it).
Result<SalvagedReplay> salvage_replay(std::span<const std::byte> recording,
                                      const ReplayReaderLimits& limits = {});

}  // namespace tickwire::sim
