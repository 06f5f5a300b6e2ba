// LobbyServer: the WebSocket server (raw framing), the lobby's thread that polls it and feeds the
// LobbyService, and the HTTP routes on the same port.

#include <pthread.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "lobby/lobby_http.hpp"
#include "lobby/lobby_metrics.hpp"
#include "lobby/lobby_service.hpp"
#include "lobby/lobby_state.hpp"
#include "lobby/lobby_validation.hpp"
#include "tickwire/net/lobby.hpp"
#include "websocket/close_codes.hpp"
#include "websocket/peer_link.hpp"
#include "websocket/websocket_server.hpp"

namespace tickwire::net {
namespace {

using lobby_detail::LobbyService;

// How long the lobby's thread waits for network input before it looks at its timers (resume
// grace), and how often it does so at most.
constexpr auto kPollWait = std::chrono::milliseconds(20);
constexpr auto kTickInterval = std::chrono::milliseconds(50);
// How long a broadcast's frame (a chat line, a presence change) may wait for the next ones to the
// same connection, to share one socket write with them. Nobody reads chat to the millisecond,
// and with a room of 100 a write per frame is most of what a chat line costs the server.
// Replies to a client's own requests do not wait.
constexpr auto kBroadcastFlushDelay = std::chrono::microseconds(1000);

// The service's close reasons in WebSocket terms: the close code a browser sees, the
// DisconnectReason a Tickwire client recovers from the close frame's text, and whether the replies
// already queued go first (they say why) or are dropped (the peer does not read them anyway).
struct WebSocketClose {
  DisconnectReason reason;
  std::uint16_t code;
  bool after_writes;
};

WebSocketClose websocket_close_for(lobby_detail::CloseReason reason) {
  namespace code = websocket_detail::close_code;
  using lobby_detail::CloseReason;
  switch (reason) {
    case CloseReason::malformed:
      return {DisconnectReason::protocol_error, code::bad_payload, true};
    case CloseReason::unsupported:
      return {DisconnectReason::protocol_error, code::unsupported_data, true};
    case CloseReason::flooding:
      return {DisconnectReason::rate_limited, code::policy_violation, true};
    case CloseReason::no_hello:
      return {DisconnectReason::refused, code::policy_violation, false};
    case CloseReason::slow_reader:
      return {DisconnectReason::rate_limited, code::policy_violation, false};
    case CloseReason::registration_refused:
      return {DisconnectReason::refused, code::policy_violation, true};
    case CloseReason::resumed_elsewhere:
      return {DisconnectReason::kicked, code::normal, true};
    case CloseReason::request_queue_full:
      return {DisconnectReason::rate_limited, code::policy_violation, false};
  }
  return {DisconnectReason::refused, code::policy_violation, true};
}

lobby_detail::SendOutcome outcome_of(SendResult result) {
  using lobby_detail::SendOutcome;
  switch (result) {
    case SendResult::ok:
      return SendOutcome::sent;
    case SendResult::queue_full:
      return SendOutcome::queue_full;
    case SendResult::too_large:
      return SendOutcome::too_large;
    case SendResult::unknown_peer:
    case SendResult::invalid_channel:
    case SendResult::failed:
      break;
  }
  return SendOutcome::gone;
}

class TransportOutput final : public lobby_detail::LobbyOutput {
 public:
  explicit TransportOutput(websocket_detail::WebSocketServerTransport& server) : server_(server) {}

  lobby_detail::SendOutcome send(PeerId peer, std::span<const std::byte> message,
                                 bool text) override {
    return outcome_of(server_.send(peer, channel_for(text), Delivery::reliable_ordered, message));
  }
  void send_many(std::span<const PeerId> peers, std::span<const std::byte> message, bool text,
                 std::vector<PeerId>& behind) override {
    results_.resize(peers.size());
    server_.send_to_many(peers, channel_for(text), message, results_);
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (results_[i] == SendResult::queue_full) behind.push_back(peers[i]);
    }
  }
  void close(PeerId peer, lobby_detail::CloseReason reason) override {
    const WebSocketClose close = websocket_close_for(reason);
    server_.disconnect_with_code(peer, close.reason, close.code, close.after_writes);
  }

 private:
  static Channel channel_for(bool text) {
    return text ? websocket_detail::kRawTextChannel : websocket_detail::kRawBinaryChannel;
  }

  websocket_detail::WebSocketServerTransport& server_;
  std::vector<SendResult> results_;  // send_many()'s, kept to spare an allocation per broadcast
};

}  // namespace

struct LobbyServer::Impl {
  Impl(LobbyConfig lobby_config, JoinTicketIssuer issuer, std::shared_ptr<LobbyState> lobby_state)
      : config(std::move(lobby_config)),
        tickets(std::move(issuer)),
        state(std::move(lobby_state)) {}

  // What the HTTP routes read, made on the lobby's thread: the io thread never waits on the state.
  struct Snapshot {
    lobby_detail::RoomsSnapshot rooms = std::make_shared<const std::vector<RoomInfo>>();
    std::uint64_t players = 0;
  };

