// File transfer over Tickwire's ENet transport (encrypted sessions, the default) against raw ENet
// sending the same bytes as reliable messages as fast as it can, in the same run; and the arrival
// delay of snapshot-like traffic with and without a transfer on the same connection. On loopback,
// and through the UDP link simulator with loss and latency. Prints ratios to the baselines.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "common/bench_lobby.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/file_transfer.hpp"
#include "tickwire/net/udp_link_simulator.hpp"
#include "transport/endpoint.hpp"

namespace tickwire::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Settings {
  std::size_t bytes = 32 * 1024 * 1024;  // per bulk transfer
  double snapshot_seconds = 5;           // per p99 reading
  double loss = 0.05;                    // the lossy case, each way
  double latency_ms = 20;                // the lossy case, each way (40 ms round trip)
  bool quick = false;
};

std::vector<std::byte> payload(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
  return bytes;
}

std::optional<net::NetworkConditions> lossy(const Settings& settings, bool lossy_link) {
  if (!lossy_link) return std::nullopt;
  return net::NetworkConditions::symmetric(
      {.latency_ms = settings.latency_ms, .loss = settings.loss}, 7);
}

// A Tickwire server and one connected client, optionally through a link simulator.
struct TickwirePair {
  std::unique_ptr<net::ServerTransport> server;
  std::unique_ptr<net::UdpLinkSimulator> link;
  std::unique_ptr<net::ClientTransport> client;
  net::PeerId client_on_server = net::kInvalidPeer;
};

net::Result<TickwirePair> connect_tickwire(
    const std::optional<net::NetworkConditions>& conditions) {
  TickwirePair pair;
  net::EnetServerConfig server_config;
  server_config.bind_address = "127.0.0.1";
  server_config.require_ticket = BenchLobby::get().requirement();
  auto server = net::make_enet_server(server_config);
  if (!server.ok()) return net::Status::error(server.error());
  pair.server = std::move(*server);
  std::uint16_t port = pair.server->port();
  if (conditions) {
    net::UdpLinkSimulatorConfig link_config;
    link_config.target_port = port;
    link_config.conditions = *conditions;
    auto link = net::UdpLinkSimulator::start(link_config);
    if (!link.ok()) return net::Status::error(link.error());
    pair.link = std::move(*link);
    port = pair.link->port();
  }
  net::EnetClientConfig client_config;
  net::IssuedTicket issued = BenchLobby::get().ticket();
  client_config.join_ticket = std::move(issued.ticket);
  client_config.session_keys = issued.keys;
  client_config.server_host = "127.0.0.1";
  client_config.server_port = port;
  auto client = net::make_enet_client(client_config);
  if (!client.ok()) return net::Status::error(client.error());
  pair.client = std::move(*client);
  const auto deadline = Clock::now() + kConnectTimeout;
  net::Event event;
  bool client_connected = false;
  while (!client_connected || pair.client_on_server == net::kInvalidPeer) {
    if (Clock::now() > deadline) return net::Status::error("Tickwire: connection timed out");
    while (pair.server->poll(event, milliseconds(1))) {
      if (event.type == net::EventType::connected) pair.client_on_server = event.peer;
    }
    while (pair.client->poll(event, milliseconds(1))) {
      if (event.type == net::EventType::connected) client_connected = true;
    }
  }
  return pair;
}

// Polls `transport`, feeding the FileTransfer, until `stop`; `on_message` sees other channels.
template <typename OnMessage>
void serve(net::Transport& transport, net::FileTransfer& files, const std::atomic<bool>& stop,
           OnMessage on_message, const std::function<void(const net::TransferEvent&)>& on_event) {
  net::Event event;
  net::TransferEvent transfer_event;
  while (!stop.load(std::memory_order_acquire)) {
    // Blocks up to 1 ms for input when there is none, as a game's network thread would: ENet
    // answers (acknowledges) while it waits, which keeps the round trip short.
    milliseconds wait{1};
    while (transport.poll(event, wait)) {
      wait = milliseconds{0};
      if (event.type != net::EventType::message) continue;
      if (event.channel == 1) {
        files.on_message(event.peer, event.payload.bytes());
      } else {
        on_message(event.payload.bytes());
      }
    }
    files.update();
    transport.flush();
    while (files.poll(transfer_event))
      on_event(transfer_event);
  }
}

