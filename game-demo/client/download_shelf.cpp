#include "download_shelf.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <tickwire/net/lobby.hpp>

namespace arena::client {
namespace {

namespace net = tickwire::net;

constexpr int kRowHeight = 24;
// The list is small JSON (at most the lobby's max_replays_listed or max_files_listed entries).
constexpr std::uint64_t kMaxListBytes = 1024 * 1024;

std::string mebibytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

ShelfKind replay_shelf_kind() {
  return {.title = "Recent replays",
          .list_target = "/api/replays",
          .url_prefix = "/replays/",
          .is_name = &net::is_replay_file_name,
          .what = "replay",
          .none = "none recorded yet",
          .after_save = ": play it with tickwire-client --replay FILE"};
}

ShelfKind file_shelf_kind() {
  return {.title = "Server files",
          .list_target = "/api/files",
          .url_prefix = "/files/",
          .is_name = &net::is_served_file_name,
          .what = "file",
          .none = "none offered",
          .after_save = ""};
}

std::vector<Listing> parse_listing(const std::string& json, bool (*is_name)(std::string_view)) {
  // The lobby's own format ({"<key>":[{"name":"...","bytes":N,...},...]}): served names carry
  // nothing to escape, so a scan for the two keys of each entry is enough.
  std::vector<Listing> listings;
  constexpr std::string_view kName = "\"name\":\"";
  constexpr std::string_view kBytes = "\"bytes\":";
  std::size_t at = 0;
  while ((at = json.find(kName, at)) != std::string::npos) {
    at += kName.size();
    const std::size_t end = json.find('"', at);
    if (end == std::string::npos) break;
    Listing listing;
    listing.name = json.substr(at, end - at);
    const std::size_t bytes = json.find(kBytes, end);
    const std::size_t next = json.find(kName, end);
    if (bytes != std::string::npos && bytes < next) {
      std::size_t digit = bytes + kBytes.size();
      while (digit < json.size() && json[digit] >= '0' && json[digit] <= '9' &&
             listing.bytes < (1ull << 50))
        listing.bytes = listing.bytes * 10 + static_cast<std::uint64_t>(json[digit++] - '0');
    }
    if (is_name(listing.name)) listings.push_back(std::move(listing));
    at = end;
  }
  return listings;
}

net::HttpFetchConfig DownloadShelf::fetch_config(std::string target) const {
  net::HttpFetchConfig config;
  config.host = session_.lobby_host();
  config.port = session_.lobby_port();
  config.target = std::move(target);
  net::WebSocketClientConfig websocket;
  apply_lobby_tls(session_.lobby_tls(), websocket);
  config.transport_security = websocket.transport_security;
  config.tls = websocket.tls;
  return config;
}

void DownloadShelf::start_list() {
  net::HttpFetchConfig config = fetch_config(kind_.list_target);
  config.max_bytes = kMaxListBytes;
  auto fetch = net::HttpFetch::start(config);
  if (!fetch) {
    list_error_ = fetch.error();
    return;
  }
  list_fetch_ = std::move(fetch.value());
  listed_from_ = session_.lobby_address();
}

void DownloadShelf::start_download(const Listing& listing) {
  std::error_code error;
  std::filesystem::create_directories(download_dir_, error);
  net::HttpFetchConfig config = fetch_config(kind_.url_prefix + listing.name);
  config.save_to = download_dir_ + "/" + listing.name;
  auto fetch = net::HttpFetch::start(config);
  downloading_ = listing.name;
  if (!fetch) {
    download_note_ = fetch.error();
    download_failed_ = true;
    return;
  }
  download_ = std::move(fetch.value());
  download_note_.clear();
  download_failed_ = false;
}

void DownloadShelf::poll(Clock::time_point now) {
  const net::LobbyClient* lobby = session_.lobby();
  const bool reachable = lobby != nullptr && session_.lobby_port() != 0 &&
                         lobby->state() != net::LobbyClientState::disconnected &&
                         lobby->state() != net::LobbyClientState::connecting;
  if (session_.lobby_address() != listed_from_) {
    listings_.clear();
    listed_ = false;
    next_list_ = {};
  }
  if (reachable && !list_fetch_ && now >= next_list_) start_list();
  if (list_fetch_) {
    const net::HttpFetch::Progress progress = list_fetch_->progress();
    if (progress.state != net::HttpFetch::State::running) {
      if (progress.state == net::HttpFetch::State::done) {
        listings_ = parse_listing(list_fetch_->body(), kind_.is_name);
        listed_ = true;
        list_error_.clear();
        if (!printed_list_) {
          printed_list_ = true;
          std::printf("tickwire-client: %zu %s(s) listed by the lobby:", listings_.size(),
                      kind_.what.c_str());
          for (const Listing& listing : listings_)
            std::printf(" %s", listing.name.c_str());
          std::printf("\n");
          std::fflush(stdout);
        }
        for (const Listing& listing : listings_) {
          if (!auto_download_.empty() && listing.name == auto_download_ && !download_) {
            auto_download_.clear();
            start_download(listing);
          }
        }
      } else if (progress.status == 404) {
        // A lobby without this folder (no --replay-dir, no --files-dir): nothing to list.
        listings_.clear();
        listed_ = true;
        list_error_.clear();
      } else {
        list_error_ = progress.error;
      }
      list_fetch_.reset();
      next_list_ = now + kRefreshPeriod;
    }
  }
  if (download_) {
    const net::HttpFetch::Progress progress = download_->progress();
    if (progress.state == net::HttpFetch::State::done) {
      download_note_ = "saved " + download_dir_ + "/" + downloading_ + kind_.after_save;
      std::printf("tickwire-client: %s saved to %s/%s\n", kind_.what.c_str(), download_dir_.c_str(),
                  downloading_.c_str());
      std::fflush(stdout);
      download_.reset();
    } else if (progress.state != net::HttpFetch::State::running) {
      download_note_ = "download failed: " + progress.error;
      download_failed_ = true;
      download_.reset();
    }
  }
}

void DownloadShelf::frame(Ui& ui, const Box& area) {
  const Clock::time_point now = Clock::now();
  poll(now);
  TextRenderer& text = ui.text();
  int y = area.y;
  text.draw(kind_.title, area.x, y, palette::accent);
  if (ui.button({area.x + area.w - 90, y - 4, 90, 26}, "Refresh", !list_fetch_)) next_list_ = {};
  y += 30;

  // The bottom three lines: the download under way (bar) or its outcome.
  const int note_top = area.y + area.h - 3 * text.line_height(FontSize::small) - 8;
  if (!list_error_.empty()) {
    text.draw("list: " + list_error_, area.x, y, palette::error, FontSize::small);
    y += text.line_height(FontSize::small);
  } else if (!listed_) {
    text.draw("asking the lobby...", area.x, y, palette::text_dim, FontSize::small);
  } else if (listings_.empty()) {
    text.draw(kind_.none, area.x, y, palette::text_dim, FontSize::small);
  }
  for (const Listing& listing : listings_) {
    if (y + kRowHeight > note_top) break;
    const Box row{area.x, y, area.w, kRowHeight - 2};
    const bool current = download_ && downloading_ == listing.name;
    if (ui.list_row(row, current) && !download_) start_download(listing);
    text.draw(listing.name, row.x + 6, row.y + 3, palette::text, FontSize::small);
    text.draw_right(mebibytes(listing.bytes), row.x + row.w - 6, row.y + 3, palette::text_dim,
                    FontSize::small);
    y += kRowHeight;
  }

  int note_y = note_top;
  if (download_) {
    const net::HttpFetch::Progress progress = download_->progress();
    const Box bar{area.x, note_y, area.w, 14};
    ui.fill(bar, palette::floor);
    ui.outline(bar, palette::panel_edge);
    if (progress.total > 0) {
      const double done =
          std::min(1.0, static_cast<double>(progress.bytes) / static_cast<double>(progress.total));
      ui.fill({bar.x + 1, bar.y + 1, static_cast<int>((bar.w - 2) * done), bar.h - 2},
              palette::accent);
    }
    note_y += 18;
    text.draw(downloading_ + "  " + mebibytes(progress.bytes) +
                  (progress.total > 0 ? " of " + mebibytes(progress.total) : std::string()),
              area.x, note_y, palette::text_dim, FontSize::small);
  } else if (!download_note_.empty()) {
    for (const std::string& line : text.wrap(download_note_, area.w, FontSize::small)) {
      if (note_y + text.line_height(FontSize::small) > area.y + area.h) break;
      text.draw(line, area.x, note_y, download_failed_ ? palette::error : palette::good,
                FontSize::small);
      note_y += text.line_height(FontSize::small);
    }
  } else {
    text.draw("click a " + kind_.what + " to download it", area.x, note_y, palette::text_dim,
              FontSize::small);
  }
}

}  // namespace arena::client
