// ReplayUploader: one PUT at a time from the replay folder to the lobby, with backoff.

#include "replay_upload.hpp"

#include <algorithm>
#include <cstdio>
#include <system_error>
#include <vector>

#include <tickwire/net/lobby.hpp>

namespace arena {

namespace net = tickwire::net;
namespace fs = std::filesystem;

// Each line is flushed at once: stdout to a log file is fully buffered, and these lines come
// seconds apart.

namespace {

// Answers that the same request will get again: give up on the replay (and keep it).
bool refused_for_good(int status) {
  return status == 400 || status == 401 || status == 403 || status == 409 || status == 413 ||
         status == 415;
}

}  // namespace

net::Result<std::unique_ptr<ReplayUploader>> ReplayUploader::make(ReplayUploadConfig config,
                                                                  const std::string& token_file) {
  auto tokens = net::read_upload_tokens(token_file);
  if (!tokens) return net::Status::error(tokens.error());
  if (tokens.value().empty()) {
    return net::Status::error(token_file +
                              " holds no token: put one of the lobby's "
                              "--upload-tokens on a line of its own");
  }
  config.token = tokens.value().front();
  return std::unique_ptr<ReplayUploader>(new ReplayUploader(std::move(config)));
}

void ReplayUploader::add_waiting() {
  std::vector<fs::path> waiting;
  std::error_code error;
  for (fs::directory_iterator it(config_.directory, error), end; !error && it != end;
       it.increment(error)) {
    if (net::is_replay_file_name(it->path().filename().string()) && it->is_regular_file(error) &&
        !it->is_symlink(error)) {
      waiting.push_back(it->path());
    }
  }
  std::sort(waiting.begin(), waiting.end());  // oldest first: names start with the time
  for (fs::path& replay : waiting)
    queue_.push_back(std::move(replay));
}

ReplayUploader::ReplayUploader(ReplayUploadConfig config)
    : config_(std::move(config)), retry_delay_(config_.first_retry_ms) {}

void ReplayUploader::add(const fs::path& replay) {
  queue_.push_back(replay);
}

void ReplayUploader::poll() {
  if (upload_) {
    const net::HttpFetch::Progress progress = upload_->progress();
    if (progress.state == net::HttpFetch::State::running) return;
    upload_.reset();
    finish_front(progress);
  }
  if (!queue_.empty() && std::chrono::steady_clock::now() >= next_attempt_) start_front();
}

void ReplayUploader::start_front() {
  while (!queue_.empty()) {
    std::error_code error;
    // Pruned (--keep-replays) or deleted while it waited: nothing to send.
    if (fs::is_regular_file(queue_.front(), error)) break;
    queue_.pop_front();
  }
  if (queue_.empty()) return;
  net::HttpFetchConfig fetch;
  fetch.host = config_.lobby_host;
  fetch.port = config_.lobby_port;
  fetch.target = "/replays/" + queue_.front().filename().string();
  net::WebSocketClientConfig websocket;
  apply_lobby_tls(config_.lobby_tls, websocket);
  fetch.transport_security = websocket.transport_security;
  fetch.tls = websocket.tls;
  fetch.upload_from = queue_.front().string();
  fetch.bearer_token = config_.token;
  fetch.max_bytes = 64 * 1024;  // the answer: a few lines
  auto started = net::HttpFetch::start(fetch);
  if (!started) {
    // An invalid config or CA file: no retry makes it work.
    std::printf("replay upload: %s\n", started.error().c_str());
    std::fflush(stdout);
    ++stats_.refused;
    queue_.pop_front();
    return;
  }
  upload_ = std::move(started.value());
}

void ReplayUploader::finish_front(const net::HttpFetch::Progress& progress) {
  const fs::path replay = queue_.front();
  const std::string name = replay.filename().string();
  if (progress.state == net::HttpFetch::State::done) {
    std::error_code error;
    fs::remove(replay, error);
    std::printf("replay upload: %s stored by the lobby (%llu bytes), local copy deleted\n",
                name.c_str(), static_cast<unsigned long long>(progress.sent));
    std::fflush(stdout);
    ++stats_.uploaded;
    queue_.pop_front();
    retry_delay_ = std::chrono::milliseconds(config_.first_retry_ms);
    return;
  }
  if (refused_for_good(progress.status)) {
    std::printf("replay upload: the lobby refused %s (%d), kept in %s\n", name.c_str(),
                progress.status, config_.directory.c_str());
    std::fflush(stdout);
    ++stats_.refused;
    queue_.pop_front();
    return;
  }
  // Retried: the lobby may be restarting or away. A line per attempt: the backoff makes that one
  // a minute at most.
  std::printf("replay upload: %s failed (%s), retrying in %lld ms\n", name.c_str(),
              progress.error.c_str(), static_cast<long long>(retry_delay_.count()));
  std::fflush(stdout);
  ++stats_.retries;
  next_attempt_ = std::chrono::steady_clock::now() + retry_delay_;
  retry_delay_ = std::min(retry_delay_ * 2, std::chrono::milliseconds(config_.max_retry_ms));
}

}  // namespace arena
