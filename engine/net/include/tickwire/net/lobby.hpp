#pragma once
// The lobby: where players meet before a match. They say Hello with a nickname, list, create and
// join rooms, chat (room, global, whisper), get ready, and when the host starts the match every
// member receives a join ticket signed by the lobby for the game server it picked. The protocol is
// schemas/lobby.fbs over WebSocket: a binary frame is one FlatBuffers LobbyMessage, a text frame
// the same message as JSON, so a browser, websocat or a test can speak it by hand. The same port
// answers HTTP: GET /healthz (503 if the lobby thread stalls), GET /api/rooms (JSON,
// in pages), GET /metrics (Prometheus text), recorded matches (GET /api/replays and
// /replays/NAME from replay_directory; PUT /replays/NAME to upload one, with a bearer token from
// upload_tokens), the operator's files (GET /api/files and /files/NAME from files_directory) and
// the web lobby page at / (index.html from web_root).
//
// Threading: the lobby runs on its own thread, started by start() and stopped by stop() or the
// destructor. A lobby is a service, not part of a game's frame: a dedicated lobby process has no
// game loop to poll it, and a game server that embeds one should not make chat wait for its tick.
// Every public method is safe to call from any thread.
//
// The port serves TLS (wss:// and https://, the default: websocket.tls names the certificate
// chain and key files) or, asked for by name with websocket.transport_security =
// insecure_plaintext, plaintext (ws:// and http://), never both. Every ticket for an encrypted game
// server carries fresh session keys sealed to that server, and the lobby hands the player their
// copy in MatchStart; resume tokens and tickets cross the same connection. Without TLS anyone on
// the path between player and lobby reads and alters all of it: plaintext is for LAN tests.
//
// Dedicated game servers offer themselves for matches over the same connection, proving with a
// signed challenge that they hold a key on the lobby's allow-list (game_server_keys): nothing
// secret crosses the wire, failures lock their address out for a growing time, and a server can
// send matches only to its own address (allow_any_registered_address) and capacity.
//
// Shared state: rooms, nicknames, chat and fan-out live in a LobbyState (lobby_state.hpp): this
// process's memory by default, or a store several lobby processes share (make_redis_lobby_state())
// when given one at construction.
//
// What it does not do: no accounts or passwords (a nickname is claimed for as long as its player
// is connected or within the resume grace period), no persistence beyond what the state keeps.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby_state.hpp"
#include "tickwire/net/server_identity.hpp"
#include "tickwire/net/status.hpp"
#include "tickwire/net/types.hpp"
#include "tickwire/net/websocket_transport.hpp"

namespace tickwire::net {

// Replay files (tickwire::sim's) are named like this wherever they are kept, served or saved.
inline constexpr std::string_view kReplayFileExtension = ".twreplay";
// True for a replay's file name: letters, digits, '-' and '_', then kReplayFileExtension, 128
// characters at most. The lobby serves and stores nothing else, so no name reaches outside its
// folder; recorders and downloaders hold to the same rule.
bool is_replay_file_name(std::string_view name);
// True for the name of a file the lobby serves from LobbyConfig::files_directory: letters,
// digits, '-', '_' and '.', not starting with '.' (hidden files are not served) and without "..",
// 128 characters at most.
bool is_served_file_name(std::string_view name);

struct LobbyConfig {
  // Listening address, port and connection limits. The lobby always uses raw framing
  // (WebSocketFraming::raw, 2 channels) and no gameplay sessions (require_ticket, security)
  // whatever is set here. Defaults: those of WebSocketServerConfig (TLS, which needs
  // websocket.tls's files) except port 7780 and max_message_size 16 KiB (a chat line is small;
  // larger frames close the connection with 1009).
  WebSocketServerConfig websocket = default_websocket();

