// Replies that could outgrow one message: a thousand rooms to list and a room whose chat history
// is all maximum-length lines. Every client gets what it asked for, in pages or trimmed, and none
// is disconnected for asking; two honest players chat meanwhile with nothing lost. And what the
// slow-reader counter counts.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../support/honest_chatters.hpp"
#include "../support/pump.hpp"
#include "../support/raw_tcp_client.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/lobby_client.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
using net::LobbyClient;
using net::LobbyEvent;
using net::LobbyEventType;

constexpr net::Channel kText = 1;

// "é" is two bytes and six in JSON ("\u00e9"): the text that grows most when printed.
std::string widest_text(std::size_t bytes) {
  std::string text;
  while (text.size() + 2 <= bytes)
    text += "\xc3\xa9";
  return text;
}

// How many times `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The number after `"key": ` (or `"key":`) in `json`; 0 if absent.
std::uint64_t number_after(const std::string& json, const std::string& key) {
  std::size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return 0;
  at += key.size() + 3;
  while (at < json.size() && json[at] == ' ')
    ++at;
  std::uint64_t value = 0;
  while (at < json.size() && json[at] >= '0' && json[at] <= '9')
    value = value * 10 + static_cast<std::uint64_t>(json[at++] - '0');
  return value;
}

std::unique_ptr<LobbyClient> connect(std::uint16_t port) {
  net::LobbyClientConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.server_port = port;
  config.websocket.common.shutdown_timeout_ms = 100;
  auto made = LobbyClient::connect(config);
  EXPECT_TRUE(made.ok()) << made.error();
  return made.ok() ? std::move(made.value()) : nullptr;
}

// Polls `clients` until `done` (10 s at most), keeping their events.
bool pump_clients(const std::vector<LobbyClient*>& clients, std::vector<LobbyEvent>* events,
                  const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (LobbyClient* client : clients) {
      LobbyEvent event;
      while (client->poll(event)) {
        if (events != nullptr) events->push_back(std::move(event));
      }
    }
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// A client that speaks JSON in text frames, as the web page and a person with websocat do.
class JsonClient {
 public:
  explicit JsonClient(std::uint16_t port) {
    net::WebSocketClientConfig config;
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.server_port = port;
    config.common.framing = net::WebSocketFraming::raw;
    config.common.shutdown_timeout_ms = 100;
    auto made = net::make_websocket_client(config);
    EXPECT_TRUE(made.ok()) << made.error();
    client_ = std::move(made.value());
    EXPECT_TRUE(pump_until({{client_.get(), &log_}},
                           [&] { return client_->state() == net::ClientState::connected; }));
  }
  // Sends `body` as request `id` and returns the reply's text ("" if none came).
  std::string call(std::uint64_t id, const std::string& body_type, const std::string& body,
                   HonestChatters& honest) {
    const std::string request = R"({"request_id": )" + std::to_string(id) + R"(, "body_type": ")" +
                                body_type + R"(", "body": )" + body + "}";
    EXPECT_EQ(client_->send(kText, net::Delivery::reliable_ordered, bytes_of(request)),
              net::SendResult::ok);
    std::string reply;
    pump_until({{client_.get(), &log_}}, [&] {
      honest.poll();
      for (const auto& message : log_.messages) {
        const std::string text(reinterpret_cast<const char*>(message.bytes.data()),
                               message.bytes.size());
        if (number_after(text, "request_id") == id &&
            text.find("\"result\"") != std::string::npos) {
          reply = text;
          return true;
        }
      }
      return false;
    });
    return reply;
  }
  bool connected() const { return client_->state() == net::ClientState::connected; }

 private:
  std::unique_ptr<net::ClientTransport> client_;
  EventLog log_;
};

