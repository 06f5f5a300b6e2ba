// tickwire-net-demo: a server and N clients exchanging Ping/Pong messages over ENet on loopback,
// printing each client's connection stats once a second. Optional simulated network conditions
// show what latency and loss do to the numbers. The SDL2 game replaces it as the main demo.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe_messages.hpp"
#include "tickwire/net/enet_transport.hpp"
#include "tickwire/net/log.hpp"
#include "tickwire/net/udp_link_simulator.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using tickwire::net::Delivery;
using tickwire::net::Event;
using tickwire::net::EventType;

std::atomic<bool> g_stop{false};

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
          .count());
}

struct Options {
  double duration_s = 0;
  std::uint16_t port = 7777;
  int clients = 2;
  double ping_rate_hz = 20;
  double latency_ms = 0;
  double jitter_ms = 0;
  double loss_percent = 0;
  std::uint64_t seed = 1;
};

// Pings go on their own channel, unreliable-sequenced: a late ping is worthless.
constexpr tickwire::net::Channel kProbeChannel = 1;

struct DemoClient {
  std::unique_ptr<tickwire::net::ClientTransport> transport;
  std::uint32_t next_sequence = 1;
  Clock::time_point next_ping = Clock::now();
  double last_probe_rtt_ms = 0;
  std::uint64_t bytes_in_at_last_report = 0, bytes_out_at_last_report = 0;
  bool ever_connected = false;
};

void serve(tickwire::net::ServerTransport& server) {
  Event event;
  while (server.poll(event)) {
    switch (event.type) {
      case EventType::connected:
        spdlog::info("server: peer {} connected", event.peer);
        break;
      case EventType::disconnected:
        spdlog::info("server: peer {} disconnected ({})", event.peer, to_string(event.reason));
        break;
      case EventType::message: {
        const auto probe = tickwire::demo::decode_probe(event.payload.bytes());
        if (!probe.ping) break;  // not a ping: ignore (a real server would count it)
        const auto pong = tickwire::demo::encode(
            tickwire::demo::PongMessage{probe.ping->sequence, probe.ping->client_time_us, now_us(),
                                        static_cast<std::uint32_t>(server.connected_peers())});
        (void)server.send(event.peer, kProbeChannel, Delivery::unreliable_sequenced, pong);
        break;
      }
    }
  }
}

void play(int index, DemoClient& client, const Options& options) {
  Event event;
  while (client.transport->poll(event)) {
    if (event.type == EventType::connected) {
      client.ever_connected = true;
      spdlog::info("client {}: connected", index);
    } else if (event.type == EventType::disconnected) {
      spdlog::info("client {}: disconnected ({})", index, to_string(event.reason));
    } else if (const auto probe = tickwire::demo::decode_probe(event.payload.bytes()); probe.pong) {
      client.last_probe_rtt_ms =
          static_cast<double>(now_us() - probe.pong->client_time_us) / 1000.0;
    }
  }
  if (client.transport->state() != tickwire::net::ClientState::connected) return;
  const auto now = Clock::now();
  if (now >= client.next_ping) {
    client.next_ping =
        now + std::chrono::microseconds(static_cast<long>(1e6 / options.ping_rate_hz));
    const auto ping = tickwire::demo::encode(
        tickwire::demo::PingMessage{client.next_sequence++, now_us(), "hello from the demo"});
    (void)client.transport->send(kProbeChannel, Delivery::unreliable_sequenced, ping);
  }
}

