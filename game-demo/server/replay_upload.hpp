#pragma once
// A game server's replays sent to its lobby (--role game --lobby ... --replay-upload-token FILE),
// so that a fleet's lobby lists every match its game servers recorded: PUT /replays/NAME over the
// lobby's HTTP(S) port, with a bearer token from the lobby's --upload-tokens file.
//
// The game server's replay folder is the outbox: a replay stays there until the lobby has stored
// it (201), then the local copy is deleted. A refusal a retry cannot change (401, 403, 400, 409,
// 413, 415: a wrong token, a name the lobby has already) keeps the local copy and gives up on it
// until the next start; anything else (the lobby away, 5xx, a cut connection) is retried with
// backoff. At start every replay already in the folder is sent: those a stop or a crash kept from
// going, and recordings salvaged after a crash. One upload at a time, on HttpFetch's thread: the
// tick's thread only looks at its progress.

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include <tickwire/net/http_fetch.hpp>
#include <tickwire/net/status.hpp>

#include "lobby_tls.hpp"

namespace arena {

struct ReplayUploadConfig {
  std::string lobby_host;  // the lobby's HTTP(S) port: the same as its WebSocket's
  std::uint16_t lobby_port = 7700;
  LobbyTlsOptions lobby_tls;        // as the game server's link to its lobby
  std::string token;                // a secret: from a file, never a flag
  std::filesystem::path directory;  // the replay folder (the outbox)
  // Wait before the first retry of an upload that failed, in milliseconds, doubled each time up
  // to max_retry_ms. Defaults 1000 and 60000.
  std::uint32_t first_retry_ms = 1000;
  std::uint32_t max_retry_ms = 60000;
};

struct ReplayUploadStats {
  std::uint64_t uploaded = 0;  // stored by the lobby, local copy deleted
  std::uint64_t refused = 0;   // refused for good (kept locally)
  std::uint64_t retries = 0;   // failed attempts to be tried again
};

class ReplayUploader {
 public:
  // Reads the token: the first of the file's tokens (the file is written like the lobby's
  // --upload-tokens file).
  static tickwire::net::Result<std::unique_ptr<ReplayUploader>> make(ReplayUploadConfig config,
                                                                     const std::string& token_file);

  // Queues every replay already in the folder, oldest first (once, at start: after the recorder
  // salvaged what a crash left).
  void add_waiting();
  // A replay just finished (its final name), to send after those queued.
  void add(const std::filesystem::path& replay);
  // Starts, checks and retries uploads. Call once per loop; cheap when idle.
  void poll();

  bool idle() const { return queue_.empty(); }
  const ReplayUploadStats& stats() const { return stats_; }

 private:
  explicit ReplayUploader(ReplayUploadConfig config);
  void start_front();
  void finish_front(const tickwire::net::HttpFetch::Progress& progress);

  ReplayUploadConfig config_;
  std::deque<std::filesystem::path> queue_;
  std::unique_ptr<tickwire::net::HttpFetch> upload_;  // of queue_.front(), while running
  std::chrono::milliseconds retry_delay_;
  std::chrono::steady_clock::time_point next_attempt_{};
  ReplayUploadStats stats_;
};

}  // namespace arena
