#pragma once
// The Transport interface forwarded, method for method, to an object that does the work: an ENet
// endpoint behind the ENet roles, the active transport behind the fallback gameplay client.
// Subclasses add what their role needs and override what they do differently.

#include <memory>
#include <utility>

#include "tickwire/net/transport.hpp"

namespace tickwire::net::detail {

template <typename Role, typename Target>
class ForwardingTransport : public Role {
 public:
  explicit ForwardingTransport(std::unique_ptr<Target> target) : target_(std::move(target)) {}

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    return target_->poll(event, wait);
  }
  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    return target_->send(peer, channel, delivery, message);
  }
  using Role::send;
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    return target_->broadcast(channel, delivery, message);
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    target_->disconnect(peer, reason);
  }
  void flush() override { target_->flush(); }
  std::optional<ConnectionStats> stats(PeerId peer) const override { return target_->stats(peer); }
  TransportCounters counters() const override { return target_->counters(); }
  std::size_t connected_peers() const override { return target_->connected_peers(); }

 protected:
  std::unique_ptr<Target> target_;
};

}  // namespace tickwire::net::detail
