#pragma once
// A list of files the lobby serves, on the lobby screen: fetched from its JSON list (again on
// Refresh, and every kRefreshPeriod), each row a file; a click downloads it into the download
// folder with a progress bar, off the render thread (tickwire::net::HttpFetch). A finished file
// is whole (it appears under its name only once the last byte arrived). Two shelves use it: the
// recent replays (GET /api/replays, /replays/NAME; a download plays with tickwire-client
// --replay FILE) and the operator's files (GET /api/files, /files/NAME: maps, mod packs).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tickwire/net/http_fetch.hpp>

#include "lobby_session.hpp"
#include "ui.hpp"

namespace arena::client {

// What one shelf lists and how it speaks of it.
struct ShelfKind {
  std::string title;        // "Recent replays"
  std::string list_target;  // the JSON list: "/api/replays"
  std::string url_prefix;   // a file's download: "/replays/" + NAME
  // The lobby's rule for the folder's names, checked again here: a name becomes a local file name.
  bool (*is_name)(std::string_view);
  std::string what;        // "replay": for the lines printed and shown
  std::string none;        // shown when the list is empty: "none recorded yet"
  std::string after_save;  // appended to the "saved FILE" note (how to use it), or empty
};
ShelfKind replay_shelf_kind();
ShelfKind file_shelf_kind();

struct Listing {
  std::string name;  // checked by the shelf's ShelfKind::is_name
  std::uint64_t bytes = 0;
};

// The entries of a lobby's list answer ({"<key>":[{"name":"...","bytes":N,...},...]}), in its
// order; entries whose name fails `is_name` are left out.
std::vector<Listing> parse_listing(const std::string& json, bool (*is_name)(std::string_view));

class DownloadShelf {
 public:
  // `auto_download`: a file to download as soon as the list shows it, as if clicked (for
  // scripts and tests; empty: none).
  DownloadShelf(ShelfKind kind, LobbySession& session, std::string download_dir,
                std::string auto_download = {})
      : kind_(std::move(kind)),
        session_(session),
        download_dir_(std::move(download_dir)),
        auto_download_(std::move(auto_download)) {}

  // Draws the list into `area` and acts on this frame's clicks; polls the fetches under way.
  void frame(Ui& ui, const Box& area);

  // What the list holds now (for tests).
  const std::vector<Listing>& listings() const { return listings_; }
  bool listed() const { return listed_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kRefreshPeriod = std::chrono::seconds(10);

  tickwire::net::HttpFetchConfig fetch_config(std::string target) const;
  void poll(Clock::time_point now);
  void start_list();
  void start_download(const Listing& listing);

  ShelfKind kind_;
  LobbySession& session_;
  std::string download_dir_;
  std::string auto_download_;  // cleared once started
  bool printed_list_ = false;  // the first list goes to stdout too, for scripts
  std::unique_ptr<tickwire::net::HttpFetch> list_fetch_;
  std::vector<Listing> listings_;
  bool listed_ = false;
  std::string list_error_;
  Clock::time_point next_list_{};
  std::string listed_from_;  // the lobby address the list is of
  std::unique_ptr<tickwire::net::HttpFetch> download_;
  std::string downloading_;  // its file's name
  std::string download_note_;
  bool download_failed_ = false;
};

}  // namespace arena::client
