#pragma once
// One side of a file-transfer test: a transport and the FileTransfer above it, wired the way a
// game wires them (transfer-channel messages and disconnects to the FileTransfer, the rest
// recorded as gameplay), with everything either reported.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "pump.hpp"
#include "tickwire/net/file_transfer.hpp"

namespace tickwire::test {

struct TransferSide {
  net::Transport* transport = nullptr;
  net::FileTransfer* files = nullptr;
  net::Channel transfer_channel = 1;
  EventLog log;  // connects, disconnects and gameplay messages (other channels)
  std::vector<net::TransferEvent> events;
  std::vector<std::size_t> transfer_message_sizes;  // of every message on transfer_channel

  // Polls the transport, hands transfer messages on, runs the FileTransfer's update, collects its
  // events.
  void pump() {
    net::Event event;
    while (transport->poll(event)) {
      if (event.type == net::EventType::message && event.channel == transfer_channel) {
        transfer_message_sizes.push_back(event.payload.size());
        files->on_message(event.peer, event.payload.bytes());
        continue;
      }
      if (event.type == net::EventType::disconnected) files->on_disconnected(event.peer);
      log.record(event);
    }
    files->update();
    net::TransferEvent transfer_event;
    while (files->poll(transfer_event))
      events.push_back(std::move(transfer_event));
  }

  std::size_t count(net::TransferEventType type) const {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const auto& event) { return event.type == type; }));
  }
  // The last event of `type`, or nullptr.
  const net::TransferEvent* last(net::TransferEventType type) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->type == type) return &*it;
    }
    return nullptr;
  }
  bool ended() const {
    return count(net::TransferEventType::completed) + count(net::TransferEventType::failed) > 0;
  }
};

// Pumps every side in real time until `done()` or `timeout` (for transports with threads and
// sockets beneath). Returns done().
inline bool pump_sides_until(const std::vector<TransferSide*>& sides,
                             const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (TransferSide* side : sides)
      side->pump();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace tickwire::test