  // `live`: players and rooms read from the state now (a caller's thread may wait on it);
  // otherwise from the lobby thread's last snapshot (the io thread's /metrics never waits).
  LobbyCounters counters(bool live) const {
    LobbyCounters out = metrics.snapshot();
    if (live) {
      out.players = state->player_count();
      out.rooms = state->room_count();
    } else {
      const Snapshot now = snapshot();
      out.players = now.players;
      out.rooms = now.rooms->size();
    }
    out.state_round_trips = state->round_trips();
    out.state_dropped_broadcasts = state->dropped_broadcasts();
    return out;
  }
  Snapshot snapshot() const {
    std::lock_guard lock(snapshot_mutex);
    return latest;
  }
  // On the lobby's thread, when the state's rooms may have changed: read by a state operation
  // (on a state worker when the state may block), one at a time.
  void refresh_snapshot(LobbyService& service) {
    const std::uint64_t version = state->version();
    if (snapshot_running || (snapshot_made && version == snapshot_version)) return;
    snapshot_running = true;
    RoomFilter all;
    all.limit = config.max_rooms;
    service.on_state(
        kInvalidPeer,
        [all](LobbyState& read) {
          return Snapshot{std::make_shared<const std::vector<RoomInfo>>(read.list_rooms(all)),
                          read.player_count()};
        },
        [this, version](Snapshot made) {
          snapshot_running = false;
          snapshot_version = version;
          snapshot_made = true;
          std::lock_guard lock(snapshot_mutex);
          latest = std::move(made);
        });
  }

  // The state's subscription: any thread queues, the lobby's thread delivers.
  void queue_broadcast(Broadcast broadcast) {
    {
      std::lock_guard lock(inbox_mutex);
      inbox.push_back(std::move(broadcast));
    }
    // From the lobby's own thread (an in-memory state's publish) the wake only ends its next
    // wait early; from a store's subscriber thread it ends the wait it is in.
    server->wake();
  }
  void deliver_queued(LobbyService& service) {
    while (!service.delivering()) {
      std::vector<Broadcast> queued;
      {
        std::lock_guard lock(inbox_mutex);
        if (inbox.empty()) return;
        queued.swap(inbox);
      }
      // All at once: the service reads each room's members once for the whole batch.
      service.deliver(queued);
    }
  }

  void run() {
    LobbyService service(config, *state, tickets, *output, metrics, [this] { server->wake(); });
    auto next_tick = std::chrono::steady_clock::now();
    Event event;
    while (!stopping.load()) {
      heartbeat_ms = steady_now_ms();
      // What the state workers finished: answers, and the requests that waited for them. Once
      // a turn: what they start finishes in a later one, after the network had its turn.
      service.run_completions();
      deliver_queued(service);
      refresh_snapshot(service);
      bool any = server->poll(event, kPollWait);
      while (any) {
        const auto now = std::chrono::steady_clock::now();
        heartbeat_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        switch (event.type) {
          case EventType::connected:
            service.on_connected(event.peer, server->peer_address(event.peer), now);
            break;
          case EventType::disconnected:
            service.on_disconnected(event.peer, now);
            break;
          case EventType::message:
            service.on_message(event.peer, event.payload.bytes(),
                               event.channel == websocket_detail::kRawTextChannel, now);
            break;
        }
        event.payload.reset();
        // What the event published goes out before the next event is handled, as it would if
        // the state delivered at once: with the in-memory state a player's own chat line
        // reaches them before the answer to their next request.
        deliver_queued(service);
        service.run_completions();
        any = !stopping.load() && server->poll(event, std::chrono::milliseconds(0));
      }
      for (const std::uint64_t match : take(began_matches))
        service.match_began(match);
      for (const auto& [match, reason] : take(ended_matches))
        service.end_match(match, reason);
      deliver_queued(service);
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_tick) {
        next_tick = now + kTickInterval;
        service.on_tick(now);
        deliver_queued(service);
        const TransportCounters transport = server->counters();
        metrics.transport_dropped_oversize = transport.dropped_oversize;
        metrics.transport_dropped_malformed = transport.dropped_malformed;
        metrics.transport_rate_limited = transport.dropped_rate_limited;
      }
    }
  }

  static std::int64_t steady_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // The lobby's thread beats at least every kPollWait plus the work of one batch of events.
  bool turning() const {
    return steady_now_ms() - heartbeat_ms.load() <= static_cast<std::int64_t>(config.stall_ms);
  }

  template <typename T>
  std::vector<T> take(std::vector<T>& reports) {
    std::lock_guard lock(reports_mutex);
    return std::exchange(reports, {});
  }

  // From end_match() and match_began() on the game server's thread, for the lobby's thread.
  std::mutex reports_mutex;
  std::vector<std::pair<std::uint64_t, MatchEndReason>> ended_matches;
  std::vector<std::uint64_t> began_matches;
  const LobbyConfig config;
  const JoinTicketIssuer tickets;
  const std::shared_ptr<LobbyState> state;
  std::uint64_t subscription = 0;
  std::mutex inbox_mutex;
  std::vector<Broadcast> inbox;
  mutable std::mutex snapshot_mutex;
  Snapshot latest;
  // The lobby's thread's: the version() `latest` was made at, and whether a refresh is running.
  std::uint64_t snapshot_version = 0;
  bool snapshot_made = false;
  bool snapshot_running = false;
  lobby_detail::LobbyMetrics metrics;
  std::unique_ptr<websocket_detail::WebSocketServerTransport> server;
  std::unique_ptr<TransportOutput> output;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> heartbeat_ms{steady_now_ms()};  // the lobby's thread's last turn
  bool started = false;
  std::thread thread;
};

