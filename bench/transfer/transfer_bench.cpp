// File transfer over Tickwire's ENet transport (encrypted sessions, the default) against raw ENet
// sending the same bytes as reliable messages as fast as it can, in the same run, with Tickwire's
// transport sending those same messages beside them (so that the ratio splits into what the
// transport costs and what the transfer adds); and the arrival delay of snapshot-like traffic
// with and without a transfer on the same connection. On loopback, and through the UDP link
// simulator with loss and latency. Prints ratios to the baselines.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
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
  std::size_t bytes = 32 * 1024 * 1024;         // the large bulk transfer (and the lossy one)
  std::size_t small_bytes = 2 * 1024 * 1024;    // the small bulk transfer, loopback only
  int rounds = 5;                               // loopback bulk readings per case (median)
  double snapshot_seconds = 5;                  // per p99 reading
  double cap_bytes_per_second = 4 * 1048576.0;  // the capped transfer beside snapshots
  double loss = 0.05;                           // the lossy case, each way
  double latency_ms = 20;                       // the lossy case, each way (40 ms round trip)
  std::uint64_t max_queued_bytes = net::FileTransferConfig{}.max_queued_bytes;  // every case
  std::uint32_t paced_chunk_size = net::FileTransferConfig{}.paced_chunk_size;  // snapshot cases
  bool quick = false;
  bool bulk = true;       // the bulk cases
  bool snapshots = true;  // the snapshot p99 cases
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
  server_config.port = 0;  // any free port: other runs may hold the default one
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
std::optional<double> tickwire_bulk(const Settings& settings, std::size_t bytes, bool lossy_link) {
  auto pair = connect_tickwire(lossy(settings, lossy_link));
  if (!pair.ok()) {
    std::fprintf(stderr, "%s\n", pair.error().c_str());
    return std::nullopt;
  }
  net::FileTransferConfig config;
  config.receive.max_file_size = bytes;
  config.max_queued_bytes = settings.max_queued_bytes;
  auto server_files = std::move(net::FileTransfer::create(*pair->server, config).value());
  auto client_files = std::move(net::FileTransfer::create(*pair->client, config).value());
  std::atomic<bool> stop{false};
  // The client's loop ends when the server has the file or either side failed; the server's sets
  // it, so that the two threads are all the run has, as in the baselines.
  std::atomic<bool> client_stop{false};
  std::atomic<bool> received{false};
  std::thread server_thread([&] {
    serve(
        *pair->server, *server_files, stop, [](auto) {},
        [&](const net::TransferEvent& event) {
          if (event.type == net::TransferEventType::completed) received = true;
          if (event.type == net::TransferEventType::completed ||
              event.type == net::TransferEventType::failed) {
            client_stop = true;
          }
        });
  });
  auto data = payload(bytes);
  const auto start = Clock::now();
  bool failed = false;
  // Handed over, not copied: the baselines send from the bytes they were given too.
  auto sent = client_files->send_blob(pair->client->server(), std::move(data), "bulk.bin", "bench");
  if (!sent.ok()) {
    std::fprintf(stderr, "send_blob: %s\n", sent.error().c_str());
    failed = true;
  }
  if (!failed) {
    serve(
        *pair->client, *client_files, client_stop, [](auto) {},
        [&](const net::TransferEvent& event) {
          if (event.type == net::TransferEventType::failed) failed = client_stop = true;
        });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  server_thread.join();
  if (failed || !received) return std::nullopt;
  return seconds;
}

// Seconds for `transport` (raw ENet, or Tickwire's transport itself) to deliver `bytes` as 16 KiB
// reliable messages, queued as fast as it takes them (raw ENet takes them all at once; Tickwire's
// refuses at its queue cap and the client services it until it takes more).
std::optional<double> bulk_messages(const TransportUnderTest& transport, const Settings& settings,
                                    std::size_t bytes, bool lossy_link) {
  auto server = transport.make_server();
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
  auto client = transport.make_client(port);
  if (!client.ok()) {
    stop = true;
    server_thread.join();
    return std::nullopt;
  }
  const auto data = payload(bytes);
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
  while (received < bytes && Clock::now() < deadline) {
    (void)(*client)->receive(milliseconds(1));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  server_thread.join();
  if (received < bytes) return std::nullopt;
  return seconds;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// One bulk case: raw ENet, Tickwire's transport and FileTransfer take turns `rounds` times (the
// one to go first rotating, so that load from the rest of the machine falls on all alike); the
// median of each. False if a run failed.
bool bulk_case(const Settings& settings, std::size_t bytes, bool lossy_link, int rounds) {
  const char* link = lossy_link ? "lossy link" : "loopback";
  std::vector<double> raw;
  std::vector<double> transport;
  std::vector<double> files;
  for (int round = 0; round < rounds; ++round) {
    for (int turn = 0; turn < 3; ++turn) {
      std::optional<double> seconds;
      switch ((round + turn) % 3) {
        case 0:
          seconds = bulk_messages(raw_enet_transport(), settings, bytes, lossy_link);
          if (seconds) raw.push_back(*seconds);
          break;
        case 1:
          seconds = bulk_messages(tickwire_enet_transport(), settings, bytes, lossy_link);
          if (seconds) transport.push_back(*seconds);
          break;
        default:
          seconds = tickwire_bulk(settings, bytes, lossy_link);
          if (seconds) files.push_back(*seconds);
          break;
      }
      if (!seconds) {
        std::printf("  bulk, %s %zu MiB: could not be measured (turn %d of round %d failed)\n",
                    link, bytes >> 20, (round + turn) % 3, round);
        return false;
      }
    }
  }
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  const double raw_s = median(raw);
  const double transport_s = median(transport);
  const double files_s = median(files);
  std::printf(
      "  bulk, %-10s %3zu MiB  raw ENet %7.1f MiB/s  Tickwire transport %7.1f MiB/s  "
      "FileTransfer %7.1f MiB/s  ratio %.2fx (goal >= 0.8x; of its transport %.2fx)\n",
      link, bytes >> 20, mib / raw_s, mib / transport_s, mib / files_s, raw_s / files_s,
      transport_s / files_s);
  return true;
}

// The arrival delays of 200-byte snapshots sent by the server every 16 ms for `seconds`
// (unreliable_sequenced, channel 0), with or without the server pushing files to the client on
// the same connection meanwhile, over a new connection.
enum class Beside : std::uint8_t { nothing, transfer, capped_transfer };

struct SnapshotDelays {
  std::vector<double> delays_ms;
  std::size_t pushes_completed = 0;
};

std::optional<SnapshotDelays> snapshot_delays(const Settings& settings, bool lossy_link,
                                              Beside beside, double seconds) {
  auto pair = connect_tickwire(lossy(settings, lossy_link));
  if (!pair.ok()) return std::nullopt;
  const bool with_transfer = beside != Beside::nothing;
  net::FileTransferConfig config;
  config.max_queued_bytes = settings.max_queued_bytes;
  config.paced_chunk_size = settings.paced_chunk_size;
  if (beside == Beside::capped_transfer) {
    config.max_bytes_per_second = static_cast<std::uint64_t>(settings.cap_bytes_per_second);
  }
  auto server_files = std::move(net::FileTransfer::create(*pair->server, config).value());
  auto client_files = std::move(net::FileTransfer::create(*pair->client, config).value());
  const auto file = payload(8 * 1024 * 1024);
  std::atomic<bool> stop{false};
  SnapshotDelays result;
  std::vector<double>& delays_ms = result.delays_ms;
  std::size_t& transfers_done = result.pushes_completed;
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
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
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
  if (delays_ms.empty()) return std::nullopt;
  return result;
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

double p99(std::vector<double> values) {
  return percentile(std::move(values), 0.99);
}

// Snapshot p99 without a transfer and beside one (and, on loopback, beside a capped one): the
// readings take turns in phases of about 2 s over fresh connections, so that whatever else the
// machine does during the run falls on all of them alike, and add up to `snapshot_seconds` each.
// False if a phase could not be measured.
bool snapshot_case(const Settings& settings, bool lossy_link) {
  const char* link = lossy_link ? "lossy link" : "loopback";
  std::vector<Beside> modes{Beside::nothing, Beside::transfer};
  if (!lossy_link) modes.push_back(Beside::capped_transfer);
  const int phases = std::max(1, static_cast<int>(std::lround(settings.snapshot_seconds / 2)));
  const double phase_seconds = settings.snapshot_seconds / phases;
  std::vector<SnapshotDelays> readings(modes.size());
  for (int phase = 0; phase < phases; ++phase) {
    for (std::size_t mode = 0; mode < modes.size(); ++mode) {
      const auto delays = snapshot_delays(settings, lossy_link, modes[mode], phase_seconds);
      if (!delays) {
        std::printf("  snapshot p99, %s: could not be measured\n", link);
        return false;
      }
      readings[mode].delays_ms.insert(readings[mode].delays_ms.end(), delays->delays_ms.begin(),
                                      delays->delays_ms.end());
      readings[mode].pushes_completed += delays->pushes_completed;
    }
  }
  const double without = p99(readings[0].delays_ms);
  const double with = p99(readings[1].delays_ms);
  std::printf(
      "  snapshot p99, %-10s without a transfer %6.2f ms  during one %6.2f ms  ratio "
      "%.2fx (goal <= 1.2x; %zu snapshots each, %zu pushes of 8 MiB completed)\n",
      link, without, with, with / without, readings[0].delays_ms.size(),
      readings[1].pushes_completed);
  // The median shows what the transfer adds to every snapshot; the p99 mostly what the machine
  // does meanwhile.
  std::printf("  snapshot median, %-10s without a transfer %6.3f ms  during one %6.3f ms\n", link,
              percentile(readings[0].delays_ms, 0.5), percentile(readings[1].delays_ms, 0.5));
  if (lossy_link) return true;
  const double capped = p99(readings[2].delays_ms);
  std::printf("  snapshot p99, %-10s during one capped at %.0f MiB/s %6.2f ms  ratio %.2fx\n", link,
              settings.cap_bytes_per_second / 1048576.0, capped, capped / without);
  return true;
}

int run(const Settings& settings) {
  bool ok = true;
  std::printf(
      "File transfer benchmark: bulk %zu MiB (and %zu MiB on loopback), median of %d on "
      "loopback; lossy link %.0f %% loss and %.0f ms each way; max_queued_bytes %llu KiB; "
      "paced_chunk_size %u bytes\n",
      settings.bytes >> 20, settings.small_bytes >> 20, settings.rounds, settings.loss * 100,
      settings.latency_ms, static_cast<unsigned long long>(settings.max_queued_bytes >> 10),
      settings.paced_chunk_size);
  if (settings.bulk) {
    if (!settings.quick) ok &= bulk_case(settings, settings.small_bytes, false, settings.rounds);
    ok &= bulk_case(settings, settings.bytes, false, settings.rounds);
    ok &= bulk_case(settings, settings.bytes, true, 1);
  }
  if (settings.snapshots) {
    for (const bool lossy_link : {false, true})
      ok &= snapshot_case(settings, lossy_link);
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
  double cap_mib = 4;
  app.add_option("--mib", mib, "MiB of the large and the lossy bulk transfer (default 32)");
  app.add_option("--rounds", settings.rounds, "loopback bulk readings per case, median (default 5)")
      ->check(CLI::PositiveNumber);
  app.add_option(
      "--snapshot-seconds", settings.snapshot_seconds,
      "seconds of snapshots per p99 reading, in phases of about 2 s that take turns (default 5)");
  app.add_option("--cap-mib", cap_mib,
                 "max_bytes_per_second of the capped transfer beside snapshots, MiB/s (default 4)");
  std::uint64_t queued_kib = settings.max_queued_bytes >> 10;
  app.add_option("--queued-kib", queued_kib,
                 "FileTransfer's max_queued_bytes in KiB, every case (default its config's)");
  app.add_option("--paced-chunk-bytes", settings.paced_chunk_size,
                 "FileTransfer's paced_chunk_size in the snapshot cases, 1024 to 16384 (default "
                 "its config's)")
      ->check(CLI::Range(1024, 16 * 1024));
  bool only_bulk = false;
  bool only_snapshots = false;
  app.add_flag("--only-bulk", only_bulk, "the bulk cases alone");
  app.add_flag("--only-snapshots", only_snapshots, "the snapshot p99 cases alone");
  app.add_flag("--quick", settings.quick, "a smoke run: 2 MiB once, 1 s readings");
  CLI11_PARSE(app, argc, argv);
  settings.bytes = mib * 1024 * 1024;
  settings.cap_bytes_per_second = cap_mib * 1048576.0;
  settings.max_queued_bytes = queued_kib << 10;
  settings.bulk = !only_snapshots;
  settings.snapshots = !only_bulk;
  if (settings.quick) {
    settings.bytes = 2 * 1024 * 1024;
    settings.rounds = 1;
    settings.snapshot_seconds = 1;
  }
  return tickwire::bench::run(settings);
}
