#pragma once
// The client side of the lobby (lobby.hpp): a game's menus and bots talk to a LobbyServer through
// it instead of building lobby.fbs messages by hand. It keeps what the lobby told it (who you are,
// the room you are in with its members, the last room list, recent chat) and reports each change
// as an event from poll(), on the caller's thread, like a Transport.
//
// Every request returns its request id; the lobby answers each with exactly one `reply` event
// carrying that id and, when it failed, the error. Replies that carry data update the state and
// are followed by the event for that data (`welcome`, `room_list`, `room_changed`).
//
// What it does not do: reconnect by itself. After `disconnected`, make a new client and send
// hello_resume() with resume_token() within the lobby's grace period to get the seat back.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/server_identity.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/types.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {

// The lobby's error codes (lobby.fbs ErrorCode, same values).
enum class LobbyError : std::uint16_t {
  none = 0,
  bad_request,
  hello_required,
  already_hello,
  nickname_invalid,
  nickname_taken,
  resume_failed,
  room_not_found,
  room_full,
  too_many_rooms,
  already_in_room,
  not_in_room,
  not_host,
  not_all_ready,
  player_not_found,
  rate_limited,
  no_game_server,
  match_in_progress,
  registration_refused,
  malformed,        // the lobby could not read a frame (a client bug): the message says why
  reply_too_large,  // the answer would not fit in one message: ask for less
  address_limit,    // this IP address holds as many rooms or nicknames as one address may
  no_match,         // spectate_match(): the room is playing no match
};
std::string_view to_string(LobbyError error);

struct LobbyRoomSummary {
  std::uint64_t room_id = 0;
  std::string name;
  std::string game_mode;
  std::uint16_t players = 0;
  std::uint16_t max_players = 0;
  bool in_match = false;
};

struct LobbyMember {
  std::uint64_t player_id = 0;
  std::string nickname;
  bool ready = false;
  bool connected = true;  // false while a dropped player's seat is kept for them
};

struct LobbyRoom {
  LobbyRoomSummary summary;
  std::uint64_t host_player_id = 0;
  std::vector<LobbyMember> members;

  const LobbyMember* member(std::uint64_t player_id) const;
  bool everyone_ready() const;
};

struct LobbyChatLine {
  ChatScope scope = ChatScope::room;
  std::uint64_t room_id = 0;
  std::uint64_t from_player_id = 0;
  std::string from_nickname;
  std::string to_nickname;  // whispers
  std::string text;
  std::uint64_t sent_unix_ms = 0;
};

// What the lobby hands every member when the host starts the match: present `ticket` to the game
// server at `server_address` ("host:port") as EnetClientConfig::join_ticket, with `session_keys`
// as EnetClientConfig::session_keys.
struct LobbyMatch {
  std::uint64_t match_id = 0;
  std::string server_address;  // "host:port" of the game server (UDP), as the ticket names it
  // "host:port" of the same server's WebSocket gameplay endpoint, where a client whose UDP gets
  // no answer falls back with the same ticket (GameplayClientConfig); empty when it has none.
  std::string websocket_address;
  std::vector<std::byte> ticket;
  // This player's keys for the session, the same the ticket carries sealed for the game server.
  // Unset when the game server runs without encryption. Secret: never log them.
  std::optional<SessionKeys> session_keys;
  // The ticket is a spectator's (the answer to spectate_match()): the game server shows the
  // match, delayed, and takes no inputs.
  bool spectator = false;
};

enum class LobbyEventType : std::uint8_t {
  connected,     // the WebSocket connection is open: send hello()
  disconnected,  // the connection ended (`reason`); the client is done
  reply,         // the answer to request `request_id`: `error` is none when it succeeded
  welcome,       // Hello accepted: player_id(), nickname(), resume_token() are set
  room_list,     // rooms() holds the lobby's answer to list_rooms(): every page of it
  room_changed,  // room() changed: joined, created, a member came, went, got ready, a new host
  room_left,     // no longer in a room (left, kicked: `kicked` says which)
  chat,          // `chat` arrived (also kept in chat_log())
  match_start,   // the host started the match, or spectate_match() was granted: `match` holds
                 // the ticket (match.spectator says which)
  match_end,     // the room's match is over: the room is back, everyone unready (`match_id`,
                 // `match_end_reason`)
};

