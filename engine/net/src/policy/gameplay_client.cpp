// GameplayClient: ENet first, WebSocket when UDP gets no answer, one ClientTransport throughout,
// with the lobby's ticket and session keys on whichever transport carries the connection.

#include <string>
#include <utility>

#include "forwarding_transport.hpp"
#include "tickwire/net/log.hpp"
#include "tickwire/net/traffic_policy.hpp"

namespace tickwire::net {
namespace {

EnetClientConfig enet_config_of(const GameplayClientConfig& config) {
  EnetClientConfig enet = config.enet;
  enet.join_ticket = config.join_ticket;
  enet.session_keys = config.session_keys;
  return enet;
}

WebSocketClientConfig websocket_config_of(const GameplayClientConfig& config) {
  WebSocketClientConfig websocket = config.websocket;
  websocket.join_ticket = config.join_ticket;
  websocket.session_keys = config.session_keys;
  return websocket;
}

// Forwards to the transport carrying the connection now (target_), which poll() swaps for a
// WebSocket client when UDP gets no answer.
class FallbackClient final : public detail::ForwardingTransport<GameplayClient, ClientTransport> {
 public:
  FallbackClient(GameplayClientConfig config, std::unique_ptr<ClientTransport> first,
                 TransportKind kind)
      : ForwardingTransport(std::move(first)), config_(std::move(config)), kind_(kind) {}

  TransportKind kind() const override { return kind_; }
  ClientState state() const override {
    return fallback_failed_ ? ClientState::disconnected : target_->state();
  }
  PeerId server() const override { return target_->server(); }

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    if (fallback_failed_) return false;
    while (target_->poll(event, wait)) {
      if (event.type == EventType::connected) connected_once_ = true;
      const bool udp_unanswered = event.type == EventType::disconnected && !connected_once_ &&
                                  kind_ == TransportKind::enet &&
                                  event.reason == DisconnectReason::connect_failed &&
                                  config_.policy.gameplay_falls_back_to_websocket;
      if (!udp_unanswered) return true;
      // UDP never got an answer: the game sees nothing of it, only the WebSocket attempt.
      log(LogLevel::warning, "policy",
          "UDP to " + config_.enet.server_host + ":" + std::to_string(config_.enet.server_port) +
              " got no answer: falling back to WebSocket " + config_.websocket.server_host + ":" +
              std::to_string(config_.websocket.server_port));
      auto websocket = make_websocket_client(websocket_config_of(config_));
      if (!websocket.ok()) {
        log(LogLevel::error, "policy", "the WebSocket fallback cannot start: " + websocket.error());
        fallback_failed_ = true;
        return true;  // report the connect_failed after all
      }
      target_ = std::move(websocket.value());
      kind_ = TransportKind::websocket;
    }
    return false;
  }

 private:
  GameplayClientConfig config_;
  TransportKind kind_;
  bool connected_once_ = false;
  bool fallback_failed_ = false;
};

Status check_endpoint(const char* name, const std::string& host, std::uint16_t port,
                      const char* what) {
  if (host.empty() || port == 0) {
    return Status::error(std::string(name) +
                         ".server_host/server_port are not set: name the game "
                         "server's " +
                         what +
                         " endpoint as the lobby hands it out (nothing "
                         "defaults to localhost)");
  }
  return {};
}

}  // namespace

Status GameplayClientConfig::validate() const {
  const bool uses_enet = policy.gameplay == TransportKind::enet;
  const bool uses_websocket =
      policy.gameplay == TransportKind::websocket || policy.gameplay_falls_back_to_websocket;
  if (!enet.join_ticket.empty() || enet.session_keys || !websocket.join_ticket.empty() ||
      websocket.session_keys) {
    return Status::error(
        "a ticket or session keys are set in enet or websocket: set GameplayClientConfig's "
        "join_ticket and session_keys, which serve whichever transport connects");
  }
  if (uses_enet) {
    if (Status status = check_endpoint("enet", enet.server_host, enet.server_port, "UDP");
        !status.ok()) {
      return status;
    }
    if (Status status = enet_config_of(*this).validate(); !status.ok())
      return Status::error("enet." + status.message());
  }
  if (uses_websocket) {
    if (Status status =
            check_endpoint("websocket", websocket.server_host, websocket.server_port, "WebSocket");
        !status.ok()) {
      return status;
    }
    if (Status status = websocket_config_of(*this).validate(); !status.ok()) {
      return Status::error("websocket." + status.message());
    }
  }
  return {};
}

Result<std::unique_ptr<GameplayClient>> make_gameplay_client(const GameplayClientConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  const auto over_websocket = [&]() -> Result<std::unique_ptr<GameplayClient>> {
    auto websocket = make_websocket_client(websocket_config_of(config));
    if (!websocket.ok()) return Status::error(websocket.error());
    return std::unique_ptr<GameplayClient>(std::make_unique<FallbackClient>(
        config, std::move(websocket.value()), TransportKind::websocket));
  };
  if (config.policy.gameplay == TransportKind::websocket) return over_websocket();
  auto udp = make_enet_client(enet_config_of(config));
  if (!udp.ok()) {
    // ENet cannot even start (a host with no IPv4 address): as good as no answer.
    if (config.policy.gameplay_falls_back_to_websocket) {
      log(LogLevel::warning, "policy",
          "ENet cannot start (" + udp.error() + "): gameplay goes over WebSocket");
      return over_websocket();
    }
    return Status::error(udp.error());
  }
  return std::unique_ptr<GameplayClient>(
      std::make_unique<FallbackClient>(config, std::move(udp.value()), TransportKind::enet));
}

}  // namespace tickwire::net
