#pragma once
// What one WebSocket connection moved on its socket, written on the io thread and read on the
// caller's: every byte (the HTTP upgrade, frame headers, control frames and TLS records included)
// and every message frame. Each connection's counts also go to the
// transport's total, which outlives the connections.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tickwire::net::websocket_detail {

struct WireCounts {
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<std::uint64_t> frames_read{0};     // messages, one each
  std::atomic<std::uint64_t> frames_written{0};  // messages, one frame each
  // The transport's sum, counted along; empty for the sum itself.
  std::shared_ptr<WireCounts> total;

  // The total first: whoever reads a connection's count and then the total finds the total at
  // least as large.
  void add_read(std::size_t bytes) {
    if (total) total->add_read(bytes);
    bytes_read += bytes;
  }
  void add_written(std::size_t bytes) {
    if (total) total->add_written(bytes);
    bytes_written += bytes;
  }
  void add_frame_read() {
    if (total) total->add_frame_read();
    ++frames_read;
  }
  void add_frame_written() {
    if (total) total->add_frame_written();
    ++frames_written;
  }
};

}  // namespace tickwire::net::websocket_detail
