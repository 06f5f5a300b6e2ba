// The in-memory network. A Hub holds every connection (a Link with one queue per direction);
// endpoints push packets with a due time chosen by a LinkShaper and pop them when due.

#include "tickwire/net/loopback_transport.hpp"

#include <chrono>
#include <deque>
#include <queue>
#include <string>
#include <vector>

#include "conditions/link_shaper.hpp"

namespace tickwire::net {
namespace {

using conditions_detail::Fate;
using conditions_detail::LinkShaper;

enum class PacketKind : std::uint8_t { connect, welcome, message, disconnect };

struct Packet {
  std::uint64_t due_us = 0;
  std::uint64_t order = 0;
  PacketKind kind = PacketKind::message;
  Channel channel = 0;
  Delivery delivery = Delivery::reliable_ordered;
  std::uint32_t sequence = 0;
  DisconnectReason reason = DisconnectReason::closed;
  std::vector<std::byte> bytes;
};

struct DueLater {
  bool operator()(const Packet& a, const Packet& b) const {
    return a.due_us != b.due_us ? a.due_us > b.due_us : a.order > b.order;
  }
};

// One direction of one connection.
struct Direction {
  std::priority_queue<Packet, std::vector<Packet>, DueLater> in_flight;
  std::vector<std::uint32_t> next_sequence;       // per channel, sender side
  std::vector<std::uint32_t> delivered_sequence;  // per channel, receiver side
  std::uint64_t last_ordered_due_us = 0;          // reliable traffic never overtakes itself
  ConnectionStats counts;             // sends counted by the sender, deliveries by the receiver
  std::uint64_t bytes_in_flight = 0;  // message bytes pushed and not yet taken
  std::uint64_t reliable_bytes_in_flight = 0;

  void push(Packet packet) {
    if (packet.kind == PacketKind::message) {
      bytes_in_flight += packet.bytes.size();
      if (packet.delivery == Delivery::reliable_ordered) {
        reliable_bytes_in_flight += packet.bytes.size();
      }
    }
    in_flight.push(std::move(packet));
  }
  // The packet due first (the caller checked there is one).
  Packet take() {
    Packet packet = std::move(const_cast<Packet&>(in_flight.top()));
    in_flight.pop();
    if (packet.kind == PacketKind::message) {
      bytes_in_flight -= packet.bytes.size();
      if (packet.delivery == Delivery::reliable_ordered) {
        reliable_bytes_in_flight -= packet.bytes.size();
      }
    }
    return packet;
  }
};

// The send window the loopback reports (ConnectionStats::send_window_bytes): ENet's largest. It
// delivers whatever it is given after its latency, so a bulk sender pacing itself needs a bound
// to pace against, and this one makes it behave as over ENet on a fast link.
constexpr std::uint64_t kLoopbackSendWindowBytes = 64 * 1024;

enum class LinkState : std::uint8_t { connecting, connected, closed };

struct Link {
  PeerId id = kInvalidPeer;  // the client's id on the server; the server's id on the client
  LinkState state = LinkState::connecting;
  bool client_alive = true;
  Direction to_server;
  Direction to_client;
};

class Hub {
 public:
  explicit Hub(LoopbackConfig config)
      : config_(std::move(config)),
        to_server_shaper_(config_.conditions.client_to_server, config_.conditions.seed),
        to_client_shaper_(config_.conditions.server_to_client,
                          config_.conditions.seed ^ 0x9E3779B97F4A7C15ull) {}

  const LoopbackConfig& config() const { return config_; }
  const NetworkConditions& conditions() const {
    return conditions_ ? *conditions_ : config_.conditions;
  }
  void set_conditions(const NetworkConditions& conditions) {
    conditions_ = conditions;
    to_server_shaper_.set_conditions(conditions.client_to_server);
    to_client_shaper_.set_conditions(conditions.server_to_client);
  }

