#include "lobby_screen.hpp"

#include <cstdio>

#include "chat_view.hpp"

namespace arena::client {
namespace {

namespace net = tickwire::net;

constexpr int kRowHeight = 28;
constexpr int kButtonHeight = 30;

void section_title(Ui& ui, std::string_view title, int x, int y) {
  ui.text().draw(title, x, y, palette::accent);
}

}  // namespace

void LobbyScreen::frame(Ui& ui, int width, int height) {
  ui.fill({0, 0, width, height}, palette::background);
  header(ui, width);
  const int top = 64;
  const int bottom = height - 48;
  const int gap = 20;
  const int column_width = (width - 2 * gap - 2 * 20) / 3;
  for (int i = 0; i < 3; ++i) {
    const Box column{20 + i * (column_width + gap), top, column_width, bottom - top};
    ui.fill(column, palette::panel);
    ui.outline(column, palette::panel_edge);
    const Box inner{column.x + 12, column.y + 10, column.w - 24, column.h - 20};
    if (i == 0) {
      // The replays, then the server's files, take the lower part of the first column, under the
      // LAN servers.
      const int shelf_height = inner.h * 3 / 10;
      player_column(ui, {inner.x, inner.y, inner.w, inner.h - 2 * shelf_height - 20});
      replays_.frame(ui,
                     {inner.x, inner.y + inner.h - 2 * shelf_height - 10, inner.w, shelf_height});
      files_.frame(ui, {inner.x, inner.y + inner.h - shelf_height, inner.w, shelf_height});
    }
    if (i == 1) rooms_column(ui, inner);
    if (i == 2) room_column(ui, inner);
  }
  status_line(ui, width, height);
}

void LobbyScreen::header(Ui& ui, int width) {
  TextRenderer& text = ui.text();
  text.draw("Tickwire Arena", 20, 16, palette::text, FontSize::large);
  std::string connection;
  const net::LobbyClient* lobby = session_.lobby();
  if (lobby == nullptr) {
    connection = session_.waiting_for_lan() ? "waiting for a server on the LAN" : "no lobby";
  } else {
    switch (lobby->state()) {
      case net::LobbyClientState::connecting:
        connection = "connecting to " + session_.lobby_address();
        break;
      case net::LobbyClientState::connected:
        connection = "lobby " + session_.lobby_address() + ": choose a name";
        break;
      case net::LobbyClientState::welcomed: {
        char rtt[32];
        std::snprintf(rtt, sizeof rtt, "%.1f ms", lobby->rtt_ms());
        connection =
            "lobby " + session_.lobby_address() + "  |  " + lobby->nickname() + "  |  rtt " + rtt;
        break;
      }
      case net::LobbyClientState::disconnected:
        connection = "disconnected from " + session_.lobby_address();
        break;
    }
  }
  text.draw_right(connection, width - 20, 24, palette::text_dim);
}

void LobbyScreen::player_column(Ui& ui, const Box& column) {
  TextRenderer& text = ui.text();
  int y = column.y;
  section_title(ui, "Your name", column.x, y);
  y += 26;
  if (!session_.welcomed()) {
    const net::LobbyClient* lobby = session_.lobby();
    const bool open = lobby != nullptr && lobby->state() == net::LobbyClientState::connected;
    const Box field{column.x, y, column.w - 130, kButtonHeight};
    if (!ui.any_focused()) ui.focus("name");  // the one thing to do first: type a name
    bool submit = ui.text_field("name", field, session_.pending_name(), "nickname", 32);
    submit |= ui.button({column.x + column.w - 120, y, 120, kButtonHeight}, "Enter lobby",
                        open && !session_.pending_name().empty());
    if (submit && !session_.pending_name().empty()) {
      session_.hello(session_.pending_name());
      ui.unfocus();
    }
    y += kButtonHeight + 6;
    text.draw("letters, digits, _ and -", column.x, y, palette::text_dim, FontSize::small);
    y += 24;
  } else {
    text.draw("Playing as " + session_.lobby()->nickname(), column.x, y, palette::text);
    y += 36;
  }

  y += 16;
  section_title(ui, "LAN servers", column.x, y);
  y += 28;
  if (!session_.lan_error().empty()) {
    for (const std::string& line : text.wrap(session_.lan_error(), column.w, FontSize::small)) {
      text.draw(line, column.x, y, palette::error, FontSize::small);
      y += text.line_height(FontSize::small);
    }
  } else if (session_.lan_servers().empty()) {
    text.draw("none heard yet", column.x, y, palette::text_dim, FontSize::small);
  }
  for (const net::DiscoveredServer& server : session_.lan_servers()) {
    // Three lines: name and players; lobby address; the verification mark and key.
    const int row_height = 3 * kRowHeight - 14;
    if (y + row_height > column.y + column.h) break;
    const net::ServerAnnouncement& announcement = server.announcement;
    const std::string lobby_address =
        server.address + ":" + std::to_string(announcement.lobby_port);
    const Box row{column.x, y, column.w, row_height};
    const bool current = session_.lobby() != nullptr && session_.lobby_address() == lobby_address;
    if (ui.list_row(row, current) && announcement.lobby_port != 0 && !current) {
      session_.join_lan_server(server);
    }
    text.draw(announcement.name, row.x + 6, row.y + 3, palette::text);
    text.draw_right(std::to_string(announcement.players) + "/" +
                        std::to_string(announcement.max_players) + " players",
                    row.x + row.w - 6, row.y + 3, palette::text_dim, FontSize::small);
    text.draw(announcement.lobby_port != 0 ? "lobby " + lobby_address : "no lobby", row.x + 6,
              row.y + 24, palette::text_dim, FontSize::small);
    // The mark: every server listed here signed its beacon with the key shown; "known" when that
    // key is the one pinned for its name (joined before), "new key" the first time.
    text.draw((server.pinned ? "verified, known key " : "verified, new key ") +
                  net::fingerprint(server.public_key),
              row.x + 6, row.y + 42, server.pinned ? palette::good : palette::accent,
              FontSize::small);
    y += row_height + 4;
  }
}

void LobbyScreen::rooms_column(Ui& ui, const Box& column) {
  TextRenderer& text = ui.text();
  const net::LobbyClient* lobby = session_.lobby();
  const bool welcomed = session_.welcomed();
  const bool in_room = welcomed && lobby->room().has_value();
  int y = column.y;
  section_title(ui, "Rooms", column.x, y);
  if (ui.button({column.x + column.w - 90, y - 4, 90, 26}, "Refresh", welcomed)) {
    session_.refresh_rooms();
  }
  y += 32;
  const int list_bottom = column.y + column.h - 2 * kButtonHeight - 24;
  if (welcomed && lobby->rooms().empty()) {
    text.draw("No rooms yet: create one below.", column.x, y, palette::text_dim, FontSize::small);
  }
  if (welcomed) {
    for (const net::LobbyRoomSummary& room : lobby->rooms()) {
      if (y + kRowHeight > list_bottom) break;
      const Box row{column.x, y, column.w, kRowHeight - 2};
      const bool mine = in_room && lobby->room()->summary.room_id == room.room_id;
      // Joining takes leaving first (the lobby refuses already_in_room); rooms in a match are
      // closed until it ends.
      if (ui.list_row(row, mine) && !in_room && !room.in_match) session_.join_room(room.room_id);
      text.draw(room.name, row.x + 6, row.y + 4, palette::text);
      std::string seats = std::to_string(room.players) + "/" + std::to_string(room.max_players);
      if (room.in_match) seats = "in match  " + seats;
      text.draw_right(seats, row.x + row.w - 6, row.y + 5,
                      room.in_match ? palette::text_dim : palette::text, FontSize::small);
      // Another room's match can be watched (a few seconds behind) without a seat in it.
      if (room.in_match && !mine &&
          ui.button({row.x + row.w - 170, row.y + 2, 64, kRowHeight - 6}, "Watch", true)) {
        session_.spectate(room.room_id);
      }
      y += kRowHeight;
    }
    if (!in_room && !lobby->rooms().empty()) {
      text.draw("click a room to join it", column.x, list_bottom - 18, palette::text_dim,
                FontSize::small);
    }
  }
  int bottom = column.y + column.h - kButtonHeight;
  text.draw("New room", column.x, bottom - kButtonHeight - 2, palette::text_dim, FontSize::small);
  bool create = ui.text_field("new_room", {column.x, bottom, column.w - 100, kButtonHeight},
                              new_room_, "room name", 32);
  create |= ui.button({column.x + column.w - 90, bottom, 90, kButtonHeight}, "Create",
                      welcomed && !in_room && !new_room_.empty());
  if (create && welcomed && !in_room && !new_room_.empty()) {
    session_.create_room(new_room_);
    new_room_.clear();
    ui.unfocus();
  }
}

void LobbyScreen::room_column(Ui& ui, const Box& column) {
  TextRenderer& text = ui.text();
  const net::LobbyClient* lobby = session_.lobby();
  const bool welcomed = session_.welcomed();
  int y = column.y;
  const int chat_height = column.h * 45 / 100;
  const int room_bottom = column.y + column.h - chat_height - 16;
  if (welcomed && lobby->room()) {
    const net::LobbyRoom& room = *lobby->room();
    section_title(ui, "Room: " + room.summary.name, column.x, y);
    text.draw_right(
        std::to_string(room.members.size()) + "/" + std::to_string(room.summary.max_players),
        column.x + column.w, y, palette::text_dim);
    y += 30;
    for (const net::LobbyMember& member : room.members) {
      if (y + kRowHeight > room_bottom - kButtonHeight - 8) break;
      // A check mark for ready, a hollow circle for not yet.
      text.draw(member.ready ? "\u2714" : "\u25CB", column.x + 4, y,
                member.ready ? palette::good : palette::text_dim);
      int x = column.x + 30;
      x += text.draw(member.nickname, x, y, member.connected ? palette::text : palette::text_dim) +
           10;
      if (member.player_id == room.host_player_id) {
        x += text.draw("host", x, y + 2, palette::accent, FontSize::small) + 8;
      }
      if (member.player_id == lobby->player_id()) {
        x += text.draw("you", x, y + 2, palette::text_dim, FontSize::small) + 8;
      }
      if (!member.connected) text.draw("away", x, y + 2, palette::error, FontSize::small);
      y += kRowHeight - 4;
    }
    const net::LobbyMember* self = room.member(lobby->player_id());
    const bool ready = self != nullptr && self->ready;
    const int buttons_y = room_bottom - kButtonHeight;
    const int button_width = (column.w - 20) / 3;
    if (ui.button({column.x, buttons_y, button_width, kButtonHeight}, ready ? "Not ready" : "Ready",
                  !room.summary.in_match)) {
      session_.set_ready(!ready);
    }
    if (lobby->is_host()) {
      if (ui.button({column.x + button_width + 10, buttons_y, button_width, kButtonHeight}, "Start",
                    room.everyone_ready() && !room.summary.in_match)) {
        session_.start_match();
      }
    } else {
      text.draw("host starts", column.x + button_width + 18, buttons_y + 7, palette::text_dim,
                FontSize::small);
    }
    if (ui.button({column.x + 2 * (button_width + 10), buttons_y, button_width, kButtonHeight},
                  "Leave")) {
      session_.leave_room();
    }
  } else {
    section_title(ui, "Room", column.x, y);
    y += 30;
    for (const std::string& line :
         text.wrap("Not in a room: create one, or click one in the list to join it.", column.w,
                   FontSize::small)) {
      text.draw(line, column.x, y, palette::text_dim, FontSize::small);
      y += text.line_height(FontSize::small);
    }
  }

  // The chat: room chat in a room, the lobby's global chat outside one.
  const int chat_top = column.y + column.h - chat_height;
  section_title(ui, welcomed && lobby->room() ? "Room chat" : "Lobby chat", column.x, chat_top);
  const Box log{column.x, chat_top + 24, column.w, chat_height - 24 - kButtonHeight - 8};
  ui.fill(log, Rgb{28, 31, 40});
  if (lobby != nullptr) draw_chat_log(ui, lobby->chat_log(), log);
  const Box input{column.x, column.y + column.h - kButtonHeight, column.w, kButtonHeight};
  if (ui.text_field("lobby_chat", input, chat_, welcomed ? "say something (Enter)" : "", 200) &&
      welcomed) {
    session_.send_chat(chat_);
    chat_.clear();
  }
}

void LobbyScreen::status_line(Ui& ui, int width, int height) {
  const Box line{0, height - 36, width, 36};
  ui.fill(line, Rgb{28, 31, 40});
  ui.text().draw(session_.status(), 20, line.y + 9,
                 session_.status_is_error() ? palette::error : palette::text_dim);
  ui.text().draw_right("Esc quits", width - 20, line.y + 10, palette::text_dim, FontSize::small);
}

}  // namespace arena::client
