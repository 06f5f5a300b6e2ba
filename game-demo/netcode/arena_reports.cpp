// ArenaServer's bug reports: a player's client sends a PNG of what they saw over the game
// connection (FileTransfer on kReportChannel), and the server keeps it under a name that says
// which match, tick and player it is from, next to the match's replay.

#include <algorithm>
#include <array>
#include <fstream>
#include <system_error>

#include "arena_match_state.hpp"
#include "arena_server.hpp"
#include "match_files.hpp"

namespace arena {
namespace {

namespace net = tickwire::net;
namespace fs = std::filesystem;

constexpr std::string_view kReportExtension = ".png";
constexpr char kIncomingFolder[] = "incoming";
constexpr std::array<char, 8> kPngSignature = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};

bool starts_as_png(const fs::path& path) {
  std::array<char, kPngSignature.size()> head{};
  std::ifstream in(path, std::ios::binary);
  return in.read(head.data(), head.size()) && head == kPngSignature;
}

}  // namespace

bool is_report_file_name(std::string_view name) {
  if (name.size() > 160 || !name.ends_with(kReportExtension) ||
      name.find("-match-") == std::string_view::npos ||
      name.find("-tick-") == std::string_view::npos) {
    return false;
  }
  const std::string_view stem = name.substr(0, name.size() - kReportExtension.size());
  return std::all_of(stem.begin(), stem.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

net::Result<std::unique_ptr<net::FileTransfer>> ArenaServer::make_report_receiver(
    net::ServerTransport& transport, const ServerConfig& config) {
  constexpr std::uint64_t kMaxReportBytes = 64ull * 1024 * 1024;
  if (config.max_report_bytes < 1024 || config.max_report_bytes > kMaxReportBytes) {
    return net::Status::error("max_report_bytes = " + std::to_string(config.max_report_bytes) +
                              " is invalid: use 1024..67108864");
  }
  if (config.keep_reports < 1 || config.keep_reports > 100'000) {
    return net::Status::error("keep_reports = " + std::to_string(config.keep_reports) +
                              " is invalid: use 1..100000");
  }
  net::FileTransferConfig transfers;
  transfers.channel = kReportChannel;
  // A report is one at a time per player; one that a dropped connection cut short is gone (the
  // player presses the key again), so nothing waits for a resume.
  transfers.max_transfers_per_peer = 1;
  transfers.resume_timeout_ms = 0;
  transfers.receive.accept = !config.reports_directory.empty();
  transfers.receive.max_file_size = config.max_report_bytes;
  transfers.receive.allowed_kinds = {kBugReportKind};
  transfers.receive.require_ticket = true;
  if (!config.reports_directory.empty()) {
    std::error_code error;
    fs::create_directories(config.reports_directory, error);
    if (error) {
      return net::Status::error("reports_directory '" + config.reports_directory +
                                "' cannot be made: " + error.message());
    }
    // Files arrive under the names their senders chose: in a folder of their own, so that no
    // name can replace a kept report, and each moves out as soon as it is complete.
    transfers.receive_directory = fs::path(config.reports_directory) / kIncomingFolder;
    fs::create_directories(transfers.receive_directory, error);
    if (error) {
      return net::Status::error("reports_directory '" + config.reports_directory +
                                "': its incoming folder cannot be made: " + error.message());
    }
  }
  auto made = net::FileTransfer::create(transport, std::move(transfers));
  if (!made) return net::Status::error("bug reports: " + made.error());
  return made;
}

void ArenaServer::take_reports() {
  net::TransferEvent event;
  while (reports_->poll(event)) {
    if (event.direction != net::TransferDirection::receiving) continue;  // it sends nothing
    const auto origin =
        std::find_if(report_origins_.begin(), report_origins_.end(),
                     [&](const ReportOrigin& known) { return known.id == event.id; });
    switch (event.type) {
      case net::TransferEventType::started: {
        const auto found = seats_.find(event.peer);
        if (found == seats_.end() || origin != report_origins_.end()) break;
        const Seat& seat = found->second;
        ReportOrigin report{
            .id = event.id, .match_id = seat.match->id, .tick = seat.match->world.tick()};
        report.lobby_player_id =
            seat.player != nullptr ? seat.player->lobby_player_id : seat.spectator->lobby_player_id;
        report_origins_.push_back(report);
        break;
      }
      case net::TransferEventType::completed:
        if (origin != report_origins_.end()) {
          file_report(event, *origin);
          report_origins_.erase(origin);
        }
        break;
      case net::TransferEventType::failed:
        ++stats_.reports_failed;
        if (origin != report_origins_.end()) report_origins_.erase(origin);
        break;
      case net::TransferEventType::progress:
      case net::TransferEventType::interrupted:
        break;
    }
  }
}

void ArenaServer::file_report(const net::TransferEvent& completed, const ReportOrigin& origin) {
  std::error_code error;
  // The client's word that it is an image is not taken: what is kept must open as one.
  if (!starts_as_png(completed.path)) {
    fs::remove(completed.path, error);
    ++stats_.reports_failed;
    return;
  }
  const fs::path directory(config_.reports_directory);
  const fs::path kept =
      directory / (match_file_stem(origin.match_id, std::chrono::system_clock::now()) + "-tick-" +
                   std::to_string(origin.tick) + "-player-" +
                   std::to_string(origin.lobby_player_id) + std::string(kReportExtension));
  fs::rename(completed.path, kept, error);
  if (error) {
    fs::remove(completed.path, error);
    ++stats_.reports_failed;
    return;
  }
  ++stats_.reports_received;
  prune_oldest(directory, config_.keep_reports, &is_report_file_name);
  if (config_.on_report) config_.on_report(kept);
}

}  // namespace arena