LobbyServer::LobbyServer(LobbyConfig config, JoinTicketIssuer tickets)
    : LobbyServer(std::move(config), std::move(tickets), make_in_memory_lobby_state()) {}

LobbyServer::LobbyServer(LobbyConfig config, JoinTicketIssuer tickets,
                         std::shared_ptr<LobbyState> state)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(tickets), std::move(state))) {}

LobbyServer::~LobbyServer() {
  stop();
}

Status LobbyServer::start() {
  if (impl_->started) return Status::error("a LobbyServer starts once: make a new one");
  if (!impl_->state) return Status::error("the LobbyServer was given no state: pass one, or none");
  if (Status status = impl_->config.validate(); !status.ok()) return status;
  WebSocketServerConfig transport = impl_->config.websocket;
  transport.common.framing = WebSocketFraming::raw;
  transport.common.channel_count = 2;
  // No gameplay sessions: the lobby is where players get their tickets (LobbyConfig::validate).
  transport.require_ticket.reset();
  transport.security = SessionSecurity::plaintext_for_development;
  Impl& impl = *impl_;
  auto routes = lobby_detail::make_lobby_http_handler(
      impl.config, [&impl] { return impl.snapshot().rooms; }, impl.metrics,
      [&impl] { return impl.counters(/*live=*/false); }, [&impl] { return impl.turning(); });
  auto made = websocket_detail::make_websocket_server(
      transport, std::move(routes.requests), {kBroadcastFlushDelay}, std::move(routes.uploads));
  if (!made.ok()) return Status::error(made.error());
  impl.started = true;
  impl.server = std::move(made.value());
  impl.output = std::make_unique<TransportOutput>(*impl.server);
  impl.subscription = impl.state->subscribe(
      [&impl](Broadcast broadcast) { impl.queue_broadcast(std::move(broadcast)); });
  try {
    impl.thread = std::thread([&impl] { impl.run(); });
    // Named, so that an operator's top -H (and a test) can tell it from the io thread; here and
    // not in run(), so that the name is there once start() returns.
    pthread_setname_np(impl.thread.native_handle(), "tickwire-lobby");
  } catch (const std::system_error& error) {
    impl.state->unsubscribe(impl.subscription);
    impl.server.reset();
    return Status::error(std::string("cannot start the lobby's thread: ") + error.what());
  }
  return {};
}

void LobbyServer::stop() {
  if (!impl_->server) return;
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  // Before the server goes: a delivery queued after this would wake a server that is gone.
  impl_->state->unsubscribe(impl_->subscription);
  // Closes every connection with 1001 (going away); the HTTP handler goes with it.
  impl_->server.reset();
  impl_->output.reset();
}

std::uint16_t LobbyServer::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

Status LobbyServer::register_game_server(const std::string& address, std::uint32_t capacity,
                                         const std::optional<ServerSealPublicKey>& seal_key,
                                         const std::string& websocket_address) {
  if (seal_key && !lobby_detail::is_usable_seal_key(*seal_key)) {
    return Status::error("game server " + address +
                         ": the seal key is not a usable X25519 public key (a low-order point, "
                         "such as all zeros); pass its GameServerSealKeys::public_key");
  }
  impl_->state->put_game_server({.address = address,
                                 .websocket_address = websocket_address,
                                 .capacity = capacity,
                                 .seal_key = seal_key});
  return {};
}

void LobbyServer::report_game_server_load(const std::string& address, std::uint32_t players) {
  impl_->state->set_game_server_load(address, players, UINT64_MAX);  // in this process: no lease
}

void LobbyServer::unregister_game_server(const std::string& address) {
  impl_->state->remove_game_server(address);
}

void LobbyServer::end_match(std::uint64_t match_id, MatchEndReason reason) {
  // The service (and what it publishes) belongs to the lobby's thread: hand the end over.
  std::lock_guard lock(impl_->reports_mutex);
  impl_->ended_matches.emplace_back(match_id, reason);
}

void LobbyServer::match_began(std::uint64_t match_id) {
  std::lock_guard lock(impl_->reports_mutex);
  impl_->began_matches.push_back(match_id);
}

LobbyCounters LobbyServer::counters() const {
  return impl_->counters(/*live=*/true);
}

}  // namespace tickwire::net
