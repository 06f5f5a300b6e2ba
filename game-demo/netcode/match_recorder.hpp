#pragma once
// Records every match an ArenaServer runs into a replay folder (one file per match, written as
// the match goes), and keeps only the newest replays there. Plugs into ServerConfig::observer.
//
// A replay is written under a ".part" name and renamed when its match closes: a reader (the
// lobby's HTTP, a player) never sees a half-written replay under a final name. The tick's thread
// only encodes each tick's inputs (and hashes the state now and then) and hands them over in
// small batches; the recorder's own writer thread turns every ticks_per_chunk ticks into a chunk
// (a FlatBuffer of a few hundred KiB with many players, and its checksum) and hands it to the
// kernel, so a big match's chunks do not stretch the tick they fall on, and a server killed
// mid-match leaves a ".part" that the next start salvages (replay_salvage.hpp). match_closed()
// waits for the writer to finish the batches it was handed and finishes the file on the tick's
// thread. A write that fails (a full disk) ends that match's recording and is counted; the match
// itself goes on.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <tickwire/net/lobby.hpp>
#include <tickwire/net/status.hpp>
#include <tickwire/sim/replay.hpp>

#include "match_observer.hpp"

namespace arena {

// Replay files in a folder are named by the lobby's rule (what its HTTP server serves), and
// nothing else there is taken for one.
using tickwire::net::is_replay_file_name;
using tickwire::net::kReplayFileExtension;

struct RecordingConfig {
  // The folder replays go to; created when missing. Default "replays".
  std::string directory = "replays";
  // Finished replays kept in the folder: after each new one, the oldest beyond this many are
  // deleted. 0: keep all. Default 50.
  std::size_t keep_newest = 50;
  // Ticks per chunk of the file (the unit of seeking and of each write). Default 256.
  std::uint32_t ticks_per_chunk = 256;
  // The state hash is recorded every this many ticks (the others record 0: none), for a playback
  // to prove it reproduces the match. Hashing the state costs more than the rest of recording a
  // tick (docs/benchmarks.md, "Recording"); every 30th finds a divergence within 0.5 s at 60 Hz.
  // 1: every tick. Default 30.
  std::uint32_t hash_every_ticks = 30;
  // Told of each replay once it is under its final name, on the tick's thread (e.g. to send it
  // to a lobby). Default none.
  std::function<void(const std::filesystem::path&)> on_replay_written;
  tickwire::net::Status validate() const;
};

struct RecordingStats {
  std::uint64_t replays_written = 0;  // finished and renamed to their final name
  std::uint64_t replays_pruned = 0;   // deleted as older than the newest keep_newest
  std::uint64_t write_errors = 0;     // recordings given up (open, write or rename failed)
  // At start: recordings a server did not finish, salvaged as "<name>-cut.twreplay", and those
  // deleted because they held no whole chunk of ticks.
  std::uint64_t replays_salvaged = 0;
  std::uint64_t interrupted_removed = 0;
};

class MatchRecorder final : public MatchObserver {
 public:
  // Creates the folder when missing and salvages the recordings in it that a server did not
  // finish (counted in stats()).
  static tickwire::net::Result<std::shared_ptr<MatchRecorder>> make(const RecordingConfig& config);
  ~MatchRecorder() override;

  void match_began(std::uint64_t match_id, const Config& rules) override;
  void player_joined(std::uint64_t match_id, PlayerId player) override;
  void player_left(std::uint64_t match_id, PlayerId player) override;
  void ticked(std::uint64_t match_id, const std::map<PlayerId, PlayerInput>& inputs,
              const World& world) override;
  void match_closed(std::uint64_t match_id) override;

  // Read on the tick's thread (the writer thread never changes them).
  const RecordingStats& stats() const { return stats_; }
  const std::filesystem::path& directory() const { return directory_; }
  // CPU time the writer thread spent making and writing chunks. Any thread.
  double writer_cpu_seconds() const;

 private:
  struct Recording;
  class Writer;
  explicit MatchRecorder(const RecordingConfig& config);
  void give_up(std::uint64_t match_id);
  // Ends a recording whose writer is idle: its replay buffers kept for the next match.
  void close(std::map<std::uint64_t, std::unique_ptr<Recording>>::iterator found);

  RecordingConfig config_;
  std::filesystem::path directory_;
  std::map<std::uint64_t, std::unique_ptr<Recording>> recordings_;  // by match id
  // Finished recordings' buffers, for the next matches' (tickwire::sim::ReplayBuffers).
  std::vector<tickwire::sim::ReplayBuffers> spare_buffers_;
  RecordingStats stats_;
  std::unique_ptr<Writer> writer_;  // last: stopped before the recordings it writes go
};

// Deletes the oldest replays in `directory` beyond the newest `keep` (by name: names start with
// the UTC time the match began). Returns how many it deleted.
std::size_t prune_replays(const std::filesystem::path& directory, std::size_t keep);

}  // namespace arena