  std::uint64_t now_us() const {
    if (config_.clock) return config_.clock();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  Link& add_link() {
    links_.push_back(std::make_unique<Link>());
    Link& link = *links_.back();
    link.id = static_cast<PeerId>(links_.size());
    for (Direction* direction : {&link.to_server, &link.to_client}) {
      direction->next_sequence.assign(config_.channel_count, 0);
      direction->delivered_sequence.assign(config_.channel_count, 0);
    }
    return link;
  }
  Link* link(PeerId id) { return id >= 1 && id <= links_.size() ? links_[id - 1].get() : nullptr; }
  std::vector<std::unique_ptr<Link>>& links() { return links_; }

  // Puts a packet in flight towards the server (`to_server`) or the client.
  void send(Link& link, bool to_server, Packet packet) {
    Direction& direction = to_server ? link.to_server : link.to_client;
    LinkShaper& shaper = to_server ? to_server_shaper_ : to_client_shaper_;
    const bool ordered =
        packet.kind != PacketKind::message || packet.delivery == Delivery::reliable_ordered;
    const Fate fate = shaper.decide(!ordered);
    if (fate.dropped) return;
    const std::uint64_t now = now_us();
    for (int copy = 0; copy < fate.copies; ++copy) {
      Packet out = copy + 1 < fate.copies ? packet : std::move(packet);
      out.due_us = now + fate.delay_us[copy];
      if (ordered) {
        out.due_us = std::max(out.due_us, direction.last_ordered_due_us);
        direction.last_ordered_due_us = out.due_us;
      }
      out.order = next_order_++;
      direction.push(std::move(out));
    }
  }

  bool server_exists = false;

 private:
  LoopbackConfig config_;
  std::optional<NetworkConditions> conditions_;
  LinkShaper to_server_shaper_;
  LinkShaper to_client_shaper_;
  std::vector<std::unique_ptr<Link>> links_;
  std::uint64_t next_order_ = 0;
};

// What both ends do alike: checks on send, sequencing and stats on receive.
class LoopbackEnd {
 protected:
  explicit LoopbackEnd(std::shared_ptr<Hub> hub) : hub_(std::move(hub)) {}

  SendResult check_send(const Link* link, Channel channel, std::size_t size) const {
    if (link == nullptr || link->state != LinkState::connected) return SendResult::unknown_peer;
    if (channel >= hub_->config().channel_count) return SendResult::invalid_channel;
    if (size > hub_->config().max_message_size) return SendResult::too_large;
    return SendResult::ok;
  }

  void send_message(Link& link, bool to_server, Channel channel, Delivery delivery,
                    std::span<const std::byte> bytes) {
    Direction& direction = to_server ? link.to_server : link.to_client;
    Packet packet;
    packet.kind = PacketKind::message;
    packet.channel = channel;
    packet.delivery = delivery;
    packet.sequence = ++direction.next_sequence[channel];
    packet.bytes.assign(bytes.begin(), bytes.end());
    ++direction.counts.messages_sent;
    direction.counts.bytes_sent += bytes.size();
    hub_->send(link, to_server, std::move(packet));
  }

  // Turns a due message into an event; false if sequencing says it is stale.
  static bool accept_message(Direction& direction, Packet& packet, PeerId from, Event& out) {
    if (packet.delivery == Delivery::unreliable_sequenced) {
      std::uint32_t& delivered = direction.delivered_sequence[packet.channel];
      if (packet.sequence <= delivered) return false;
      delivered = packet.sequence;
    }
    ++direction.counts.messages_received;
    direction.counts.bytes_received += packet.bytes.size();
    out.type = EventType::message;
    out.peer = from;
    out.channel = packet.channel;
    out.payload = Payload::copy_of(packet.bytes);
    return true;
  }

  ConnectionStats stats_of(const Link& link, bool server_side) const {
    const Direction& outgoing = server_side ? link.to_client : link.to_server;
    const Direction& incoming = server_side ? link.to_server : link.to_client;
    const NetworkConditions& conditions = hub_->conditions();
    ConnectionStats stats;
    stats.rtt_ms = conditions.client_to_server.latency_ms + conditions.server_to_client.latency_ms;
    stats.rtt_variance_ms =
        conditions.client_to_server.jitter_ms + conditions.server_to_client.jitter_ms;
    // Round-trip loss, as ENet measures it: the message or its acknowledgement lost.
    stats.packet_loss =
        1 - (1 - conditions.client_to_server.loss) * (1 - conditions.server_to_client.loss);
    stats.messages_sent = outgoing.counts.messages_sent;
    stats.bytes_sent = outgoing.counts.bytes_sent;
    stats.messages_received = incoming.counts.messages_received;
    stats.bytes_received = incoming.counts.bytes_received;
    stats.messages_queued = static_cast<std::uint32_t>(outgoing.in_flight.size());
    stats.bytes_queued = outgoing.bytes_in_flight;
    stats.reliable_bytes_in_flight = outgoing.reliable_bytes_in_flight;
    stats.send_window_bytes = kLoopbackSendWindowBytes;
    return stats;
  }