TEST(LobbyLimits, a_thousand_rooms_are_listed_page_by_page_and_a_room_of_long_lines_is_joined) {
  constexpr std::size_t kRooms = 1000;
  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.port = 0;
  config.websocket.common.shutdown_timeout_ms = 300;
  config.websocket.max_connections_per_address = 64;
  config.websocket.max_pending_handshakes = 64;
  config.max_rooms = kRooms;
  // Every player here comes from 127.0.0.1.
  config.max_rooms_per_address = kRooms;
  config.max_nicknames_per_address = 2 * kRooms;
  config.websocket.connection_burst_per_address = 2 * kRooms;
  // More rooms a page than fit in one message: pages shrink to fit, in each client's language.
  config.max_rooms_per_page = 200;
  // Rooms outlive their creators, who leave once they made them.
  config.resume_grace_ms = 600'000;
  // The longest chat lines the message size allows, and a filler who may send a history's worth.
  config.max_chat_length = config.websocket.common.max_message_size / 4;
  config.chat_burst = 60;
  config.http_burst = 100;
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  ASSERT_TRUE(lobby.start().ok());
  const std::uint16_t port = lobby.port();
  HonestChatters honest(port);  // their room is one of the thousand
  ASSERT_TRUE(honest.ready());

  // A room whose whole history is maximum-length lines.
  auto filler = connect(port);
  ASSERT_TRUE(pump_clients({filler.get()}, nullptr,
                           [&] { return filler->state() == net::LobbyClientState::connected; }));
  filler->hello("filler");
  ASSERT_TRUE(pump_clients({filler.get()}, nullptr,
                           [&] { return filler->state() == net::LobbyClientState::welcomed; }));
  filler->create_room("long lines", "chat");
  ASSERT_TRUE(pump_clients({filler.get()}, nullptr, [&] { return filler->room().has_value(); }));
  const std::uint64_t long_room = filler->room()->summary.room_id;
  const std::string long_line = widest_text(config.max_chat_length);
  for (std::size_t i = 0; i < config.chat_history_length; ++i)
    filler->chat(std::to_string(i) + " " + long_line.substr(0, long_line.size() - 4));
  std::vector<LobbyEvent> filler_events;
  ASSERT_TRUE(pump_clients({filler.get()}, &filler_events, [&] {
    return std::count_if(filler_events.begin(), filler_events.end(), [](const LobbyEvent& e) {
             return e.type == LobbyEventType::chat;
           }) == static_cast<std::ptrdiff_t>(config.chat_history_length);
  }));

  // The rest, created by players who then go (their seats, and so their rooms, stay).
  constexpr std::size_t kBatch = 50;
  for (std::size_t made = 2; made < kRooms;) {
    const std::size_t batch = std::min(kBatch, kRooms - made);
    std::vector<std::unique_ptr<LobbyClient>> creators;
    std::vector<LobbyClient*> pointers;
    for (std::size_t i = 0; i < batch; ++i) {
      creators.push_back(connect(port));
      pointers.push_back(creators.back().get());
    }
    const auto all = [&](auto predicate) {
      return std::all_of(pointers.begin(), pointers.end(), predicate);
    };
    ASSERT_TRUE(pump_clients(pointers, nullptr, [&] {
      honest.poll();
      return all([](LobbyClient* c) { return c->state() == net::LobbyClientState::connected; });
    }));
    for (std::size_t i = 0; i < batch; ++i)
      pointers[i]->hello("creator" + std::to_string(made + i));
    ASSERT_TRUE(pump_clients(pointers, nullptr, [&] {
      honest.poll();
      return all([](LobbyClient* c) { return c->state() == net::LobbyClientState::welcomed; });
    }));
    for (std::size_t i = 0; i < batch; ++i)
      pointers[i]->create_room(widest_text(config.max_room_name_length), "chat");
    ASSERT_TRUE(pump_clients(pointers, nullptr, [&] {
      honest.poll();
      return all([](LobbyClient* c) { return c->room().has_value(); });
    }));
    made += batch;
  }
  ASSERT_EQ(lobby.counters().rooms, kRooms);

  // A LobbyClient follows the pages itself and ends with every room, each once.
  auto lister = connect(port);
  std::vector<LobbyEvent> lister_events;
  ASSERT_TRUE(pump_clients({lister.get()}, nullptr,
                           [&] { return lister->state() == net::LobbyClientState::connected; }));
  lister->hello("lister");
  ASSERT_TRUE(pump_clients({lister.get()}, nullptr,
                           [&] { return lister->state() == net::LobbyClientState::welcomed; }));
  const std::uint64_t list = lister->list_rooms();
  ASSERT_TRUE(pump_clients({lister.get()}, &lister_events, [&] {
    honest.poll();
    return std::any_of(lister_events.begin(), lister_events.end(),
                       [&](const LobbyEvent& e) { return e.type == LobbyEventType::room_list; });
  }));
  const auto reply = std::find_if(lister_events.begin(), lister_events.end(), [&](const auto& e) {
    return e.type == LobbyEventType::reply && e.request_id == list;
  });
  ASSERT_NE(reply, lister_events.end());
  EXPECT_EQ(reply->error, net::LobbyError::none) << reply->error_message;
  std::set<std::uint64_t> listed;
  for (const net::LobbyRoomSummary& room : lister->rooms())
    listed.insert(room.room_id);
  EXPECT_EQ(lister->rooms().size(), kRooms);
  EXPECT_EQ(listed.size(), kRooms);

  // A JSON client pages by hand; its pages are smaller (JSON is larger) and still complete.
  JsonClient json(port);
  ASSERT_NE(json.call(1, "Hello", R"({"nickname": "json_reader"})", honest).find("Welcome"),
            std::string::npos);
  std::size_t json_rooms = 0;
  std::size_t json_pages = 0;
  std::uint64_t after = 0;
  do {
    const std::string page =
        json.call(10 + json_pages, "ListRooms",
                  R"({"after_room_id": )" + std::to_string(after) + "}", honest);
    ASSERT_NE(page.find(R"("ok": true)"), std::string::npos) << page.substr(0, 200);
    ASSERT_LE(page.size(), config.websocket.common.max_message_size);
    json_rooms += count_of(page, "\"room_id\":");
    const std::uint64_t next = number_after(page, "next_after_room_id");
    ASSERT_TRUE(next == 0 || next > after);
    after = next;
    ++json_pages;
  } while (after != 0 && json_pages < kRooms);
  EXPECT_EQ(json_rooms, kRooms);
  EXPECT_GT(json_pages, kRooms / config.max_rooms_per_page);  // pages shrank to fit

  // /api/rooms pages the same way.
  std::size_t http_rooms = 0;
  after = 0;
  for (int page = 0; page < 100; ++page) {
    RawTcpClient http(port);
    ASSERT_TRUE(http.send_bytes("GET /api/rooms?after=" + std::to_string(after) +
                                " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    http.read_until([](const std::string&) { return false; }, 2s);
    ASSERT_EQ(http.received().rfind("HTTP/1.1 200", 0), 0u) << http.received().substr(0, 200);
    http_rooms += count_of(http.received(), "\"room_id\":");
    after = number_after(http.received(), "next_after_room_id");
    if (after == 0) break;
  }
  EXPECT_EQ(http_rooms, kRooms);

  // Joining the room of long lines: the reply fits, with the newest lines, oldest first.
  auto reader = connect(port);
  std::vector<LobbyEvent> reader_events;
  ASSERT_TRUE(pump_clients({reader.get()}, nullptr,
                           [&] { return reader->state() == net::LobbyClientState::connected; }));
  reader->hello("reader");
  ASSERT_TRUE(pump_clients({reader.get()}, nullptr,
                           [&] { return reader->state() == net::LobbyClientState::welcomed; }));
  const std::uint64_t join = reader->join_room(long_room);
  ASSERT_TRUE(pump_clients({reader.get()}, &reader_events, [&] {
    honest.poll();
    return reader->room().has_value();
  }));
  const auto joined = std::find_if(reader_events.begin(), reader_events.end(), [&](const auto& e) {
    return e.type == LobbyEventType::reply && e.request_id == join;
  });
  ASSERT_NE(joined, reader_events.end());
  EXPECT_EQ(joined->error, net::LobbyError::none) << joined->error_message;
  const auto& history = reader->chat_log();
  ASSERT_FALSE(history.empty());
  for (std::size_t i = 0; i < history.size(); ++i) {
    const std::size_t line = config.chat_history_length - history.size() + i;
    EXPECT_EQ(history[i].text.rfind(std::to_string(line) + " ", 0), 0u) << "history line " << i;
  }
  // And in JSON, where the lines take three times the bytes.
  const std::string json_join =
      json.call(90'000, "JoinRoom", R"({"room_id": )" + std::to_string(long_room) + "}", honest);
  EXPECT_NE(json_join.find(R"("ok": true)"), std::string::npos) << json_join.substr(0, 200);
  EXPECT_NE(json_join.find(R"("history": [)"), std::string::npos);
  EXPECT_NE(json_join.find(R"("text": ")" + std::to_string(config.chat_history_length - 1)),
            std::string::npos);
  EXPECT_TRUE(json.connected());
  EXPECT_EQ(reader->state(), net::LobbyClientState::welcomed);

  const net::LobbyCounters counters = lobby.counters();
  EXPECT_EQ(counters.disconnected_slow, 0u);
  EXPECT_EQ(counters.dropped_rate_limited, 0u);
  EXPECT_EQ(honest.check_nothing_lost(), "");
}

// Players who leave while chat flows to them are not slow readers: only a full send queue is.
TEST(LobbyLimits, players_who_leave_during_a_chat_stream_are_not_counted_as_slow) {
  constexpr std::size_t kLeavers = 24;
  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.port = 0;
  config.websocket.common.shutdown_timeout_ms = 300;
  config.websocket.max_connections_per_address = 64;
  config.websocket.max_pending_handshakes = 64;
  config.max_players_per_room = 32;
  config.resume_grace_ms = 0;  // they leave for good
  config.chat_burst = 1000;
  config.chat_lines_per_second = 1000;
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  ASSERT_TRUE(lobby.start().ok());
  std::vector<std::unique_ptr<LobbyClient>> clients;
  std::vector<LobbyClient*> pointers;
  for (std::size_t i = 0; i < kLeavers + 2; ++i) {
    clients.push_back(connect(lobby.port()));
    pointers.push_back(clients.back().get());
  }
  ASSERT_TRUE(pump_clients(pointers, nullptr, [&] {
    return std::all_of(pointers.begin(), pointers.end(), [](LobbyClient* c) {
      return c->state() == net::LobbyClientState::connected;
    });
  }));
  for (std::size_t i = 0; i < clients.size(); ++i)
    clients[i]->hello("member" + std::to_string(i));
  ASSERT_TRUE(pump_clients(pointers, nullptr, [&] {
    return std::all_of(pointers.begin(), pointers.end(), [](LobbyClient* c) {
      return c->state() == net::LobbyClientState::welcomed;
    });
  }));
  LobbyClient& talker = *clients[0];
  LobbyClient& listener = *clients[1];
  talker.create_room("stream", "chat");
  ASSERT_TRUE(pump_clients(pointers, nullptr, [&] { return talker.room().has_value(); }));
  for (std::size_t i = 1; i < clients.size(); ++i)
    clients[i]->join_room(talker.room()->summary.room_id);
  ASSERT_TRUE(pump_clients(pointers, nullptr,
                           [&] { return talker.room()->members.size() == clients.size(); }));

  // A line every millisecond or so while the leavers go, one after another.
  std::size_t sent = 0;
  std::vector<LobbyEvent> listener_events;
  while (clients.size() > 2) {
    for (int i = 0; i < 3; ++i, ++sent)
      talker.chat("line " + std::to_string(sent));
    clients.pop_back();
    pointers.pop_back();
    pump_clients({&talker}, nullptr, [] { return true; });
    pump_clients({&listener}, &listener_events, [] { return true; });
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(pump_clients({&listener}, &listener_events, [&] {
    pump_clients({&talker}, nullptr, [] { return true; });
    return std::count_if(listener_events.begin(), listener_events.end(), [](const auto& e) {
             return e.type == LobbyEventType::chat;
           }) == static_cast<std::ptrdiff_t>(sent);
  }));
  ASSERT_TRUE(pump_clients({&listener}, nullptr, [&] { return lobby.counters().players == 2; }));
  EXPECT_EQ(lobby.counters().disconnected_slow, 0u);
  EXPECT_EQ(listener.state(), net::LobbyClientState::welcomed);
}

// Global chat reaches everyone, so the lobby bounds what it all costs: recipients times bytes a
// second. A player who shouts faster than that gets rate_limited errors (not a disconnect), and
// room chat goes on untouched.
TEST(LobbyLimits, global_chat_over_its_budget_is_refused_and_room_chat_goes_on) {
  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.websocket.port = 0;
  config.websocket.common.shutdown_timeout_ms = 300;
  config.global_chat_bytes_per_second = config.websocket.common.max_message_size;
  config.chat_burst = 1000;  // the shouter's own rate limit is not what stops it
  config.chat_lines_per_second = 1000;
  net::LobbyServer lobby(config, net::JoinTicketIssuer::generate());
  ASSERT_TRUE(lobby.start().ok());
  HonestChatters honest(lobby.port());
  ASSERT_TRUE(honest.ready());
  auto shouter = connect(lobby.port());
  ASSERT_TRUE(pump_clients({shouter.get()}, nullptr,
                           [&] { return shouter->state() == net::LobbyClientState::connected; }));
  shouter->hello("shouter");
  ASSERT_TRUE(pump_clients({shouter.get()}, nullptr,
                           [&] { return shouter->state() == net::LobbyClientState::welcomed; }));
  // Each line to 3 players costs about 1.7 KB of a 16 KiB budget refilled each second.
  constexpr int kLines = 40;
  for (int i = 0; i < kLines; ++i)
    shouter->chat(std::string(480, static_cast<char>('a' + i % 26)), net::ChatScope::global);
  std::vector<LobbyEvent> events;
  ASSERT_TRUE(pump_clients({shouter.get()}, &events, [&] {
    honest.poll();
    return std::count_if(events.begin(), events.end(), [](const LobbyEvent& e) {
             return e.type == LobbyEventType::reply;
           }) == kLines;
  }));
  std::size_t refused = 0;
  for (const LobbyEvent& event : events) {
    if (event.type != LobbyEventType::reply || event.error == net::LobbyError::none) continue;
    EXPECT_EQ(event.error, net::LobbyError::rate_limited);
    EXPECT_NE(event.error_message.find("global chat is busy"), std::string::npos);
    ++refused;
  }
  EXPECT_GE(refused, 1u);
  EXPECT_LT(refused, static_cast<std::size_t>(kLines));  // the budget let some through
  EXPECT_EQ(lobby.counters().dropped_global_chat_busy, refused);
  EXPECT_EQ(shouter->state(), net::LobbyClientState::welcomed);
  EXPECT_EQ(honest.check_nothing_lost(), "");
}

}  // namespace
}  // namespace tickwire::test