  // Nicknames: min_nickname_length..max_nickname_length bytes of [A-Za-z0-9_-], unique ignoring
  // case. Defaults 3 and 20 (max at most 64).
  std::size_t min_nickname_length = 3;
  std::size_t max_nickname_length = 20;
  // Room names: 1..max_room_name_length bytes, printable. Default 40 (at most 256).
  std::size_t max_room_name_length = 40;
  // Game mode names: at most this many bytes. Default 32 (at most 256).
  std::size_t max_game_mode_length = 32;
  // Chat lines: at most this many bytes of text. Default 500 (at most max_message_size / 4: a
  // line printed as JSON may take three times its bytes, and needs room for its envelope).
  std::size_t max_chat_length = 500;
  // Rooms open at once, at most; CreateRoom beyond it fails with too_many_rooms. Default 1000.
  std::size_t max_rooms = 1000;
  // Open rooms created by players from one IP address, at most; CreateRoom beyond it fails with
  // address_limit. Well below max_rooms, so that one address cannot take them all. Default 20
  // (1..max_rooms).
  std::size_t max_rooms_per_address = 20;
  // Nicknames held by players from one IP address (connected, or within their resume grace), at
  // most; Hello beyond it fails with address_limit. Default 32.
  std::size_t max_nicknames_per_address = 32;
  // Rooms in one RoomList page (and one /api/rooms answer), at most; a page whose rooms would not
  // fit in one message holds fewer. Default 50 (1..1000).
  std::size_t max_rooms_per_page = 50;
  // Players in one room, at most (the cap for CreateRoom.max_players). 2..10000, and the reply to
  // JoinRoom for a full room must fit in max_message_size: validate() says how many fit (about
  // 150 with the default 16 KiB and 20-byte nicknames). Default 16.
  std::size_t max_players_per_room = 16;
  // Chat lines kept per room and sent to a player who joins. Default 50 (at most 1000).
  std::size_t chat_history_length = 50;
  // Of those, a joining player gets the newest lines whose text takes at most this many bytes in
  // all; older ones give way too when the room's reply would not fit in one message otherwise.
  // Default 8192 (at most max_message_size).
  std::size_t chat_history_bytes = 8192;

  // Chat rate limit per player, a token bucket: chat_burst lines at once, refilled at
  // chat_lines_per_second. A line over the limit gets a rate_limited error; after
  // flood_strikes of them in a row (without an accepted line between) the player is disconnected
  // with close code 1008. Defaults 5 lines, 2 per second, 5 strikes.
  std::size_t chat_burst = 5;
  double chat_lines_per_second = 2.0;
  std::size_t flood_strikes = 5;
  // Global chat, for the whole lobby: recipients times bytes a second, at most (a 300-byte line
  // to 1000 players costs 300 000). A global line over it gets rate_limited, so that a few
  // players cannot make the lobby send everyone a flood. Default 8 MiB (at least
  // max_message_size).
  std::size_t global_chat_bytes_per_second = 8 * 1024 * 1024;
  // Every other request, per connection: the same scheme with its own bucket, so that a client
  // cannot keep the lobby busy with room lists. Defaults 40 at once, 20 per second.
  std::size_t request_burst = 40;
  double requests_per_second = 20.0;

  // Frames that are not a LobbyMessage a connection may send before it is closed with 1007. Each
  // gets an error reply (`malformed`, request_id 0) quoting what the parser found, so that a
  // person typing JSON by hand learns what was wrong. A rejected frame costs no memory once
  // answered. Default 1 (closed at the first).
  std::size_t max_malformed_frames = 1;

  // A connection that has not said Hello this long after it opened, in milliseconds, is closed
  // (1008): an idle socket holds a connection slot. Default 10000.
  std::uint32_t hello_timeout_ms = 10'000;

  // How long a dropped player's seat and nickname are kept for them, in milliseconds; they get
  // them back by sending Hello with their resume token. 0 = not at all. Default 30000.
  std::uint32_t resume_grace_ms = 30'000;
  // A connected player's nickname is leased in the lobby state for this long, in milliseconds,
  // and the lobby process renews it every third of that: if the process dies (kill -9), the
  // nickname is free again at most this long later, even in a state shared with other lobby
  // processes. A dropped player's lease covers their resume grace too. At least 300 (a renewal
  // per 100 ms); default 15000.
  std::uint32_t nickname_lease_ms = 15'000;

