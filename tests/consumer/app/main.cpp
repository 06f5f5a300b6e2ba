// The smallest game that links Tickwire: a server and a client over ENet on loopback exchange one
// message. Built by the consumer tests against an installed Tickwire and via add_subdirectory.

#include <tickwire/net/enet_transport.hpp>
#include <tickwire/sim/fixed_tick.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>

int main() {
  // An encrypted session, as a shipped game runs it: this program plays the lobby too.
  const auto lobby = tickwire::net::JoinTicketIssuer::generate();
  const auto seal = tickwire::net::GameServerSealKeys::generate();
  tickwire::net::EnetServerConfig server_config;
  server_config.port = 0;
  server_config.require_ticket =
      tickwire::net::TicketRequirement{lobby.public_key(), "consumer:1", 2000, seal};
  auto server = tickwire::net::make_enet_server(server_config);
  if (!server) {
    std::fprintf(stderr, "server: %s\n", server.error().c_str());
    return 1;
  }
  tickwire::net::EnetClientConfig client_config;
  client_config.server_port = (*server)->port();
  auto issued = lobby.issue_with_keys(1, 1, "consumer:1", seal.public_key);
  client_config.join_ticket = std::move(issued.ticket);
  client_config.session_keys = issued.keys;
  auto client = tickwire::net::make_enet_client(client_config);
  if (!client) {
    std::fprintf(stderr, "client: %s\n", client.error().c_str());
    return 1;
  }

  constexpr std::string_view kHello = "hello";
  bool sent = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  tickwire::net::Event event;
  while (std::chrono::steady_clock::now() < deadline) {
    while ((*client)->poll(event)) {
      if (event.type == tickwire::net::EventType::connected && !sent) {
        (void)(*client)->send(0, tickwire::net::Delivery::reliable_ordered,
                              std::as_bytes(std::span(kHello.data(), kHello.size())));
        sent = true;
      }
    }
    while ((*server)->poll(event, std::chrono::milliseconds(1))) {
      if (event.type == tickwire::net::EventType::message &&
          std::string_view(reinterpret_cast<const char*>(event.payload.data()),
                           event.payload.size()) == kHello) {
        auto clock = tickwire::sim::FixedTickClock::create({});
        if (!clock) {
          std::fprintf(stderr, "consumer: %s\n", clock.error().c_str());
          return 1;
        }
        std::printf("consumer: message received; tick %llu\n",
                    static_cast<unsigned long long>(clock.value().tick()));
        return 0;
      }
    }
  }
  std::fprintf(stderr, "consumer: no message within 5 s\n");
  return 1;
}
