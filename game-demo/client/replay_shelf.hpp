#pragma once
// The lobby screen's list of recent replays: fetched from the lobby's GET /api/replays (again
// on Refresh, and every kRefreshPeriod), each row a replay; a click downloads it
// (GET /replays/NAME) into the download folder with a progress bar, off the render thread
// (tickwire::net::HttpFetch). A finished file is whole (it appears under its name only once the
// last byte arrived) and plays with tickwire-client --replay FILE.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tickwire/net/http_fetch.hpp>

#include "lobby_session.hpp"
#include "ui.hpp"

namespace arena::client {

struct ReplayListing {
  std::string name;  // checked: letters, digits, '-' and '_' then .twreplay
  std::uint64_t bytes = 0;
};

// The replays in a /api/replays answer, in its order; entries whose name is not a replay's are
// left out (the name becomes a local file name).
std::vector<ReplayListing> parse_replay_list(const std::string& json);

class ReplayShelf {
 public:
  // `auto_download`: a replay to download as soon as the list shows it, as if clicked (for
  // scripts and tests; empty: none).
  ReplayShelf(LobbySession& session, std::string download_dir, std::string auto_download = {})
      : session_(session),
        download_dir_(std::move(download_dir)),
        auto_download_(std::move(auto_download)) {}

  // Draws the list into `area` and acts on this frame's clicks; polls the fetches under way.
  void frame(Ui& ui, const Box& area);

  // What the list holds now (for --print-replays and tests).
  const std::vector<ReplayListing>& replays() const { return replays_; }
  bool listed() const { return listed_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kRefreshPeriod = std::chrono::seconds(10);

  tickwire::net::HttpFetchConfig fetch_config(std::string target) const;
  void poll(Clock::time_point now);
  void start_list();
  void start_download(const ReplayListing& replay);

  LobbySession& session_;
  std::string download_dir_;
  std::string auto_download_;  // cleared once started
  bool printed_list_ = false;  // the first list goes to stdout too, for scripts
  std::unique_ptr<tickwire::net::HttpFetch> list_fetch_;
  std::vector<ReplayListing> replays_;
  bool listed_ = false;
  std::string list_error_;
  Clock::time_point next_list_{};
  std::string listed_from_;  // the lobby address the list is of
  std::unique_ptr<tickwire::net::HttpFetch> download_;
  std::string downloading_;  // its replay's name
  std::string download_note_;
  bool download_failed_ = false;
};

}  // namespace arena::client
