#pragma once
// The lobby's rules: sessions and players, rooms, chat, presence, ready-up, match start and
// reconnection. Socket-free: it takes transport events in and sends through LobbyOutput, so the
// rules are the same whatever carries them. Runs on one thread (the lobby's), which alone touches
// its maps (sessions, players, per-address counts).
//
// Calls to the state: a request is a prepare step on the lobby's thread (it reads the maps and
// copies what the state needs), a state operation (on_state: a closure given the LobbyState,
// run on a state worker when the state may block), and a completion back on the lobby's thread
// (it updates the maps and answers). While a connection's request is with the state its next
// messages (and its disconnect) wait in its own queue, so that its requests are answered in
// order; other connections go on. Timers and deliveries run their state reads the same way, one
// of each kind at a time. With the in-memory state the operation and its completion run at once.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lobby/lobby_codec.hpp"
#include "lobby/lobby_messages.hpp"
#include "lobby/lobby_metrics.hpp"
#include "lobby/lobby_state.hpp"
#include "lobby/rate_limiter.hpp"
#include "lobby/registration_backoff.hpp"
#include "lobby/registration_statement.hpp"
#include "lobby/state_workers.hpp"
#include "log/log_limiter.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"

namespace tickwire::net::lobby_detail {

// Why the service closes a connection. It names the reason only: the transport beneath picks how
// that crosses the wire (LobbyServer maps each to a WebSocket close code).
enum class CloseReason : std::uint8_t {
  malformed,             // sent frames that are not a LobbyMessage
  unsupported,           // sent a body a client may not send
  flooding,              // went on past its rate limit for flood_strikes requests
  no_hello,              // said no Hello within hello_timeout_ms
  slow_reader,           // does not read: its send queue is full
  registration_refused,  // a game server's registration was refused (or its address is locked out)
  resumed_elsewhere,     // its player resumed on another connection with this session's token
  request_queue_full,    // sent over max_queued_requests requests without waiting for answers
};

std::string_view to_string(CloseReason reason);

// What became of a message handed to LobbyOutput.
enum class SendOutcome : std::uint8_t {
  sent,        // queued for the connection
  gone,        // the connection has closed (its disconnect is on the way): nothing to do
  too_large,   // over the transport's message size: the connection is fine, the message is not
  queue_full,  // the connection does not read: it fell behind
};

// Where the service's messages go: the WebSocket server, in production.
class LobbyOutput {
 public:
  virtual ~LobbyOutput() = default;
  // One message to one connection, as a text frame when `text`.
  virtual SendOutcome send(PeerId peer, std::span<const std::byte> message, bool text) = 0;
  // send() of one message to each of `peers` (a broadcast); appends those whose queue is full
  // (they fell behind) to `behind`. The transport's version copies the message once and hands it
  // over once.
  virtual void send_many(std::span<const PeerId> peers, std::span<const std::byte> message,
                         bool text, std::vector<PeerId>& behind) {
    for (const PeerId peer : peers) {
      if (send(peer, message, text) == SendOutcome::queue_full) behind.push_back(peer);
    }
  }
  // Closes the connection for `reason`.
  virtual void close(PeerId peer, CloseReason reason) = 0;
};

class LobbyService {
 public:
  using Clock = std::chrono::steady_clock;
  // How often on_tick() looks for stuck matches (a scan of the rooms in a match).
  static constexpr std::chrono::milliseconds kMatchCheckInterval{250};
  // How often on_tick() looks for players of a lobby process that died (their leases, 15 s by
  // default, are what it waits on: the resume check's 50 ms would only add round trips).
  static constexpr std::chrono::milliseconds kLapseCheckInterval{1000};

  // Every reference must outlive the service. `wake` ends the lobby thread's wait for network
  // input (a state worker calls it when a completion is ready for run_completions()).
  LobbyService(const LobbyConfig& config, LobbyState& state, const JoinTicketIssuer& tickets,
               LobbyOutput& output, LobbyMetrics& metrics, std::function<void()> wake);