struct LobbyEvent {
  LobbyEventType type = LobbyEventType::connected;
  std::uint64_t request_id = 0;                                // reply
  LobbyError error = LobbyError::none;                         // reply
  std::string error_message;                                   // reply, when error != none
  DisconnectReason reason = DisconnectReason::timeout;         // disconnected
  bool kicked = false;                                         // room_left
  LobbyChatLine chat;                                          // chat
  LobbyMatch match;                                            // match_start
  std::uint64_t match_id = 0;                                  // match_end
  MatchEndReason match_end_reason = MatchEndReason::finished;  // match_end
};

// A dedicated game server's offer to a lobby (LobbyClient::register_game_server()).
struct GameServerRegistration {
  // "host:port" players connect to, as their tickets will name it. Its host must be the IP
  // address this client reaches the lobby from, unless the lobby allows any.
  std::string address;
  // Players it can take, 1..the lobby's max_game_server_capacity.
  std::uint32_t capacity = 0;
  // Signs the lobby's challenge: its public key must be on the lobby's allow-list. Secret: never
  // log it.
  ServerIdentity identity;
  // The server's GameServerSealKeys::public_key (tickets to it then carry session keys sealed to
  // it), or nullopt for a server that runs without encryption.
  std::optional<ServerSealPublicKey> seal_key;
  // The lobby's ticket public key, when the server knows it (it checks tickets with it): the
  // client then signs for that lobby only, and a lobby that names another key is refused.
  // Unset: the key the lobby names goes into the signature.
  std::optional<TicketPublicKey> lobby_key;
  // "host:port" of its WebSocket gameplay endpoint (same host rule as `address`), handed to
  // players with their tickets for the fallback; empty: it has none.
  std::string websocket_address;
};

struct LobbyClientConfig {
  // Where the lobby listens and how its certificate is checked (TLS by default: set
  // websocket.tls.ca_file for a lobby with a self-signed certificate). The lobby's framing (raw)
  // and two channels are set by the client whatever is here. Defaults: those of
  // WebSocketClientConfig except port 7780 (the lobby's).
  WebSocketClientConfig websocket = default_websocket();
  // Chat lines kept in chat_log(). Default 100.
  std::size_t chat_log_length = 100;

  Status validate() const;

  static WebSocketClientConfig default_websocket() {
    WebSocketClientConfig config;
    config.server_port = 7780;
    config.common.max_message_size = 64 * 1024;
    return config;
  }
};

enum class LobbyClientState : std::uint8_t {
  connecting,  // the WebSocket connection is being opened
  connected,   // open, Hello not yet accepted
  welcomed,    // Hello accepted: rooms, chat and matches are available
  disconnected,
};

class LobbyClient {
 public:
  // Starts connecting; a `connected` (or `disconnected`) event follows from poll().
  static Result<std::unique_ptr<LobbyClient>> connect(const LobbyClientConfig& config);
  ~LobbyClient();
  LobbyClient(const LobbyClient&) = delete;
  LobbyClient& operator=(const LobbyClient&) = delete;

  // Takes in what arrived and hands out the next event. With `wait` > 0 it blocks at most that
  // long when no event is ready. Call it until it returns false once per frame.
  bool poll(LobbyEvent& event, std::chrono::milliseconds wait = std::chrono::milliseconds{0});

  // Requests. Each returns its request id (0 when the connection is not open: nothing was sent).
  std::uint64_t hello(std::string_view nickname);
  std::uint64_t hello_resume(std::string_view resume_token);
  // The lobby answers in pages; the client asks for the next ones itself, and the reply (with
  // this id) and room_list come once the last page is in.
  std::uint64_t list_rooms(std::string_view game_mode = {}, bool only_free_seats = false);
  std::uint64_t create_room(std::string_view name, std::string_view game_mode,
                            std::uint16_t max_players = 0);
  std::uint64_t join_room(std::uint64_t room_id);
  std::uint64_t leave_room();
  std::uint64_t kick(std::uint64_t player_id);
  std::uint64_t chat(std::string_view text, ChatScope scope = ChatScope::room,
                     std::string_view to_nickname = {});
  std::uint64_t set_ready(bool ready);
  std::uint64_t start_match();
  // Watch the match room `room_id` is playing (a room whose summary says in_match; not one's
  // own): the reply says whether the lobby agreed, and a match_start event with
  // match.spectator set brings the spectator's ticket. Fails with no_match when the room plays
  // none or no player has reached its game server yet (ask again), room_not_found, or
  // bad_request for a member of the room.
  std::uint64_t spectate_match(std::uint64_t room_id);

