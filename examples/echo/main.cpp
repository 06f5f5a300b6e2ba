// echo: the smallest Tickwire server and client. Both live in this process and talk over ENet on
// 127.0.0.1 the way a shipped game does: encrypted, with a join ticket. A lobby normally issues
// the ticket; here this program plays the lobby too.

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/net/log.hpp>

#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

namespace net = tickwire::net;

int main() {
  // Tickwire's log (a refused ticket, a peer disconnected for abuse...) into the game's own; by
  // default warnings and errors go to stderr. The sink is called on Tickwire's threads too.
  net::set_log_sink(
      [](const net::LogRecord& record) {
        std::fprintf(stderr, "echo: [%s] %s: %s\n",
                     std::string(net::to_string(record.level)).c_str(),
                     std::string(record.category).c_str(), std::string(record.message).c_str());
      },
      net::LogLevel::info);

  // The lobby's signing key and the game server's sealing key pair (keep both in files).
  const auto lobby = net::JoinTicketIssuer::generate();
  const auto seal = net::GameServerSealKeys::generate();

  net::EnetServerConfig server_config;  // every field documented in the header
  server_config.port = 0;               // any free port
  server_config.require_ticket = net::TicketRequirement{lobby.public_key(), "echo:1", 2000, seal};
  auto server = net::make_enet_server(server_config);
  if (!server) return std::fprintf(stderr, "server: %s\n", server.error().c_str()), 1;

  // The lobby's side: a ticket for player 1 to join match 1 on "echo:1", with session keys.
  net::IssuedTicket issued = lobby.issue_with_keys(1, 1, "echo:1", seal.public_key);
  net::EnetClientConfig client_config;
  client_config.server_port = (*server)->port();
  client_config.join_ticket = std::move(issued.ticket);
  client_config.session_keys = issued.keys;
  auto client = net::make_enet_client(client_config);
  if (!client) return std::fprintf(stderr, "client: %s\n", client.error().c_str()), 1;

  constexpr std::string_view kHello = "hello, tickwire";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  net::Event event;
  while (std::chrono::steady_clock::now() < deadline) {             // one frame of a game loop
    while ((*server)->poll(event, std::chrono::milliseconds(1))) {  // events on this thread
      if (event.type == net::EventType::message)                    // echo it back
        (void)(*server)->send(event.peer, event.channel, net::Delivery::reliable_ordered,
                              event.payload.bytes());
    }
    while ((*client)->poll(event)) {
      if (event.type == net::EventType::connected) {
        std::printf("client: connected\n");
        (void)(*client)->send(0, net::Delivery::reliable_ordered, std::as_bytes(std::span(kHello)));
      } else if (event.type == net::EventType::message) {
        const std::string_view text(reinterpret_cast<const char*>(event.payload.data()),
                                    event.payload.size());
        const auto stats = (*client)->stats((*client)->server());
        std::printf("client: echo \"%.*s\" (rtt %.1f ms)\n", static_cast<int>(text.size()),
                    text.data(), stats ? stats->rtt_ms : 0.0);
        return text == kHello ? 0 : 1;
      } else if (event.type == net::EventType::disconnected) {
        // ticket_refusal says why when the server refused the ticket ("expired", "reused"...).
        std::fprintf(stderr, "client: disconnected: %s (%s)\n",
                     std::string(net::to_string(event.reason)).c_str(),
                     std::string(net::to_string(event.ticket_refusal)).c_str());
        return 1;
      }
    }
  }
  std::fprintf(stderr, "client: no echo within 10 s\n");
  return 1;
}