// Seconds to move `bytes` client to server with FileTransfer (until the receiver has verified
// the hash), or nothing on failure.
std::optional<double> tickwire_bulk(const Settings& settings, bool lossy_link) {
  auto pair = connect_tickwire(lossy(settings, lossy_link));
  if (!pair.ok()) {
    std::fprintf(stderr, "%s\n", pair.error().c_str());
    return std::nullopt;
  }
  net::FileTransferConfig config;
  config.receive.max_file_size = settings.bytes;
  auto server_files = std::move(net::FileTransfer::create(*pair->server, config).value());
  auto client_files = std::move(net::FileTransfer::create(*pair->client, config).value());
  std::atomic<bool> stop{false};
  std::atomic<bool> received{false};
  std::thread server_thread([&] {
    serve(
        *pair->server, *server_files, stop, [](auto) {},
        [&](const net::TransferEvent& event) {
          if (event.type == net::TransferEventType::completed) received = true;
          if (event.type == net::TransferEventType::failed) stop = true;
        });
  });
  const auto data = payload(settings.bytes);
  const auto start = Clock::now();
  std::atomic<bool> client_stop{false};
  bool failed = false;
  auto sent = client_files->send_blob(pair->client->server(), data, "bulk.bin", "bench");
  if (!sent.ok()) {
    std::fprintf(stderr, "send_blob: %s\n", sent.error().c_str());
    failed = true;
    stop = true;
  }
  std::thread watcher([&] {
    while (!received && !stop)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    client_stop = true;
  });
  if (!failed) {
    serve(
        *pair->client, *client_files, client_stop, [](auto) {},
        [&](const net::TransferEvent& event) {
          if (event.type == net::TransferEventType::failed) failed = stop = true;
        });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  watcher.join();
  server_thread.join();
  if (failed || !received) return std::nullopt;
  return seconds;
}

// Seconds for raw ENet to deliver `bytes` as 16 KiB reliable messages, all queued at once.
std::optional<double> raw_enet_bulk(const Settings& settings, bool lossy_link) {
  const TransportUnderTest raw = raw_enet_transport();
  auto server = raw.make_server();
  if (!server.ok()) return std::nullopt;
  std::unique_ptr<net::UdpLinkSimulator> link;
  std::uint16_t port = (*server)->port();
  if (auto conditions = lossy(settings, lossy_link)) {
    net::UdpLinkSimulatorConfig link_config;
    link_config.target_port = port;
    link_config.conditions = *conditions;
    link = std::move(net::UdpLinkSimulator::start(link_config).value());
    port = link->port();
  }
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> received{0};
  std::thread server_thread([&] {
    while (!stop) {
      if (auto message = (*server)->receive(milliseconds(1))) received += message->size();
    }
  });
  auto client = raw.make_client(port);
  if (!client.ok()) {
    stop = true;
    server_thread.join();
    return std::nullopt;
  }
  const auto data = payload(settings.bytes);
  constexpr std::size_t kChunk = 16 * 1024;
  const auto start = Clock::now();
  for (std::size_t offset = 0; offset < data.size(); offset += kChunk) {
    const std::size_t length = std::min(kChunk, data.size() - offset);
    while (!(*client)->send(1, net::Delivery::reliable_ordered, {data.data() + offset, length})) {
      (void)(*client)->receive(milliseconds(0));
    }
  }
  (*client)->flush();
  const auto deadline = start + std::chrono::minutes(5);
  while (received < settings.bytes && Clock::now() < deadline) {
    (void)(*client)->receive(milliseconds(1));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  server_thread.join();
  if (received < settings.bytes) return std::nullopt;
  return seconds;
}

// The 99th percentile of the arrival delay of 200-byte snapshots sent by the server every 16 ms
// (unreliable_sequenced, channel 0), with or without the server pushing files to the client on
// the same connection meanwhile.
std::optional<double> snapshot_p99_ms(const Settings& settings, bool lossy_link,
                                      bool with_transfer) {
  auto pair = connect_tickwire(lossy(settings, lossy_link));
  if (!pair.ok()) return std::nullopt;
  net::FileTransferConfig config;
  auto server_files = std::move(net::FileTransfer::create(*pair->server, config).value());
  auto client_files = std::move(net::FileTransfer::create(*pair->client, config).value());
  const auto file = payload(8 * 1024 * 1024);
  std::atomic<bool> stop{false};
  std::vector<double> delays_ms;
  std::size_t transfers_done = 0;
  std::thread client_thread([&] {
    serve(
        *pair->client, *client_files, stop,
        [&](std::span<const std::byte> bytes) {
          std::int64_t sent_ns = 0;
          std::memcpy(&sent_ns, bytes.data(), sizeof sent_ns);
          const auto now_ns = Clock::now().time_since_epoch().count();
          delays_ms.push_back(static_cast<double>(now_ns - sent_ns) / 1e6);
        },
        [&](const net::TransferEvent& event) {
          transfers_done += event.type == net::TransferEventType::completed;
        });
  });
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(settings.snapshot_seconds));
  auto next_snapshot = start;
  std::vector<std::byte> snapshot(200);
  bool transfer_running = false;
  net::Event event;
  net::TransferEvent transfer_event;
  while (Clock::now() < end) {
    if (with_transfer && !transfer_running) {
      transfer_running =
          server_files->send_blob(pair->client_on_server, file, "push.bin", "bench").ok();
    }
    if (Clock::now() >= next_snapshot) {
      const std::int64_t now_ns = Clock::now().time_since_epoch().count();
      std::memcpy(snapshot.data(), &now_ns, sizeof now_ns);
      (void)pair->server->send(pair->client_on_server, 0, net::Delivery::unreliable_sequenced,
                               snapshot);
      pair->server->flush();
      next_snapshot += milliseconds(16);
    }
    while (pair->server->poll(event, milliseconds(0))) {
      if (event.type == net::EventType::message && event.channel == 1) {
        server_files->on_message(event.peer, event.payload.bytes());
      }
    }
    server_files->update();
    while (server_files->poll(transfer_event)) {
      if (transfer_event.type == net::TransferEventType::completed ||
          transfer_event.type == net::TransferEventType::failed) {
        transfer_running = false;
      }
    }
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(milliseconds(200));  // the last snapshots land
  stop = true;
  client_thread.join();
  if (delays_ms.size() < 10) return std::nullopt;
  std::sort(delays_ms.begin(), delays_ms.end());
  if (with_transfer)
    std::printf("    (%zu pushes of 8 MiB completed during the reading)\n", transfers_done);
  return delays_ms[static_cast<std::size_t>(0.99 * static_cast<double>(delays_ms.size() - 1))];
}

int run(const Settings& settings) {
  bool ok = true;
  std::printf(
      "File transfer benchmark: %zu MiB per bulk transfer, lossy link %.0f %% loss and "
      "%.0f ms each way\n",
      settings.bytes >> 20, settings.loss * 100, settings.latency_ms);
  for (const bool lossy_link : {false, true}) {
    const char* link = lossy_link ? "lossy link" : "loopback";
    const auto raw = raw_enet_bulk(settings, lossy_link);
    const auto ours = tickwire_bulk(settings, lossy_link);
    if (!raw || !ours) {
      std::printf("  bulk, %s: could not be measured (raw %s, Tickwire %s)\n", link,
                  raw ? "ok" : "failed", ours ? "ok" : "failed");
      ok = false;
      continue;
    }
    const double mib = static_cast<double>(settings.bytes) / (1024.0 * 1024.0);
    std::printf(
        "  bulk, %-10s raw ENet %7.1f MiB/s  FileTransfer %7.1f MiB/s  ratio %.2fx "
        "(goal >= 0.8x)\n",
        link, mib / *raw, mib / *ours, *raw / *ours);
  }
  for (const bool lossy_link : {false, true}) {
    const char* link = lossy_link ? "lossy link" : "loopback";
    const auto without = snapshot_p99_ms(settings, lossy_link, false);
    const auto with = snapshot_p99_ms(settings, lossy_link, true);
    if (!without || !with) {
      std::printf("  snapshot p99, %s: could not be measured\n", link);
      ok = false;
      continue;
    }
    std::printf(
        "  snapshot p99, %-10s without a transfer %6.2f ms  during one %6.2f ms  ratio "
        "%.2fx (goal <= 1.2x)\n",
        link, *without, *with, *with / *without);
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace tickwire::bench

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured
  tickwire::bench::Settings settings;
  CLI::App app{"Tickwire file transfer benchmark"};
  std::size_t mib = 32;
  app.add_option("--mib", mib, "MiB per bulk transfer (default 32)");
  app.add_option("--snapshot-seconds", settings.snapshot_seconds,
                 "seconds per snapshot p99 reading (default 5)");
  app.add_flag("--quick", settings.quick, "a smoke run: 2 MiB, 1 s readings");
  CLI11_PARSE(app, argc, argv);
  settings.bytes = mib * 1024 * 1024;
  if (settings.quick) {
    settings.bytes = 2 * 1024 * 1024;
    settings.snapshot_seconds = 1;
  }
  return tickwire::bench::run(settings);
}