  // `address`: the connection's IP address, for the per-address limits.
  void on_connected(PeerId peer, std::string address, Clock::time_point now);
  void on_disconnected(PeerId peer, Clock::time_point now);
  // `text`: the message came in a text frame (JSON); else binary (FlatBuffers).
  void on_message(PeerId peer, std::span<const std::byte> message, bool text,
                  Clock::time_point now);
  // Frees the seats of players whose resume grace has passed, (at most every
  // kLapseCheckInterval) shows disconnected those of a lobby process that died, and (at most
  // every kMatchCheckInterval) ends the matches nobody reached and those of game servers whose
  // lease ran out.
  void on_tick(Clock::time_point now);
  // The match is over (its game server said so, or the lobby found it stuck): its room returns
  // to the lobby and its members are told why (nothing happens if no room plays it).
  void end_match(std::uint64_t match_id, MatchEndReason reason);
  // A player reached the match's game server (nothing happens if no room plays it).
  void match_began(std::uint64_t match_id);
  // Sends Broadcasts of the state's fan-out, in order, to the local players each is for. The
  // lobby's thread calls it with what the state's subscription queued (never from inside the
  // state's call). A room's members are read from the state once for the whole batch, not once
  // per broadcast: with a Redis state that read is a round trip, and a busy room's chat lines
  // arrive many to a batch. The read is made after every broadcast of the batch was published,
  // so it is as current for the first as a read per broadcast would be. A state that may block
  // is not read again for a batch whose rooms nothing can have changed since the last read (see
  // RoomsRead): a busy room's chat then costs no hand-off to a state worker per batch.
  void deliver(std::span<const Broadcast> broadcasts);
  // A batch of deliver() waits for its rooms' members from the state: the next batch waits too
  // (broadcasts are delivered in order).
  bool delivering() const { return delivering_; }
  // On the lobby's thread: finishes the state operations that are done (their answers, their
  // sessions' next requests). True if any was.
  bool run_completions() { return workers_.run_completions() > 0; }

  // Runs `op(LobbyState&)` (on a state worker, when the state may block), then `done(result)` on
  // the lobby's thread. `owner`: the connection whose request it is (kInvalidPeer for none): its
  // later messages wait until `done` has run.
  template <typename Op, typename Done>
  void on_state(PeerId owner, Op op, Done done);

 private:
  // Rooms read from the state for deliver(), and when. Only this process's connected players
  // get its deliveries, and their rooms change only by their own requests (a join, a leave, a
  // resume, a kick by a host here) or by another process's broadcast that changes_rooms (a host
  // there kicking them), which changes the state's version() as it arrives, before what follows
  // it is queued. So a read stays good while neither the version nor the count of requests
  // started and ended has moved, and no request is with the state.
  struct RoomsRead {
    std::vector<std::pair<RoomId, std::optional<RoomInfo>>> rooms;
    std::uint64_t version = 0;
    std::uint64_t requests = 0;  // requests_ when the read was started
    bool good = false;
  };
  // Whether `rooms_read_` holds every one of `rooms` and nothing can have changed them since.
  bool rooms_read_still_good(std::span<const RoomId> rooms, std::uint64_t version) const;
  // Keeps a read made for a batch: added to the rooms read before when those are as recent,
  // in their place otherwise.
  void keep_rooms_read(std::vector<std::pair<RoomId, std::optional<RoomInfo>>> read,
                       std::uint64_t version, std::uint64_t requests);
  void deliver_batch(std::span<const Broadcast> broadcasts);
  // A message that arrived while its connection's previous request was with the state.
  struct QueuedMessage {
    std::vector<std::byte> bytes;
    bool text = false;
    Clock::time_point arrived;
  };
  struct Session {
    Session(const LobbyConfig& config, Clock::time_point now);
    // State operations of this connection's request not finished yet, and what waits for them.
    std::size_t in_flight = 0;
    std::deque<QueuedMessage> waiting;
    bool disconnect_waiting = false;  // its connection closed: handled once nothing is in flight
    PlayerId player = 0;              // 0 until Hello
    Clock::time_point hello_deadline;
    std::string address;  // the client's IP address
    bool json = false;    // the client last spoke JSON: answer it in JSON
    bool closing = false;
    std::size_t malformed_frames = 0;
    std::string game_server;  // the address this connection registered as a game server
    // The challenge this connection's next RegisterGameServer must sign; each is used once.
    std::optional<RegistrationChallenge> registration_challenge;
    FloodGuard requests;
    FloodGuard chat;
  };
  // A player attached to a connection of this process.
  struct Player {
    PeerId peer = kInvalidPeer;
    std::string nickname;
    RoomId room = 0;
    std::string resume_token;
    std::string address;  // its connection's IP address (per-address limits)
  };
  struct Request {
    PeerId peer;
    Session& session;
    const wire::LobbyMessage& message;
    std::uint64_t id;
    Clock::time_point now;
  };