  // Game server for matches when no dedicated server has registered with register_game_server():
  // "host:port" of the one in this process. Empty = none (StartMatch then fails with
  // no_game_server). Default "127.0.0.1:7777".
  std::string local_game_server = "127.0.0.1:7777";
  // That server's sealing public key (GameServerSealKeys::public_key): each ticket for it carries
  // fresh session keys sealed to this key, and each player gets their own copy in MatchStart.
  // Unset = the server runs without encryption (SessionSecurity::plaintext_for_development) and
  // its tickets carry no keys. Default unset.
  std::optional<ServerSealPublicKey> local_game_server_seal_key;
  // "host:port" of that server's WebSocket gameplay endpoint, which players fall back to when
  // UDP gets no answer (MatchStart names both). Empty = none. Default empty.
  std::string local_game_server_websocket;
  // Dedicated game servers that may register over the wire (RegisterGameServer): their Ed25519
  // public keys (ServerIdentity::public_key). A server proves it holds one by signing a fresh
  // challenge the lobby gives its connection; nothing secret crosses the wire. Read them from a
  // file with read_game_server_keys(). Empty = registration over the wire is refused. Default
  // empty.
  std::vector<ServerPublicKey> game_server_keys;
  // Let a registered server name any host in its address. Default false: the host must be the IP
  // address its connection comes from, so that a stolen key cannot send matches elsewhere. Turn
  // it on when game servers reach the lobby through a proxy or NAT, or advertise a DNS name.
  bool allow_any_registered_address = false;
  // Players a registered server may claim it can take, at most; a registration over it is
  // refused. 1..1000000, default 4096.
  std::uint32_t max_game_server_capacity = 4096;
  // Failed registrations lock their source address out: first for registration_lockout_ms, then
  // twice as long after each further failure, at most registration_max_lockout_ms. An address
  // with no failure for registration_forget_ms after its lockout ended starts afresh. Attempts
  // while locked out get rate_limited (with the time left) and cost nothing else. Defaults 1000,
  // 600000 (10 minutes) and 3600000 (an hour); the lockout at least 1, the maximum at least it.
  std::uint32_t registration_lockout_ms = 1000;
  std::uint32_t registration_max_lockout_ms = 600'000;
  std::uint32_t registration_forget_ms = 3'600'000;
  // Addresses whose failures are remembered at most (memory bound). Default 10000 (at least 1).
  std::size_t max_registration_backoff_addresses = 10'000;
  // Lifetime of a join ticket, in milliseconds. Default 30000.
  std::uint64_t ticket_lifetime_ms = 30'000;
  // A match no player has reached this long after it started, in milliseconds, ends as
  // nobody_joined and its room returns to the lobby (its tickets have expired: nobody can join
  // any more). The game server says a player arrived: match_began() in this process,
  // LobbyClient::report_match_began() from a dedicated one. At least ticket_lifetime_ms.
  // Default 40000.
  std::uint64_t match_join_deadline_ms = 40'000;
  // A registered game server the lobby has heard nothing from for this long, in milliseconds (it
  // reports its load every second: tickwire-server's --role game does), is taken for gone: it
  // gets no more matches and its running ones end as server_lost, their players told. A server
  // whose connection drops keeps its matches until then, so that it can come back. The lobby
  // looks for expired leases every 250 ms, so a crashed server is gone at most this plus 250 ms
  // after its last report. At least 100. Default 3000: two missed reports are forgiven, and a
  // crashed server is gone within 5 s.
  std::uint32_t game_server_lease_ms = 3'000;

  // Threads that make the lobby's calls to a state that may block (LobbyState::may_block(): the
  // Redis one), each request's state phase on one of them, so that the lobby's thread never
  // waits on the store while other players' requests queue behind it (docs/cluster.md, "Threads,
  // and where the lobby waits on Redis"). With the in-memory state the calls run on the lobby's
  // thread and this is unused. 1..64, default 4.
  std::size_t state_workers = 4;
  // Requests of one connection that may wait while its previous request is with the state (a
  // connection's requests are answered in order, one at a time), each held as its bytes (at most
  // max_message_size). A connection that sends more without waiting for its answers is closed
  // (1008, counted as disconnected_request_queue_full). 1..4096, default 64.
  std::size_t max_queued_requests = 64;

  // GET /healthz answers 503 once the lobby's own thread has not turned for this long, in
  // milliseconds (it turns every few milliseconds while healthy). Default 2000 (at least 100).
  std::uint32_t stall_ms = 2000;

