#pragma once
// A lobby client that speaks JSON over a raw socket, from the source address it is given (another
// loopback address, "127.0.0.2", is another visitor), as a person with websocat would.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "raw_tcp_client.hpp"
#include "raw_websocket.hpp"

namespace tickwire::test {

// A player who speaks JSON over a raw socket, from the source address it is given.
class RawJsonPlayer {
 public:
  RawJsonPlayer(std::uint16_t port, const char* source) : socket_(port, 0, source) {
    if (!socket_.connected() || !socket_.send_bytes(upgrade_request())) return;
    socket_.read_until([](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; },
                       std::chrono::seconds(3));
    status_ = socket_.received().substr(0, 12);
    if (status_ == "HTTP/1.1 101") socket_.consume(socket_.received().find("\r\n\r\n") + 4);
  }
  // "HTTP/1.1 101" once upgraded; else how the upgrade was answered.
  const std::string& status() const { return status_; }

  // Sends request `id` and returns its reply ("" if none came within 3 s).
  std::string call(std::uint64_t id, const std::string& body_type, const std::string& body) {
    const std::string request = R"({"request_id": )" + std::to_string(id) + R"(, "body_type": ")" +
                                body_type + R"(", "body": )" + body + "}";
    if (!socket_.send_bytes(frame(kText, request))) return {};
    const std::string marker = R"("request_id": )" + std::to_string(id) + ",";
    std::string reply;
    socket_.read_until(
        [&](const std::string& received) {
          for (const std::string& text : text_frames_in(received)) {
            if (text.find(marker) != std::string::npos &&
                text.find("\"result\"") != std::string::npos) {
              reply = text;
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(3));
    return reply;
  }
  // Reads until `done(every text frame so far)` holds, 3 s at most; returns whether it did.
  template <typename Predicate>
  bool read_until(Predicate done) {
    return socket_.read_until(
        [&](const std::string& received) { return done(text_frames_in(received)); },
        std::chrono::seconds(3));
  }
  bool closed() const { return socket_.closed(); }
  // The code of the lobby's close frame, once one arrived (`timeout` at most).
  std::optional<std::uint16_t> close_code(std::chrono::milliseconds timeout) {
    socket_.read_until([](const std::string& r) { return close_code_in(r).has_value(); }, timeout);
    return close_code_in(socket_.received());
  }

 private:
  RawTcpClient socket_;
  std::string status_;
};

}  // namespace tickwire::test