  // Whom a completion answers: the request's connection and id.
  struct Answer {
    PeerId peer;
    std::uint64_t id;
  };
  static Answer answer_of(const Request& request) { return {request.peer, request.id}; }

  // A message of a connection with nothing in flight: decoded, checked and dispatched.
  void handle_message(PeerId peer, Session& session, std::span<const std::byte> message, bool text,
                      Clock::time_point now);
  // A state operation of `owner`'s ended: handles what waited for it (session_queue.cpp).
  void finish_state(PeerId owner);
  void drain(PeerId peer);
  // The connection is gone: its player drops (or waits for their resume), its session goes.
  void disconnect(PeerId peer);
  void dispatch(const Request& request);
  void hello(const Request& request, const wire::Hello& hello);
  void resume(const Request& request, const std::string& token);
  void list_rooms(const Request& request, const wire::ListRooms& list);
  void create_room(const Request& request, const wire::CreateRoom& create);
  void join_room(const Request& request, const wire::JoinRoom& join);
  void leave_room(const Request& request);
  void kick(const Request& request, const wire::KickPlayer& kick);
  void chat(const Request& request, const wire::SendChat& chat);
  void set_ready(const Request& request, const wire::SetReady& ready);
  void start_match(const Request& request);
  void spectate_match(const Request& request, const wire::SpectateMatch& spectate);
  // A ticket for `player`'s seat in `match` (or a spectator's ticket to watch it), with fresh
  // session keys, in a MatchStart to them.
  void send_match_ticket(PlayerId player, std::uint64_t match, const MatchServer& server,
                         TicketRole role = TicketRole::player);
  // Game-server registration (game_server_registration.cpp).
  void get_registration_challenge(const Request& request);
  void register_game_server(const Request& request, const wire::RegisterGameServer& registration);
  // Refuses a registration for `reason` (counted in `counter`): the address's failures grow its
  // lockout, and the connection closes after the error reply.
  void refuse_registration(const Request& request, std::atomic<std::uint64_t>& counter,
                           const std::string& reason);
  // True (after answering) when the request's address is locked out after failures.
  bool registration_locked_out(const Request& request);
  // The checks both registration requests start with (a player's connection, no allow-list, a
  // locked-out address): true after answering when one turns the request away.
  bool registration_turned_away(const Request& request);
  void report_load(const Request& request, const wire::ReportLoad& load);
  void report_match_end(const Request& request, const wire::MatchEnd& end);
  void report_match_began(const Request& request, const wire::MatchBegan& began);
  // Ends every match that is stuck: no player reached it by match_join_deadline_ms, or its game
  // server's lease ran out (matches_stuck.cpp).
  void end_stuck_matches(std::uint64_t now_unix_ms);
  // Tells the room its match ended.
  void publish_match_end(std::uint64_t match_id, RoomId room, MatchEndReason reason);
  // A registered server's lease, renewed until then.
  std::uint64_t lease_from(std::uint64_t now_unix_ms) const;