  std::shared_ptr<Hub> hub_;
  std::deque<Event> local_events_;  // our own disconnects, reported on the next poll
  TransportCounters counters_;
};

class LoopbackServer final : public ServerTransport, LoopbackEnd {
 public:
  explicit LoopbackServer(std::shared_ptr<Hub> hub) : LoopbackEnd(std::move(hub)) {
    hub_->server_exists = true;
  }
  ~LoopbackServer() override {
    for (auto& link : hub_->links()) {
      if (link->state != LinkState::closed) close(*link, DisconnectReason::shutdown);
    }
    hub_->server_exists = false;
  }

  std::uint16_t port() const override { return 0; }

  bool poll(Event& event, std::chrono::milliseconds /*wait*/) override {
    if (!local_events_.empty()) {
      event = std::move(local_events_.front());
      local_events_.pop_front();
      return true;
    }
    const std::uint64_t now = hub_->now_us();
    for (auto& link_ptr : hub_->links()) {
      Link& link = *link_ptr;
      auto& in_flight = link.to_server.in_flight;
      while (!in_flight.empty() && in_flight.top().due_us <= now) {
        Packet packet = link.to_server.take();
        if (handle(link, packet, event)) return true;
      }
    }
    return false;
  }

  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    Link* link = hub_->link(peer);
    const SendResult result = check_send(link, channel, message.size());
    if (result == SendResult::ok) send_message(*link, false, channel, delivery, message);
    return result;
  }
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    for (auto& link : hub_->links()) {
      const SendResult result = check_send(link.get(), channel, message.size());
      if (result == SendResult::invalid_channel || result == SendResult::too_large) return result;
      if (result == SendResult::ok) send_message(*link, false, channel, delivery, message);
    }
    return SendResult::ok;
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    Link* link = hub_->link(peer);
    if (link == nullptr || link->state != LinkState::connected) return;
    close(*link, reason);
    local_events_.push_back(Event{EventType::disconnected, peer, 0, reason, {}});
  }
  void flush() override {}
  std::optional<ConnectionStats> stats(PeerId peer) const override {
    Link* link = hub_->link(peer);
    if (link == nullptr || link->state != LinkState::connected) return std::nullopt;
    return stats_of(*link, true);
  }
  TransportCounters counters() const override { return counters_; }
  std::size_t connected_peers() const override { return connected_; }

 private:
  void close(Link& link, DisconnectReason reason) {
    if (link.state == LinkState::connected) --connected_;
    link.state = LinkState::closed;
    Packet bye;
    bye.kind = PacketKind::disconnect;
    bye.reason = reason;
    hub_->send(link, false, std::move(bye));
  }

  bool handle(Link& link, Packet& packet, Event& out) {
    switch (packet.kind) {
      case PacketKind::connect: {
        if (connected_ >= hub_->config().max_peers) {
          ++counters_.refused_connections;
          link.state = LinkState::closed;
          Packet refusal;
          refusal.kind = PacketKind::disconnect;
          refusal.reason = DisconnectReason::server_full;
          hub_->send(link, false, std::move(refusal));
          return false;
        }
        link.state = LinkState::connected;
        ++connected_;
        ++counters_.connections_accepted;
        Packet welcome;
        welcome.kind = PacketKind::welcome;
        hub_->send(link, false, std::move(welcome));
        out = Event{EventType::connected, link.id, 0, DisconnectReason::timeout, {}};
        return true;
      }
      case PacketKind::message:
        if (link.state != LinkState::connected) return false;
        return accept_message(link.to_server, packet, link.id, out);
      case PacketKind::disconnect:
        if (link.state != LinkState::connected) return false;
        link.state = LinkState::closed;
        --connected_;
        out = Event{EventType::disconnected, link.id, 0, packet.reason, {}};
        return true;
      case PacketKind::welcome:
        break;
    }
    return false;
  }

  std::size_t connected_ = 0;
};

class LoopbackClient final : public ClientTransport, LoopbackEnd {
 public:
  LoopbackClient(std::shared_ptr<Hub> hub, Link& link) : LoopbackEnd(std::move(hub)), link_(link) {
    Packet hello;
    hello.kind = PacketKind::connect;
    hub_->send(link_, true, std::move(hello));
  }
  ~LoopbackClient() override {
    if (link_.state == LinkState::connected) send_disconnect(DisconnectReason::closed);
    link_.client_alive = false;
  }

  ClientState state() const override { return state_; }
  PeerId server() const override {
    return state_ == ClientState::connected ? kServerId : kInvalidPeer;
  }

