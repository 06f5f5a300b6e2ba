#pragma once
// Helpers shared by transport tests: drive several transports on one thread until something
// happens, and collect what they reported.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tickwire/net/transport.hpp"

namespace tickwire::test {

// What one transport reported, in order.
struct EventLog {
  struct Message {
    net::PeerId peer;
    net::Channel channel;
    std::vector<std::byte> bytes;
  };
  std::vector<net::PeerId> connected;
  std::vector<std::pair<net::PeerId, net::DisconnectReason>> disconnected;
  std::vector<net::TicketRefusal> ticket_refusals;  // beside `disconnected`, one each
  std::vector<Message> messages;

  void record(net::Event& event) {
    switch (event.type) {
      case net::EventType::connected:
        connected.push_back(event.peer);
        break;
      case net::EventType::disconnected:
        disconnected.emplace_back(event.peer, event.reason);
        ticket_refusals.push_back(event.ticket_refusal);
        break;
      case net::EventType::message: {
        auto bytes = event.payload.bytes();
        messages.push_back({event.peer, event.channel, {bytes.begin(), bytes.end()}});
        break;
      }
    }
  }
};

struct Endpoint {
  net::Transport* transport;
  EventLog* log;
};

// Polls every endpoint (recording events) until `done()` or `timeout`. Returns done().
inline bool pump_until(std::vector<Endpoint> endpoints, const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  net::Event event;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    for (Endpoint& endpoint : endpoints) {
      while (endpoint.transport->poll(event, std::chrono::milliseconds(0))) {
        endpoint.log->record(event);
      }
    }
    // A short sleep between rounds, so that waiting tests leave the CPU to the threads they wait
    // on (the link simulator, Asio) without slowing message exchange noticeably.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Polls for a fixed time, recording events (to let things settle, or to show nothing happens).
inline void pump_for(std::vector<Endpoint> endpoints, std::chrono::milliseconds duration) {
  pump_until(
      std::move(endpoints), [] { return false; }, duration);
}

inline std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

// A deterministic payload: `size` bytes derived from `seed`, so a receiver can check every byte.
inline std::vector<std::byte> pattern(std::uint32_t seed, std::size_t size) {
  std::vector<std::byte> out(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : out) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::byte>(state >> 24);
  }
  return out;
}

// A numbered payload: the number in its first 4 bytes (number_of() reads it back), the rest of
// `size` bytes a pattern derived from it, so that a receiver can tell order and check content.
inline std::vector<std::byte> numbered(std::uint32_t number, std::size_t size) {
  std::vector<std::byte> bytes = pattern(number, std::max<std::size_t>(size, sizeof number));
  std::memcpy(bytes.data(), &number, sizeof number);
  return bytes;
}

inline std::uint32_t number_of(const std::vector<std::byte>& bytes) {
  std::uint32_t number = 0;
  std::memcpy(&number, bytes.data(), sizeof number);
  return number;
}

// Test seeds: TICKWIRE_SEED overrides the default so a failing random run can be replayed.
std::uint64_t test_seed(std::uint64_t fallback);

}  // namespace tickwire::test