  // A player's removal from a room, done in the state (remove_in_state, on a state worker): the
  // member as the room had them (nothing if they were not in it) and the room before and after.
  struct Removal {
    std::optional<MemberInfo> member;
    LobbyPlayerId host_before = 0;
    std::optional<RoomInfo> after;
    bool closed = false;  // the room closed (they were its last member)
  };
  static Removal remove_in_state(LobbyState& state, RoomId room, PlayerId player);
  // What follows a removal on the lobby's thread: the room is told (`kind`: left or kicked) and
  // who is host now; a closed room no longer counts for its creator's address.
  void after_removal(RoomId room, const Removal& removal, wire::PresenceKind kind);
  // Renews the leases of the nicknames and resume records of this process's players (at most
  // every third of nickname_lease_ms).
  void renew_leases(Clock::time_point now);
  // A connected player's resume record, as this process keeps it (its deadline a lease from
  // `now_unix_ms`): if the process dies, the player resumes elsewhere until that deadline.
  ResumeRecord live_record(PlayerId id, const Player& player, std::uint64_t now_unix_ms) const;
  // The nickname lease of a connected player: past their record's deadline, so that the
  // nickname outlives the seat it names.
  std::uint64_t live_nickname_lease(std::uint64_t now_unix_ms) const;
  // Writes the player's record again after their room changed (no-op without resume grace), in
  // the state: the caller's state operation does it.
  void update_record(LobbyState& state, PlayerId id, const Player& player) const;
  // Ends this process's session of `player` whose token is `token`, if it has it: its player
  // resumed elsewhere. Nothing is dropped or freed: the seat and nickname are the new session's.
  // `counted_here`: the resume is on this process, which moves the nickname's per-address count
  // itself; else the count goes down here.
  void end_superseded_session(PlayerId player, const std::string& token, bool counted_here);

  // Answers the request; an answer too large to send becomes a reply_too_large error.
  void reply(const Request& request, const MessageBytes& message,
             const std::string* json = nullptr) {
    reply(answer_of(request), message, json);
  }
  void fail(const Request& request, wire::ErrorCode code, std::string message) {
    fail(answer_of(request), code, std::move(message));
  }
  void reply(const Answer& answer, const MessageBytes& message, const std::string* json = nullptr);
  void fail(const Answer& answer, wire::ErrorCode code, std::string message);
  // A frame that did not decode: an error reply that says why, then the close (at once, or after
  // max_malformed_frames of them).
  void reject(PeerId peer, Session& session, DecodeError error);
  // Sends to one connection, in its language (`json`: its JSON rendering, if made already); a
  // connection that does not read is closed.
  SendOutcome send(PeerId peer, const MessageBytes& message, const std::string* json = nullptr);
  // The same message to several connections that speak the same language (`text`: JSON).
  void deliver_one(const Broadcast& broadcast);
  // The room's state as read for the batch deliver() is sending (nothing if it is gone).
  const std::optional<RoomInfo>& batch_room(RoomId id) const;
  void send_many(std::span<const PeerId> peers, std::span<const std::byte> bytes, bool text);
  void close(PeerId peer, CloseReason reason);
  // A line in the log for a request refused by a per-address cap (`limit`: the config field).
  void log_address_limit(const Request& request, std::string_view limit);

  // The largest of make(count), make(count / 2), ... make(least) that fits in one message in
  // the session's language, with its JSON rendering in `json` for a JSON session; null if even
  // make(least) does not fit.
  MessageBytes fit(const Session& session, std::size_t count, std::size_t least,
                   const std::function<MessageBytes(std::size_t)>& make, std::string& json);
  // fit() for the connection `peer`, in its language; null if it is gone.
  MessageBytes fit(PeerId peer, std::size_t count, std::size_t least,
                   const std::function<MessageBytes(std::size_t)>& make, std::string& json);
  // The room's chat history as a joining player gets it: the newest lines within
  // chat_history_bytes.
  std::vector<ChatEntry> history_for_join(LobbyState& state, RoomId room) const;

