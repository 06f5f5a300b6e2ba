#include "match_recorder.hpp"

#include <sys/file.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "arena_replay.hpp"
#include "match_files.hpp"
#include "replay_salvage.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace sim = tickwire::sim;
namespace fs = std::filesystem;

}  // namespace

net::Status RecordingConfig::validate() const {
  if (directory.empty()) return net::Status::error("recording.directory is empty: name a folder");
  if (hash_every_ticks < 1) {
    return net::Status::error("recording.hash_every_ticks = 0 is invalid: use >= 1");
  }
  // The engine's own rule for chunks, so that the two never disagree.
  if (net::Status valid = sim::ReplayRecorderConfig{.ticks_per_chunk = ticks_per_chunk}.validate();
      !valid.ok())
    return net::Status::error("recording." + valid.message());
  return {};
}

namespace {

// Hands whole chunks (a few hundred KiB every few seconds) to the kernel at once, so that they
// survive the process being killed: write(2)s to the page cache, no fsync, so nobody waits for
// the disk. The recorder's pieces go through stdio's buffer (a chunk's is passed straight
// through), flushed once they are all in.
bool append(std::FILE* file, sim::ReplayRecorder& recorder, bool finish = false) {
  bool any = false;
  const auto write = [&](std::span<const std::byte> bytes) {
    any = true;
    return std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  };
  const bool written = finish ? recorder.finish(write) : recorder.write_pending(write);
  return written && (!any || std::fflush(file) == 0);
}

// At most this many finished recordings' buffers are kept for later matches (each about a
// chunk: 400 KB at 64 players).
constexpr std::size_t kSpareReplayBuffers = 4;

// Ticks encoded on the tick's thread, for the writer to record. A batch goes to the writer once
// it holds this many bytes (or a chunk's ticks), so that the few batches going back and forth
// between the threads are paged in within the match's first seconds: batches of a whole chunk
// (400 KB at 64 players) stayed fresh memory, a page fault per 4 KiB of ticks, for the first
// chunks of every match.
constexpr std::size_t kBatchBytes = 32 * 1024;
struct TickBatch {
  struct Tick {
    std::uint32_t tick;
    std::uint64_t state_hash;
    std::size_t offset, size;  // in bytes
  };
  std::vector<Tick> ticks;
  std::vector<std::byte> bytes;
};

}  // namespace

struct MatchRecorder::Recording {
  Recording(sim::ReplayRecorder r, std::FILE* f, fs::path p, fs::path part)
      : recorder(std::move(r)), file(f), path(std::move(p)), part_path(std::move(part)) {}
  // The writer thread's while the match runs; the tick's thread's once the writer is idle (at
  // the start, the close and a give-up).
  sim::ReplayRecorder recorder;
  std::FILE* file;
  fs::path path, part_path;
  std::atomic<bool> failed{false};  // set by the writer: a record refused or a write failed
  // The tick's thread's.
  ReplayStep pending;      // joins and leaves since the last tick, then the tick's inputs
  TickInputs last_inputs;  // of the tick before
  flatbuffers::FlatBufferBuilder builder{1024};  // reused every tick
  TickBatch batch;                               // ticks not yet handed to the writer
  sim::WorldState hashed;  // the last state hashed: its buffers hold the next one
};

