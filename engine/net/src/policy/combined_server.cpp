// combine_servers: several ServerTransports as one, with peer ids unique across them, and one
// memory of used tickets across those that admit by ticket.

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
#include <utility>

#include "ticket_gate.hpp"
#include "tickwire/net/traffic_policy.hpp"

namespace tickwire::net {
namespace {

class CombinedServer final : public ServerTransport {
 public:
  explicit CombinedServer(std::vector<std::unique_ptr<ServerTransport>> servers)
      : servers_(std::move(servers)) {}

  // The first server's port (the ENet one, by convention).
  std::uint16_t port() const override { return servers_.front()->port(); }

  bool poll(Event& event, std::chrono::milliseconds wait) override {
    // Every server gets its turn, starting after the one that reported last, so a busy one
    // cannot starve the others. A wait is spent in slices of at most 1 ms on one server, so
    // that traffic arriving at another is not left waiting for the whole of it.
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      for (std::size_t n = 0; n < servers_.size(); ++n) {
        const std::size_t index = (next_ + n) % servers_.size();
        if (!servers_[index]->poll(event, std::chrono::milliseconds(0))) continue;
        next_ = (index + 1) % servers_.size();
        translate(index, event);
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      const std::size_t index = next_;
      if (servers_[index]->poll(event, std::min(left, std::chrono::milliseconds(1)))) {
        next_ = (index + 1) % servers_.size();
        translate(index, event);
        return true;
      }
    }
  }

  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    const auto route = routes_.find(peer);
    if (route == routes_.end()) return SendResult::unknown_peer;
    return servers_[route->second.server]->send(route->second.inner, channel, delivery, message);
  }
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    SendResult result = SendResult::ok;
    for (auto& server : servers_) {
      const SendResult one = server->broadcast(channel, delivery, message);
      if (one != SendResult::ok) result = one;
    }
    return result;
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    const auto route = routes_.find(peer);
    if (route != routes_.end())
      servers_[route->second.server]->disconnect(route->second.inner, reason);
  }
  void flush() override {
    for (auto& server : servers_)
      server->flush();
  }
  std::optional<ConnectionStats> stats(PeerId peer) const override {
    const auto route = routes_.find(peer);
    if (route == routes_.end()) return std::nullopt;
    return servers_[route->second.server]->stats(route->second.inner);
  }
  std::optional<JoinTicket> ticket_of(PeerId peer) const override {
    const auto route = routes_.find(peer);
    if (route == routes_.end()) return std::nullopt;
    return servers_[route->second.server]->ticket_of(route->second.inner);
  }
  TransportCounters counters() const override {
    TransportCounters sum;
    for (const auto& server : servers_) {
      const TransportCounters c = server->counters();
      sum.datagrams_received += c.datagrams_received;
      sum.wire_bytes_received += c.wire_bytes_received;
      sum.datagrams_sent += c.datagrams_sent;
      sum.wire_bytes_sent += c.wire_bytes_sent;
      sum.connections_accepted += c.connections_accepted;
      sum.dropped_malformed += c.dropped_malformed;
      sum.dropped_oversize += c.dropped_oversize;
      sum.dropped_stale += c.dropped_stale;
      sum.dropped_rate_limited += c.dropped_rate_limited;
      sum.refused_connections += c.refused_connections;
      sum.peers_disconnected_for_abuse += c.peers_disconnected_for_abuse;
      sum.rejected_tickets += c.rejected_tickets;
      sum.dropped_unauthenticated += c.dropped_unauthenticated;
      sum.dropped_forged += c.dropped_forged;
      sum.dropped_replayed += c.dropped_replayed;
      sum.challenges_sent += c.challenges_sent;
      sum.dropped_forged_disconnects += c.dropped_forged_disconnects;
      sum.dropped_before_admission += c.dropped_before_admission;
      sum.dropped_reassembly_limit += c.dropped_reassembly_limit;
      sum.dropped_ticket_held += c.dropped_ticket_held;
    }
    return sum;
  }
  std::size_t connected_peers() const override {
    std::size_t total = 0;
    for (const auto& server : servers_)
      total += server->connected_peers();
    return total;
  }

 private:
  struct Route {
    std::size_t server;
    PeerId inner;
  };

  // Gives each (server, inner id) a combined id of its own for as long as the peer lives.
  void translate(std::size_t server, Event& event) {
    const std::uint64_t key = (std::uint64_t{server} << 32) | event.peer;
    if (event.type == EventType::connected) {
      PeerId id = next_id_++;
      if (next_id_ == kInvalidPeer) ++next_id_;
      ids_[key] = id;
      routes_[id] = {server, event.peer};
      event.peer = id;
      return;
    }
    const auto found = ids_.find(key);
    if (found == ids_.end()) return;  // an event for a peer we never saw connect
    event.peer = found->second;
    if (event.type == EventType::disconnected) {
      routes_.erase(found->second);
      ids_.erase(found);
    }
  }

  std::vector<std::unique_ptr<ServerTransport>> servers_;
  std::size_t next_ = 0;
  PeerId next_id_ = 1;
  std::unordered_map<std::uint64_t, PeerId> ids_;
  std::unordered_map<PeerId, Route> routes_;
};

}  // namespace

namespace {

// The servers are one game server: tickets name it once, and a ticket is used once across all of
// them. A server that admits without tickets beside one that requires them would be a way around
// the tickets, so that is refused too.
Status share_ticket_admission(std::vector<std::unique_ptr<ServerTransport>>& servers) {
  std::vector<detail::TicketGate*> gates;
  for (const auto& server : servers) {
    auto* gate = dynamic_cast<detail::TicketGate*>(server.get());
    if (gate != nullptr && gate->ticket_requirement().has_value()) gates.push_back(gate);
  }
  if (gates.empty()) return {};
  if (gates.size() != servers.size()) {
    return Status::error(
        "combine_servers: " + std::to_string(gates.size()) + " of " +
        std::to_string(servers.size()) +
        " servers require join tickets: a player could skip the ticket through another; give "
        "every server the same require_ticket, or none");
  }
  const TicketRequirement& first = *gates.front()->ticket_requirement();
  for (detail::TicketGate* gate : gates) {
    const TicketRequirement& other = *gate->ticket_requirement();
    if (other.server_address != first.server_address) {
      return Status::error(
          "combine_servers: the servers name the game server differently in "
          "require_ticket.server_address ('" +
          first.server_address + "' and '" + other.server_address +
          "'): tickets name one game server, give every transport that name");
    }
    if (other.lobby_key != first.lobby_key) {
      return Status::error(
          "combine_servers: the servers trust different lobby keys (require_ticket.lobby_key): "
          "give every transport the same one");
    }
  }
  for (std::size_t i = 1; i < gates.size(); ++i)
    gates.front()->ticket_verifier()->share_used_nonces(*gates[i]->ticket_verifier());
  return {};
}

}  // namespace

Result<std::unique_ptr<ServerTransport>> combine_servers(
    std::vector<std::unique_ptr<ServerTransport>> servers) {
  if (servers.empty()) return Status::error("combine_servers needs at least one server");
  for (const auto& server : servers) {
    if (server == nullptr) return Status::error("combine_servers was given a null server");
  }
  if (Status status = share_ticket_admission(servers); !status.ok()) return status;
  return std::unique_ptr<ServerTransport>(std::make_unique<CombinedServer>(std::move(servers)));
}

}  // namespace tickwire::net