  Player* player_of(const Session& session);
  // The player whose connection `peer` is, if it still is (a completion's: the player may have
  // resumed elsewhere meanwhile).
  Player* player_at(PeerId peer);
  static std::optional<MemberInfo> member_in(const std::optional<RoomInfo>& room, PlayerId player);
  // A player just shown disconnected in `room` (dropped here, or lapsed with a dead process), as
  // the room's presence event names them: as the room now has them, or (the room unreadable)
  // with their nickname alone.
  static MemberInfo disconnected_member(LobbyState& state, RoomId room, PlayerId player,
                                        const std::string& nickname);
  static void count_down(std::unordered_map<std::string, std::size_t>& counts,
                         const std::string& address);
  std::string new_resume_token();
  static std::uint64_t steady_ms(Clock::time_point now);

  const LobbyConfig& config_;
  LobbyState& state_;
  const JoinTicketIssuer& tickets_;
  LobbyOutput& output_;
  LobbyMetrics& metrics_;
  LobbyCodec codec_;
  std::unordered_map<PeerId, Session> sessions_;
  std::unordered_map<PlayerId, Player> players_;
  Clock::time_point next_match_check_{};
  Clock::time_point next_lapse_check_{};
  Clock::time_point next_nickname_renewal_{};
  // A timer's state operation is running: the timer waits for it rather than pile up.
  bool resume_check_running_ = false;
  bool match_check_running_ = false;
  bool renewal_running_ = false;
  bool delivering_ = false;  // a batch of deliver() waits for its rooms
  // Requests' state operations: started and ended (each counts one), and with the state now
  // (RoomsRead).
  std::uint64_t requests_ = 0;
  std::size_t requests_running_ = 0;
  // Per client address, what it holds of what everyone shares: open rooms its players created,
  // nicknames its players hold (connected or within their grace). Only addresses holding some.
  std::unordered_map<std::string, std::size_t> rooms_by_address_;
  std::unordered_map<RoomId, std::string> room_creator_address_;
  std::unordered_map<std::string, std::size_t> nicknames_by_address_;
  // Failed game-server registrations, per source address.
  RegistrationBackoff registration_backoff_;
  // Global chat's budget, in recipient-bytes (global_chat_bytes_per_second).
  TokenBucket global_chat_budget_;
  // The rooms read for the batch being delivered and perhaps later ones; deliver()'s scratch
  // space, kept to spare an allocation per broadcast: each broadcast's audience.
  RoomsRead rooms_read_;
  std::vector<PeerId> binary_audience_;
  std::vector<PeerId> json_audience_;
  std::vector<PeerId> behind_;
  // Log lines a client can trigger, held to a few a second each.
  std::array<detail::LogLimiter, 7> close_log_;  // by CloseReason
  detail::LogLimiter registration_log_;          // refused game-server registrations
  detail::LogLimiter address_limit_log_;         // per-address caps reached
  // Last: destroyed first, its threads joined before what their completions use goes.
  StateWorkers workers_;
};

template <typename Op, typename Done>
void LobbyService::on_state(PeerId owner, Op op, Done done) {
  using Result = std::invoke_result_t<Op&, LobbyState&>;
  if (!workers_.asynchronous()) {
    done(op(state_));
    return;
  }
  // A connection's request may change its player's room (RoomsRead); the rest (timers, drops,
  // deliveries) changes no connected player's room on this process.
  const auto session = sessions_.find(owner);
  const bool request = session != sessions_.end();
  if (request) {
    ++session->second.in_flight;
    ++requests_;
    ++requests_running_;
  }
  workers_.run([this, owner, request, op = std::move(op),
                done = std::move(done)](LobbyState& state) mutable -> StateWorkers::Completion {
    auto result = std::make_shared<Result>(op(state));
    return [this, owner, request, done = std::move(done), result = std::move(result)]() mutable {
      if (request) {
        ++requests_;
        --requests_running_;
      }
      done(std::move(*result));
      finish_state(owner);
    };
  });
}

}  // namespace tickwire::net::lobby_detail