// One thread that records and writes the batches handed to it, in order.
class MatchRecorder::Writer {
 public:
  Writer() : thread_([this] { run(); }) {}
  ~Writer() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void post(Recording& recording, TickBatch batch) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({&recording, std::move(batch)});
    }
    wake_.notify_one();
  }

  // A batch to fill: one the writer is done with (its buffers already grown and paged in: fresh
  // memory costs a page fault per 4 KiB, about 10 us each on a virtual machine), or a new one.
  TickBatch spare_batch() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return {};
    TickBatch batch = std::move(spare_.back());
    spare_.pop_back();
    return batch;
  }

  // Returns once every batch posted so far is written (or refused).
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return jobs_.empty() && !busy_; });
  }

  double cpu_seconds() const { return static_cast<double>(cpu_ns_.load()) / 1e9; }

 private:
  struct Job {
    Recording* recording;
    TickBatch batch;
  };

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
      lock.unlock();
      const auto began = thread_cpu_ns();
      write(*job.recording, job.batch);
      cpu_ns_ += thread_cpu_ns() - began;
      job.batch.ticks.clear();
      job.batch.bytes.clear();
      lock.lock();
      // A few spares are enough: the tick's thread takes one per batch it posts.
      if (spare_.size() < kSpareBatches) spare_.push_back(std::move(job.batch));
      busy_ = false;
      if (jobs_.empty()) idle_.notify_all();
    }
  }

  void write(Recording& recording, const TickBatch& batch) {
    if (recording.failed) return;
    const std::span<const std::byte> bytes(batch.bytes);
    for (const TickBatch::Tick& tick : batch.ticks) {
      // Each chunk is written as soon as its last tick is in, from where it was built.
      if (!recording.recorder.record(tick.tick, bytes.subspan(tick.offset, tick.size),
                                     tick.state_hash) ||
          !append(recording.file, recording.recorder)) {
        recording.failed = true;
        return;
      }
    }
  }

  static std::uint64_t thread_cpu_ns() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(now.tv_nsec);
  }

  std::mutex mutex_;
  std::condition_variable wake_;  // a job came, or the writer is closing
  std::condition_variable idle_;  // the last job queued is done
  std::deque<Job> jobs_;
  static constexpr std::size_t kSpareBatches = 4;
  std::vector<TickBatch> spare_;
  bool busy_ = false;
  bool closing_ = false;
  std::atomic<std::uint64_t> cpu_ns_{0};
  std::thread thread_;  // last: it starts once the rest is ready
};

net::Result<std::shared_ptr<MatchRecorder>> MatchRecorder::make(const RecordingConfig& config) {
  if (auto status = config.validate(); !status) return status;
  std::error_code error;
  fs::create_directories(config.directory, error);
  if (error) {
    return net::Status::error("recording.directory = \"" + config.directory +
                              "\" cannot be created: " + error.message());
  }
  std::shared_ptr<MatchRecorder> recorder(new MatchRecorder(config));
  // No recording of this recorder runs yet: a ".part" here is another process's, and one that
  // no process holds any more was cut short.
  const SalvageCounts salvage = salvage_interrupted_recordings(recorder->directory_);
  recorder->stats_.replays_salvaged = salvage.salvaged;
  recorder->stats_.interrupted_removed = salvage.removed;
  if (config.keep_newest != 0 && salvage.salvaged != 0)
    recorder->stats_.replays_pruned += prune_replays(recorder->directory_, config.keep_newest);
  return recorder;
}

MatchRecorder::MatchRecorder(const RecordingConfig& config)
    : config_(config), directory_(config.directory), writer_(std::make_unique<Writer>()) {}

MatchRecorder::~MatchRecorder() {
  // Matches still running when the server stops end their replays here, so they are kept.
  while (!recordings_.empty())
    match_closed(recordings_.begin()->first);
}