  // Directory of the web lobby page: GET / answers its index.html. Empty = no page (404).
  // Default empty.
  std::string web_root;
  // Directory of recorded matches (*.twreplay, tickwire::sim's replay files): GET /api/replays
  // lists the newest as JSON, each with its download URL, and GET /replays/NAME downloads one
  // (Range, ETag / If-None-Match). Names are letters, digits, '-' and '_' before ".twreplay";
  // nothing else is served from it. Empty = no replays (404). Default empty.
  std::string replay_directory;
  // Replays listed by /api/replays at most, newest first. Default 50 (1..1000).
  std::size_t max_replays_listed = 50;
  // Directory of files the operator offers for download (maps, mod packs): GET /api/files lists
  // them as JSON (name, bytes, modified time, URL) and GET or HEAD /files/NAME downloads one, with
  // the replays' guarantees (Range, ETag / If-None-Match, Content-Type by extension). Only plain
  // files whose names pass is_served_file_name are served: no subfolder, hidden file or link.
  // Read only: nothing is ever written there. Empty = no files (404). Default empty.
  std::string files_directory;
  // Files listed by /api/files at most, newest first. Default 200 (1..1000).
  std::size_t max_files_listed = 200;
  // Secrets that allow PUT /replays/NAME (an upload into replay_directory), sent as
  // "Authorization: Bearer SECRET"; each at least 32 printable characters without spaces. Give
  // one to each uploader (a game server, a play tester's tool) and over TLS only: plaintext HTTP
  // shows it to the network. Empty = uploads refused (403). Default empty.
  std::vector<std::string> upload_tokens;
  // The largest upload taken, in bytes: a larger one is answered 413 before its body is read
  // (or, chunked, once it grows past it). Default 64 MiB (1 KiB..16 GiB).
  std::uint64_t max_upload_bytes = 64ull * 1024 * 1024;
  // Replays kept in replay_directory as uploads arrive: once an upload is stored, the replays
  // beyond the newest keep_replays (by modification time, the order of /api/replays) are deleted,
  // never the one just stored. A download in progress of a deleted replay runs to its end; a
  // request after it gets 404. 0 = keep all. Default 50 (0..1000000), like tickwire-server's own
  // recordings (--keep-replays sets both).
  std::size_t keep_replays = 50;
  // Plain HTTP requests per client address, a token bucket: beyond it answers 429. Defaults 20 at
  // once, 10 per second.
  std::size_t http_burst = 20;
  double http_requests_per_second = 10.0;

  Status validate() const;

  static WebSocketServerConfig default_websocket() {
    WebSocketServerConfig config;
    config.port = 7780;
    config.common.max_message_size = 16 * 1024;
    return config;
  }
};

// Numbers a test or an operator reads; /metrics exports the same.
struct LobbyCounters {
  std::uint64_t connections = 0;  // open WebSocket connections
  std::uint64_t players = 0;      // players known (connected or within their grace period)
  std::uint64_t rooms = 0;        // open rooms
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t matches_started = 0;
  std::uint64_t spectator_tickets = 0;  // SpectateMatch requests granted
  // Drops and disconnects by reason.
  std::uint64_t dropped_malformed = 0;         // frames that are not a LobbyMessage (closed 1007)
  std::uint64_t replies_too_large = 0;         // answered reply_too_large instead
  std::uint64_t dropped_unsupported = 0;       // bodies a client may not send (closed 1003)
  std::uint64_t dropped_rate_limited = 0;      // requests refused by a rate limit
  std::uint64_t dropped_global_chat_busy = 0;  // global lines over global_chat_bytes_per_second
  std::uint64_t refused_address_limit = 0;     // rooms or nicknames over an address's share
  std::uint64_t disconnected_flooding = 0;     // closed 1008 after flood_strikes
  std::uint64_t disconnected_slow = 0;  // closed because their send queue was full (not reading)
  std::uint64_t disconnected_no_hello = 0;  // closed for not saying Hello in time
  // closed for sending more than max_queued_requests requests without waiting for the answers
  std::uint64_t disconnected_request_queue_full = 0;
  // RegisterGameServer refused, by reason.
  std::uint64_t registration_unknown_key = 0;       // a key not on game_server_keys
  std::uint64_t registration_bad_signature = 0;     // not a signature of this connection's
                                                    // challenge and these fields by that key
  std::uint64_t registration_no_challenge = 0;      // sent without asking for a challenge first
  std::uint64_t registration_address_mismatch = 0;  // its host is not its connection's address
  std::uint64_t registration_over_capacity = 0;     // capacity over max_game_server_capacity
  std::uint64_t registration_locked_out = 0;        // its address is locked out after failures
  std::uint64_t transport_dropped_oversize = 0;     // frames over max_message_size (closed 1009)
  std::uint64_t transport_dropped_malformed = 0;
  std::uint64_t transport_rate_limited = 0;  // connections over the per-address connection rate  //
                                             // bad WebSocket framing (closed 1002/1007)
  std::uint64_t http_requests = 0;
  std::uint64_t http_rate_limited = 0;  // answered 429
  // answered 403: a path with ".." or a %-escape (that could climb out of a served directory)
  std::uint64_t http_path_refused = 0;
  // Requests to the lobby state's store answered (0 with the in-memory state): divide by
  // messages_received for round trips per request.
  std::uint64_t state_round_trips = 0;
  // Messages on the store's fan-out channel it could not read as a broadcast (another lobby
  // version's layout, damage), dropped (0 with the in-memory state).
  std::uint64_t state_dropped_broadcasts = 0;
  // Uploads (PUT /replays/NAME): stored, and refused by reason.
  std::uint64_t uploads_stored = 0;
  std::uint64_t upload_unauthenticated = 0;  // 401 no token, 403 a wrong one or uploads off
  std::uint64_t upload_too_large = 0;        // 413 over max_upload_bytes
  std::uint64_t upload_bad_request = 0;      // 400 a bad name, 415 a content type not a replay's
  std::uint64_t upload_exists = 0;           // 409 a replay of that name is there already
  std::uint64_t upload_cut = 0;              // the body ended early: nothing kept
  // Replays deleted as older than the newest keep_replays, once an upload was stored.
  std::uint64_t replays_pruned = 0;
  // Players of another lobby process that died (it stopped renewing their records) whom this one
  // showed disconnected in their rooms: their seats wait for their resume, here or elsewhere.
  std::uint64_t players_lapsed = 0;
};

// The allow-list of game servers (LobbyConfig::game_server_keys) in a file's text: one Ed25519
// public key per line, as 64 hex digits or 44 characters of standard base64; after the key,
// whitespace and anything (a name, a note) to the end of the line. Blank lines and lines that
// start with '#' are ignored. An error names the line. A game server prints its key when it starts.
Result<std::vector<ServerPublicKey>> parse_game_server_keys(std::string_view text);
// The same from the file at `path` (which must exist).
Result<std::vector<ServerPublicKey>> read_game_server_keys(const std::string& path);

// LobbyConfig::upload_tokens from the file at `path`: one token per line; blank lines and lines
// starting with '#' are ignored. An error names the line (never its token).
Result<std::vector<std::string>> read_upload_tokens(const std::string& path);

class LobbyServer {
 public:
  // `tickets` signs the join tickets of every match; keep its public key on the game servers.
  // The state is this process's memory (make_in_memory_lobby_state()).
  LobbyServer(LobbyConfig config, JoinTicketIssuer tickets);
  // The same on a state of the caller's choosing: one shared with other LobbyServers (in this
  // process, or through a store such as Redis in others) serves the same rooms. Not null.
  LobbyServer(LobbyConfig config, JoinTicketIssuer tickets, std::shared_ptr<LobbyState> state);
  ~LobbyServer();
  LobbyServer(const LobbyServer&) = delete;
  LobbyServer& operator=(const LobbyServer&) = delete;

