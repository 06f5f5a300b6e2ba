#include "lobby_link.hpp"

#include <cstdio>
#include <utility>

namespace arena {

namespace net = tickwire::net;

LobbyLink::LobbyLink(std::string lobby_host, std::uint16_t lobby_port, LobbyTlsOptions lobby_tls,
                     net::GameServerRegistration registration)
    : lobby_host_(std::move(lobby_host)),
      lobby_port_(lobby_port),
      lobby_tls_(std::move(lobby_tls)),
      registration_request_(std::move(registration)) {}

void LobbyLink::connect() {
  net::LobbyClientConfig config;
  config.websocket.server_host = lobby_host_;
  config.websocket.server_port = lobby_port_;
  apply_lobby_tls(lobby_tls_, config.websocket);
  auto client = net::LobbyClient::connect(config);
  if (!client) {
    std::fprintf(stderr, "lobby link: %s\n", client.error().c_str());
    retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    return;
  }
  client_ = std::move(client.value());
  registered_ = false;
  reported_players_ = -1;
}

void LobbyLink::poll(std::uint32_t players) {
  if (!client_) {
    if (std::chrono::steady_clock::now() >= retry_at_) connect();
    return;
  }
  net::LobbyEvent event;
  while (client_->poll(event)) {
    switch (event.type) {
      case net::LobbyEventType::connected:
        registration_ = client_->register_game_server(registration_request_);
        break;
      case net::LobbyEventType::reply:
        if (event.request_id == registration_) {
          registered_ = event.error == net::LobbyError::none;
          if (registered_) {
            std::printf("registered with the lobby at %s:%u as %s\n", lobby_host_.c_str(),
                        static_cast<unsigned>(lobby_port_), registration_request_.address.c_str());
          } else {
            std::fprintf(stderr, "lobby link: registration refused: %s\n",
                         event.error_message.c_str());
          }
          std::fflush(stdout);
        }
        break;
      case net::LobbyEventType::disconnected:
        std::fprintf(stderr, "lobby link: connection closed (%s); retrying in 2 s\n",
                     std::string(net::to_string(event.reason)).c_str());
        client_.reset();
        retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        return;
      default:
        break;
    }
  }
  if (!registered_) return;
  // The lobby's lease on this server is 3 s by default (LobbyConfig::game_server_lease_ms): a
  // report every second keeps it through two lost or late ones.
  constexpr auto kHeartbeat = std::chrono::seconds(1);
  const auto now = std::chrono::steady_clock::now();
  if (reported_players_ != players || now >= next_heartbeat_) {
    client_->report_load(players);
    reported_players_ = players;
    next_heartbeat_ = now + kHeartbeat;
  }
  for (const std::uint64_t match : std::exchange(began_, {}))
    client_->report_match_began(match);
  for (const auto& [match, reason] : std::exchange(ended_, {}))
    client_->report_match_end(match, reason);
}

}  // namespace arena