  // For a dedicated game server (no Hello): offers it for matches, then reports its player count
  // and the start and end of each match. The client asks the lobby for a challenge and answers
  // it, signed with registration.identity; the reply with the returned id says whether the lobby
  // took it. A refusal closes the connection, and each one locks this address out of registering
  // for a growing time (the lobby's error says how long).
  std::uint64_t register_game_server(const GameServerRegistration& registration);
  // The player count, whenever it changes and at least every second: it is the server's
  // heartbeat, each report renews its lease, and a server silent for the lobby's
  // game_server_lease_ms (3 s by default) is taken for gone (its matches end as server_lost).
  std::uint64_t report_load(std::uint32_t players);
  // The first player of `match_id` arrived: without it the match ends as nobody_joined once the
  // lobby's match_join_deadline_ms has passed.
  std::uint64_t report_match_began(std::uint64_t match_id);
  std::uint64_t report_match_end(std::uint64_t match_id,
                                 MatchEndReason reason = MatchEndReason::finished);

  // What the lobby has said so far.
  LobbyClientState state() const { return state_; }
  std::uint64_t player_id() const { return player_id_; }
  const std::string& nickname() const { return nickname_; }
  const std::string& resume_token() const { return resume_token_; }
  const std::optional<LobbyRoom>& room() const { return room_; }
  bool is_host() const { return room_ && room_->host_player_id == player_id_; }
  const std::vector<LobbyRoomSummary>& rooms() const { return rooms_; }
  // The room's history (on joining it, or resuming into it), then the lines as they come; a line
  // that arrives both in the history and live is kept (and reported as a `chat` event) once.
  const std::deque<LobbyChatLine>& chat_log() const { return chat_log_; }
  // Round-trip time of the connection, milliseconds (0 until measured).
  double rtt_ms() const;
  // Frames from the lobby that were not a valid LobbyMessage, or a MatchStart whose session keys
  // are not 64 bytes (dropped).
  std::uint64_t dropped_malformed() const { return dropped_malformed_; }

 private:
  struct Decoder;
  LobbyClient(const LobbyClientConfig& config, std::unique_ptr<ClientTransport> transport);
  std::uint64_t send_request(std::vector<std::byte> message);
  std::uint64_t next_request_id();
  void handle_frame(std::span<const std::byte> bytes);
  void add_chat(LobbyChatLine line);
  std::uint64_t request_room_page(std::uint64_t after_room_id);
  // A reply to the page request of the room list in progress.
  struct RoomPage {
    LobbyError error = LobbyError::none;
    std::string error_message;
    std::vector<LobbyRoomSummary> rooms;
    std::uint64_t next_after_room_id = 0;  // 0: the last page
  };
  void handle_room_page(RoomPage page);
  // The lobby's answer to the registration's challenge request (`error` when it refused): sign
  // the challenge and register.
  void answer_registration_challenge(LobbyError error, std::string error_message,
                                     std::span<const std::uint8_t> challenge,
                                     std::span<const std::uint8_t> lobby_key);

  LobbyClientConfig config_;
  std::unique_ptr<ClientTransport> transport_;
  std::unique_ptr<Decoder> decoder_;
  std::deque<LobbyEvent> events_;
  LobbyClientState state_ = LobbyClientState::connecting;
  std::uint64_t last_request_id_ = 0;
  std::uint64_t leave_request_ = 0;  // the LeaveRoom awaiting its reply
  std::uint64_t player_id_ = 0;
  std::string nickname_;
  std::string resume_token_;
  std::optional<LobbyRoom> room_;
  std::vector<LobbyRoomSummary> rooms_;
  // The list_rooms() in progress: its id, its filter, the page asked for, the rooms so far.
  struct RoomListing {
    std::uint64_t request_id = 0;  // list_rooms()'s, 0 when none is in progress
    std::uint64_t page_request_id = 0;
    std::uint64_t after_room_id = 0;
    std::string game_mode;
    bool only_free_seats = false;
    std::vector<LobbyRoomSummary> rooms;
  };
  RoomListing listing_;
  // The register_game_server() waiting for its challenge.
  struct PendingRegistration {
    GameServerRegistration registration;
    std::uint64_t request_id = 0;    // register_game_server()'s, which the final reply carries
    std::uint64_t challenge_id = 0;  // the GetRegistrationChallenge's
  };
  std::optional<PendingRegistration> registering_;
  std::deque<LobbyChatLine> chat_log_;
  std::uint64_t dropped_malformed_ = 0;
};

}  // namespace tickwire::net