void report(int index, DemoClient& client) {
  const auto stats = client.transport->stats(client.transport->server());
  if (!stats) {
    spdlog::info("client {}: not connected", index);
    return;
  }
  const double kbit_in =
      static_cast<double>(stats->bytes_received - client.bytes_in_at_last_report) * 8 / 1000;
  const double kbit_out =
      static_cast<double>(stats->bytes_sent - client.bytes_out_at_last_report) * 8 / 1000;
  client.bytes_in_at_last_report = stats->bytes_received;
  client.bytes_out_at_last_report = stats->bytes_sent;
  spdlog::info(
      "client {}: ping {:.2f} ms | enet rtt {:.0f} ms ± {:.0f} | loss {:.1f}% | msgs out {} in {} "
      "| {:.1f} kbit/s in, {:.1f} out | queued {}",
      index, client.last_probe_rtt_ms, stats->rtt_ms, stats->rtt_variance_ms,
      stats->packet_loss * 100, stats->messages_sent, stats->messages_received, kbit_in, kbit_out,
      stats->messages_queued);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "Tickwire network demo: a server and clients exchanging messages over ENet on "
      "127.0.0.1, with stats once a second."};
  app.add_option("--duration", options.duration_s, "Seconds to run; 0 = until Ctrl-C")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--port", options.port, "Server UDP port; 0 = any free port")
      ->capture_default_str();
  app.add_option("--clients", options.clients, "Number of clients")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--ping-rate", options.ping_rate_hz, "Pings per second per client")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  app.add_option("--latency-ms", options.latency_ms, "Simulated one-way latency")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--jitter-ms", options.jitter_ms, "Simulated jitter (at most the latency)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--loss", options.loss_percent, "Simulated loss, percent each way")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--seed", options.seed, "Seed for the simulated network");
  CLI11_PARSE(app, argc, argv);

  // Tickwire's own log lines into spdlog, beside the demo's (spdlog's loggers are thread-safe).
  tickwire::net::set_log_sink(
      [](const tickwire::net::LogRecord& record) {
        const auto level = [&] {
          switch (record.level) {
            case tickwire::net::LogLevel::debug:
              return spdlog::level::debug;
            case tickwire::net::LogLevel::info:
              return spdlog::level::info;
            case tickwire::net::LogLevel::warning:
              return spdlog::level::warn;
            case tickwire::net::LogLevel::error:
            case tickwire::net::LogLevel::off:
              break;
          }
          return spdlog::level::err;
        }();
        spdlog::log(level, "tickwire {}: {}", record.category, record.message);
      },
      tickwire::net::LogLevel::info);

  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });

  // The demo plays its own lobby: it issues every client a ticket with the session's keys.
  const auto lobby = tickwire::net::JoinTicketIssuer::generate();
  const auto seal = tickwire::net::GameServerSealKeys::generate();
  const std::string server_name = "net-demo";
  tickwire::net::EnetServerConfig server_config;
  server_config.port = options.port;
  server_config.require_ticket =
      tickwire::net::TicketRequirement{lobby.public_key(), server_name, 2000, seal};
  auto server = tickwire::net::make_enet_server(server_config);
  if (!server) {
    spdlog::error("server: {}", server.error());
    return 1;
  }
  spdlog::info("server: listening on 127.0.0.1:{}", (*server)->port());

  std::unique_ptr<tickwire::net::UdpLinkSimulator> link;
  std::uint16_t client_port = (*server)->port();
  const tickwire::net::LinkConditions conditions{.latency_ms = options.latency_ms,
                                                 .jitter_ms = options.jitter_ms,
                                                 .loss = options.loss_percent / 100.0};
  if (!conditions.is_perfect()) {
    tickwire::net::UdpLinkSimulatorConfig link_config;
    link_config.target_port = client_port;
    link_config.conditions = tickwire::net::NetworkConditions::symmetric(conditions, options.seed);
    auto started = tickwire::net::UdpLinkSimulator::start(link_config);
    if (!started) {
      spdlog::error("network simulator: {}", started.error());
      return 1;
    }
    link = std::move(started.value());
    client_port = link->port();
    spdlog::info("network simulator on 127.0.0.1:{}: {} ms ± {} ms, {}% loss each way", client_port,
                 options.latency_ms, options.jitter_ms, options.loss_percent);
  }

  std::vector<DemoClient> clients(static_cast<std::size_t>(options.clients));
  for (auto& client : clients) {
    tickwire::net::EnetClientConfig client_config;
    client_config.server_port = client_port;
    auto issued = lobby.issue_with_keys(1, 1, server_name, seal.public_key);
    client_config.join_ticket = std::move(issued.ticket);
    client_config.session_keys = issued.keys;
    auto made = tickwire::net::make_enet_client(client_config);
    if (!made) {
      spdlog::error("client: {}", made.error());
      return 1;
    }
    client.transport = std::move(made.value());
  }

  const auto start = Clock::now();
  auto next_report = start + std::chrono::seconds(1);
  while (!g_stop) {
    const auto now = Clock::now();
    if (options.duration_s > 0 && now - start >= std::chrono::duration<double>(options.duration_s))
      break;
    serve(**server);
    for (std::size_t i = 0; i < clients.size(); ++i)
      play(static_cast<int>(i + 1), clients[i], options);
    if (now >= next_report) {
      next_report += std::chrono::seconds(1);
      for (std::size_t i = 0; i < clients.size(); ++i)
        report(static_cast<int>(i + 1), clients[i]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  int connected = 0;
  for (const auto& client : clients)
    connected += client.ever_connected ? 1 : 0;
  spdlog::info("{} of {} clients connected; shutting down", connected, clients.size());
  clients.clear();  // each client says goodbye to the server
  const auto goodbye_deadline = Clock::now() + std::chrono::milliseconds(200);
  while ((*server)->connected_peers() > 0 && Clock::now() < goodbye_deadline)
    serve(**server);
  const auto counters = (*server)->counters();
  spdlog::info("server: {} datagrams in, {} dropped as malformed, {} stale; clean exit",
               counters.datagrams_received, counters.dropped_malformed, counters.dropped_stale);
  return connected == options.clients ? 0 : 2;
}