  bool poll(Event& event, std::chrono::milliseconds /*wait*/) override {
    if (!local_events_.empty()) {
      event = std::move(local_events_.front());
      local_events_.pop_front();
      return true;
    }
    const std::uint64_t now = hub_->now_us();
    if (state_ == ClientState::connecting && !hub_->server_exists) {
      state_ = ClientState::disconnected;
      event = Event{EventType::disconnected, kServerId, 0, DisconnectReason::connect_failed, {}};
      return true;
    }
    auto& in_flight = link_.to_client.in_flight;
    while (!in_flight.empty() && in_flight.top().due_us <= now) {
      Packet packet = link_.to_client.take();
      if (handle(packet, event)) return true;
    }
    return false;
  }

  SendResult send(PeerId peer, Channel channel, Delivery delivery,
                  std::span<const std::byte> message) override {
    const SendResult result =
        check_send(peer == kServerId && state_ == ClientState::connected ? &link_ : nullptr,
                   channel, message.size());
    if (result == SendResult::ok) send_message(link_, true, channel, delivery, message);
    return result;
  }
  using ClientTransport::send;
  SendResult broadcast(Channel channel, Delivery delivery,
                       std::span<const std::byte> message) override {
    return send(kServerId, channel, delivery, message);
  }
  void disconnect(PeerId peer, DisconnectReason reason) override {
    if (peer != kServerId || state_ != ClientState::connected) return;
    send_disconnect(reason);
    local_events_.push_back(Event{EventType::disconnected, kServerId, 0, reason, {}});
  }
  void flush() override {}
  std::optional<ConnectionStats> stats(PeerId peer) const override {
    if (peer != kServerId || state_ != ClientState::connected) return std::nullopt;
    return stats_of(link_, false);
  }
  TransportCounters counters() const override { return counters_; }
  std::size_t connected_peers() const override { return state_ == ClientState::connected ? 1 : 0; }

 private:
  // A client has one peer, the server, always under this id.
  static constexpr PeerId kServerId = 1;

  void send_disconnect(DisconnectReason reason) {
    state_ = ClientState::disconnected;
    Packet bye;
    bye.kind = PacketKind::disconnect;
    bye.reason = reason;
    hub_->send(link_, true, std::move(bye));
  }

  bool handle(Packet& packet, Event& out) {
    switch (packet.kind) {
      case PacketKind::welcome:
        if (state_ != ClientState::connecting) return false;
        state_ = ClientState::connected;
        out = Event{EventType::connected, kServerId, 0, DisconnectReason::timeout, {}};
        return true;
      case PacketKind::message:
        if (state_ != ClientState::connected) return false;
        return accept_message(link_.to_client, packet, kServerId, out);
      case PacketKind::disconnect:
        if (state_ == ClientState::disconnected) return false;
        state_ = ClientState::disconnected;
        out = Event{EventType::disconnected, kServerId, 0, packet.reason, {}};
        return true;
      case PacketKind::connect:
        break;
    }
    return false;
  }

  Link& link_;
  ClientState state_ = ClientState::connecting;
};

class LoopbackNetworkImpl final : public LoopbackNetwork {
 public:
  explicit LoopbackNetworkImpl(LoopbackConfig config)
      : hub_(std::make_shared<Hub>(std::move(config))) {}

  Result<std::unique_ptr<ServerTransport>> make_server() override {
    if (server_made_) return Status::error("this LoopbackNetwork already has its server");
    server_made_ = true;
    return std::unique_ptr<ServerTransport>(std::make_unique<LoopbackServer>(hub_));
  }
  std::unique_ptr<ClientTransport> make_client() override {
    return std::make_unique<LoopbackClient>(hub_, hub_->add_link());
  }
  void set_conditions(const NetworkConditions& conditions) override {
    hub_->set_conditions(conditions);
  }

 private:
  std::shared_ptr<Hub> hub_;
  bool server_made_ = false;
};

}  // namespace

Status LoopbackConfig::validate() const {
  if (channel_count < 1 || channel_count > 255) {
    return Status::error("channel_count = " + std::to_string(channel_count) +
                         " is invalid: use 1..255");
  }
  if (max_message_size < 1) return Status::error("max_message_size = 0 is invalid: use >= 1");
  if (max_peers < 1) return Status::error("max_peers = 0 is invalid: use >= 1");
  return conditions.validate();
}

Result<std::unique_ptr<LoopbackNetwork>> LoopbackNetwork::create(LoopbackConfig config) {
  if (Status status = config.validate(); !status.ok()) return status;
  return std::unique_ptr<LoopbackNetwork>(std::make_unique<LoopbackNetworkImpl>(std::move(config)));
}

}  // namespace tickwire::net
