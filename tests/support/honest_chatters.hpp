#pragma once
// Two honest players in a room of their own, chatting while a test attacks the lobby. Every line
// each sends must reach the other, in order, with nothing refused: the oracle of every lobby
// attack test ("legitimate clients keep chatting with nothing lost").

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tickwire/net/lobby_client.hpp"

namespace tickwire::test {

class HonestChatters {
 public:
  // Connects both to the plaintext lobby on 127.0.0.1:`port`, says Hello as `<prefix>_a` and
  // `<prefix>_b` and puts them in one room. ready() tells whether that worked.
  explicit HonestChatters(std::uint16_t port, const std::string& prefix = "honest")
      : HonestChatters(plaintext(port), prefix) {}

  // The same with the lobby at `websocket` (a TLS lobby, its CA file set).
  HonestChatters(const net::WebSocketClientConfig& websocket, const std::string& prefix) {
    for (const char* suffix : {"_a", "_b"}) {
      net::LobbyClientConfig config;
      config.websocket = websocket;
      config.websocket.common.shutdown_timeout_ms = 200;
      auto made = net::LobbyClient::connect(config);
      if (!made.ok()) return;
      chatters_.push_back({std::move(made.value()), prefix + suffix});
    }
    if (!pump_until([&] { return all(net::LobbyClientState::connected); })) return;
    for (Chatter& chatter : chatters_)
      chatter.lobby->hello(chatter.nickname);
    if (!pump_until([&] { return all(net::LobbyClientState::welcomed); })) return;
    chatters_[0].lobby->create_room(prefix, "chat");
    if (!pump_until([&] { return chatters_[0].lobby->room().has_value(); })) return;
    chatters_[1].lobby->join_room(chatters_[0].lobby->room()->summary.room_id);
    ready_ = pump_until([&] {
      return chatters_[0].lobby->room() && chatters_[0].lobby->room()->members.size() == 2 &&
             chatters_[1].lobby->room() && chatters_[1].lobby->room()->members.size() == 2;
    });
  }

  bool ready() const { return ready_; }

  // Takes in what arrived; every `interval` (inside the default chat rate limit of 2 lines a
  // second) each sends its next numbered line. Call it often while attacking.
  void poll(std::chrono::milliseconds interval = std::chrono::milliseconds(700)) {
    const auto now = std::chrono::steady_clock::now();
    if (ready_ && now - last_round_ >= interval) {
      last_round_ = now;
      for (Chatter& chatter : chatters_)
        chatter.lobby->chat(chatter.nickname + " line " + std::to_string(chatter.sent++));
    }
    for (Chatter& chatter : chatters_) {
      net::LobbyEvent event;
      while (chatter.lobby->poll(event)) {
        if (event.type == net::LobbyEventType::reply && event.error != net::LobbyError::none) {
          errors_.push_back(chatter.nickname + ": " + event.error_message);
        }
        if (event.type == net::LobbyEventType::chat) chatter.heard.push_back(event.chat.text);
        if (event.type == net::LobbyEventType::disconnected) {
          errors_.push_back(chatter.nickname + " was disconnected");
        }
      }
    }
  }

  // Polls until each has heard every line both sent, in order (at most `timeout`). Empty if so;
  // else what went wrong.
  std::string check_nothing_lost(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!ready_) return "the honest players never got into their room";
    // Each hears both: the other's lines and the echo of its own, compared per speaker.
    const auto complete = [&] {
      for (const Chatter& listener : chatters_) {
        for (const Chatter& speaker : chatters_) {
          if (lines_from(listener, speaker).size() < speaker.sent) return false;
        }
      }
      return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!complete() && std::chrono::steady_clock::now() < deadline) {
      poll(std::chrono::hours(1));  // no new lines while waiting for the last ones
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string problems;
    for (const std::string& error : errors_)
      problems += error + "; ";
    for (const Chatter& listener : chatters_) {
      for (const Chatter& speaker : chatters_) {
        const std::vector<std::string> heard = lines_from(listener, speaker);
        for (std::size_t i = 0; i < speaker.sent; ++i) {
          const std::string line = speaker.nickname + " line " + std::to_string(i);
          if (i >= heard.size() || heard[i] != line) {
            problems += listener.nickname + " did not hear '" + line + "' in order; ";
            break;
          }
        }
      }
    }
    if (chatters_[0].sent == 0) problems += "no line was sent; ";
    return problems;
  }

  std::size_t lines_sent() const {
    std::size_t sent = 0;
    for (const Chatter& chatter : chatters_)
      sent += chatter.sent;
    return sent;
  }

 private:
  struct Chatter {
    std::unique_ptr<net::LobbyClient> lobby;
    std::string nickname;
    std::size_t sent = 0;
    std::vector<std::string> heard;
  };

  static net::WebSocketClientConfig plaintext(std::uint16_t port) {
    net::WebSocketClientConfig config = net::LobbyClientConfig::default_websocket();
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.server_port = port;
    return config;
  }

  static std::vector<std::string> lines_from(const Chatter& listener, const Chatter& speaker) {
    std::vector<std::string> lines;
    const std::string prefix = speaker.nickname + " line ";
    for (const std::string& line : listener.heard) {
      if (line.rfind(prefix, 0) == 0) lines.push_back(line);
    }
    return lines;
  }

  bool all(net::LobbyClientState state) const {
    for (const Chatter& chatter : chatters_) {
      if (chatter.lobby->state() != state) return false;
    }
    return chatters_.size() == 2;
  }

  template <typename Done>
  bool pump_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      for (Chatter& chatter : chatters_) {
        net::LobbyEvent event;
        while (chatter.lobby->poll(event, std::chrono::milliseconds(1))) {
        }
      }
    }
    return true;
  }

  std::vector<Chatter> chatters_;
  bool ready_ = false;
  std::chrono::steady_clock::time_point last_round_{};
  std::vector<std::string> errors_;
};

}  // namespace tickwire::test
