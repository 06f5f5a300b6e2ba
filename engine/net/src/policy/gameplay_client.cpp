// GameplayClient: ENet first, WebSocket when UDP gets no answer, one ClientTransport throughout.

#include <utility>

#include "forwarding_transport.hpp"
#include "tickwire/net/traffic_policy.hpp"

namespace tickwire::net {
namespace {

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
      auto websocket = make_websocket_client(config_.websocket);
      if (!websocket.ok()) {
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

}  // namespace

Status GameplayClientConfig::validate() const {
  if (policy.udp_timeout_ms == 0) {
    return Status::error("policy.udp_timeout_ms = 0 is invalid: use > 0");
  }
  if (policy.gameplay == TransportKind::enet) {
    if (Status status = enet.validate(); !status.ok())
      return Status::error("enet." + status.message());
  }
  if (policy.gameplay == TransportKind::websocket || policy.gameplay_falls_back_to_websocket) {
    if (Status status = websocket.validate(); !status.ok()) {
      return Status::error("websocket." + status.message());
    }
  }
  return {};
}

Result<std::unique_ptr<GameplayClient>> make_gameplay_client(const GameplayClientConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  if (config.policy.gameplay == TransportKind::websocket) {
    auto websocket = make_websocket_client(config.websocket);
    if (!websocket.ok()) return Status::error(websocket.error());
    return std::unique_ptr<GameplayClient>(std::make_unique<FallbackClient>(
        config, std::move(websocket.value()), TransportKind::websocket));
  }
  EnetClientConfig enet = config.enet;
  // The UDP attempt gives up after the policy's timeout, so the fallback starts in time.
  if (config.policy.gameplay_falls_back_to_websocket)
    enet.connect_timeout_ms = config.policy.udp_timeout_ms;
  auto udp = make_enet_client(enet);
  if (!udp.ok()) return Status::error(udp.error());
  return std::unique_ptr<GameplayClient>(
      std::make_unique<FallbackClient>(config, std::move(udp.value()), TransportKind::enet));
}

}  // namespace tickwire::net