  // Validates the config, binds (port 0 = any free port) and starts the lobby's thread.
  Status start();
  // Closes every connection (going away) and joins the thread. Also done by the destructor.
  void stop();
  // The port it listens on, after start().
  std::uint16_t port() const;

  // Dedicated game servers: once one has registered, a match goes to the registered server with
  // the most free slots that has a slot for each of the room's members (reserved until the match
  // ends), instead of local_game_server. Free slots are the capacity less the larger of the
  // reported load and the reservations. A server reports its load (players now) whenever it
  // changes; registering again updates the capacity and the key. A server registered here has
  // no lease: in a state shared with other processes, unregister it before this one stops.
  // `seal_key` is the server's sealing public key (tickets to it carry session keys sealed to
  // it), or nullopt for a server that runs without encryption. Fails, registering nothing, when
  // the key is not a usable X25519 public key.
  Status register_game_server(const std::string& address, std::uint32_t capacity,
                              const std::optional<ServerSealPublicKey>& seal_key,
                              const std::string& websocket_address = {});
  void report_game_server_load(const std::string& address, std::uint32_t players);
  void unregister_game_server(const std::string& address);

  // A match is over: the room that played it returns to the lobby (its members unready, the
  // host may start again) and its members get a MatchEnd event with the reason. A game server in
  // the same process calls this; a dedicated one sends MatchEnd over its registration connection.
  void end_match(std::uint64_t match_id, MatchEndReason reason = MatchEndReason::finished);
  // The first player of `match_id` reached the game server in this process (a dedicated one
  // sends MatchBegan): the match no longer ends at match_join_deadline_ms.
  void match_began(std::uint64_t match_id);

  // Players and rooms as the state holds them now (with a networked state, this waits for it);
  // GET /metrics serves the same from the lobby thread's last look instead.
  LobbyCounters counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickwire::net