void MatchRecorder::match_began(std::uint64_t match_id, const Config& rules) {
  const auto now = std::chrono::system_clock::now();
  sim::ReplayInfo info;
  info.game = kReplayGame;
  info.game_version = kReplayRulesVersion;
  info.match_id = match_id;
  info.tick_rate_hz = rules.tick_rate_hz;
  info.started_unix_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  info.initial_state = encode_replay_rules(rules);
  sim::ReplayBuffers buffers;
  if (!spare_buffers_.empty()) {
    buffers = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  auto recorder = sim::ReplayRecorder::make(
      std::move(info), {.ticks_per_chunk = config_.ticks_per_chunk}, std::move(buffers));
  if (!recorder) {
    ++stats_.write_errors;
    return;
  }
  const std::string stem = match_file_stem(match_id, now);
  fs::path path = directory_ / (stem + std::string(kReplayFileExtension));
  fs::path part = directory_ / (stem + std::string(kReplayFileExtension) + ".part");
  std::FILE* file = std::fopen(part.c_str(), "wbe");
  if (file == nullptr) {
    ++stats_.write_errors;
    return;
  }
  // Held while the match runs, so that a server starting on the same folder does not take the
  // file for one a dead server left (salvage_interrupted_recordings). Released with the file,
  // also when this process dies.
  (void)::flock(::fileno(file), LOCK_EX | LOCK_NB);
  auto recording = std::make_unique<Recording>(std::move(recorder.value()), file, std::move(path),
                                               std::move(part));
  recording->batch.ticks.reserve(config_.ticks_per_chunk);
  if (!append(recording->file, recording->recorder)) {
    std::fclose(recording->file);
    std::error_code ignored;
    fs::remove(recording->part_path, ignored);
    ++stats_.write_errors;
    return;
  }
  recordings_[match_id] = std::move(recording);
}

void MatchRecorder::player_joined(std::uint64_t match_id, PlayerId player) {
  const auto found = recordings_.find(match_id);
  if (found != recordings_.end()) found->second->pending.membership.push_back({player, true});
}

void MatchRecorder::player_left(std::uint64_t match_id, PlayerId player) {
  const auto found = recordings_.find(match_id);
  if (found != recordings_.end()) found->second->pending.membership.push_back({player, false});
}

void MatchRecorder::ticked(std::uint64_t match_id, const std::map<PlayerId, PlayerInput>& inputs,
                           const World& world) {
  const auto found = recordings_.find(match_id);
  if (found == recordings_.end()) return;
  Recording& recording = *found->second;
  if (recording.failed) {
    give_up(match_id);
    return;
  }
  diff_inputs(recording.last_inputs, inputs, recording.pending);
  recording.last_inputs.assign(inputs.begin(), inputs.end());
  const auto data = encode_replay_step(recording.pending, recording.builder);
  recording.pending.membership.clear();
  // The hash lets a playback prove it reproduced the match (and find where it did not).
  std::uint64_t hash = 0;
  if (world.tick() % config_.hash_every_ticks == 0) {
    recording.hashed = world.state(std::move(recording.hashed));
    hash = recording.hashed.hash();
  }
  TickBatch& batch = recording.batch;
  batch.ticks.push_back(
      {static_cast<std::uint32_t>(world.tick()), hash, batch.bytes.size(), data.size()});
  batch.bytes.insert(batch.bytes.end(), data.begin(), data.end());
  if (batch.bytes.size() >= kBatchBytes || batch.ticks.size() >= config_.ticks_per_chunk) {
    // The next batch's ticks take about as much room as this one's.
    TickBatch next = writer_->spare_batch();
    next.ticks.reserve(batch.ticks.size());
    next.bytes.reserve(batch.bytes.size());
    writer_->post(recording, std::exchange(batch, std::move(next)));
  }
}

void MatchRecorder::match_closed(std::uint64_t match_id) {
  const auto found = recordings_.find(match_id);
  if (found == recordings_.end()) return;
  Recording& recording = *found->second;
  if (!recording.batch.ticks.empty()) writer_->post(recording, std::move(recording.batch));
  writer_->wait_idle();
  if (recording.failed) {
    give_up(match_id);
    return;
  }
  const bool written = append(recording.file, recording.recorder, /*finish=*/true);
  const bool closed = std::fclose(recording.file) == 0;
  recording.file = nullptr;
  std::error_code error;
  if (written && closed) fs::rename(recording.part_path, recording.path, error);
  const bool stored = written && closed && !error;
  if (!stored) {
    fs::remove(recording.part_path, error);
    ++stats_.write_errors;
  } else {
    ++stats_.replays_written;
  }
  const fs::path path = recording.path;
  close(found);
  if (config_.keep_newest != 0)
    stats_.replays_pruned += prune_replays(directory_, config_.keep_newest);
  if (stored && config_.on_replay_written) config_.on_replay_written(path);
}

void MatchRecorder::close(std::map<std::uint64_t, std::unique_ptr<Recording>>::iterator found) {
  if (spare_buffers_.size() < kSpareReplayBuffers)
    spare_buffers_.push_back(found->second->recorder.take_buffers());
  recordings_.erase(found);
}

double MatchRecorder::writer_cpu_seconds() const {
  return writer_->cpu_seconds();
}

void MatchRecorder::give_up(std::uint64_t match_id) {
  const auto found = recordings_.find(match_id);
  if (found == recordings_.end()) return;
  writer_->wait_idle();  // the writer may still hold the file
  std::fclose(found->second->file);
  std::error_code ignored;
  fs::remove(found->second->part_path, ignored);
  ++stats_.write_errors;
  close(found);
}

std::size_t prune_replays(const fs::path& directory, std::size_t keep) {
  return prune_oldest(directory, keep, &is_replay_file_name);
}

}  // namespace arena
