#pragma once
// What lobby processes share to serve the same rooms: players' nicknames, rooms and their
// members, chat history, resume records, chat and presence fan-out, and the game-server registry.
// A LobbyServer keeps it behind this interface and does not know which implementation it has:
// make_in_memory_lobby_state() (the default: one process, no store) or make_redis_lobby_state()
// (redis_lobby_state.hpp: several lobby processes on one Redis). Hence plain values in and out, no
// pointers into the store, ids allocated by the store, and every check-then-act done inside one
// call (claiming a nickname, taking the last seat, starting a match, reserving a game server).
//
// Time: every deadline here is wall-clock unix milliseconds (unix_time_ms()), so that every
// process reads the same deadline. A lease (a nickname, a game server) is renewed by the process
// that owns it; one that stops renewing (it crashed) loses it at the deadline and leaks nothing.
//
// Threads: every method may be called from any thread, and from several at once. A store that
// talks to a server may block the caller for up to its own timeout (may_block() says so).
//
// What it does not do: decide anything about the lobby's rules (who may kick, how long a grace
// lasts): the lobby passes the limits and deadlines in.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net {

using LobbyPlayerId = std::uint64_t;
using LobbyRoomId = std::uint64_t;

struct MemberInfo {
  LobbyPlayerId player = 0;
  std::string nickname;
  bool ready = false;
  bool connected = true;
};

struct ChatEntry {
  ChatScope scope = ChatScope::room;
  LobbyRoomId room = 0;
  LobbyPlayerId from = 0;
  std::string from_nickname;
  std::string to_nickname;
  std::string text;
  std::uint64_t sent_unix_ms = 0;
};

// Where a room's match is played: what a ticket for a seat in it must name and be sealed to
// (the start of the match, and a player who comes back to it, get tickets alike).
struct MatchServer {
  std::string address;  // "host:port", as tickets name it
  // "host:port" of its WebSocket gameplay endpoint (the fallback); empty: none.
  std::string websocket_address;
  // Its sealing public key; none for a server that runs without encryption.
  std::optional<ServerSealPublicKey> seal_key;
};

struct RoomInfo {
  LobbyRoomId id = 0;
  std::string name;
  std::string game_mode;
  std::size_t max_players = 0;
  LobbyPlayerId host = 0;
  std::vector<MemberInfo> members;  // in joining order
  std::uint64_t match_id = 0;       // non-zero once the match started
  // While match_id is non-zero: where it is played, when it started (wall clock, so that every
  // lobby process reads the same deadline) and whether a player has reached the game server.
  MatchServer match_server;
  std::uint64_t match_started_unix_ms = 0;
  bool match_began = false;
  // Slots of match_server's capacity the match holds (reserve_game_server); end_match gives them
  // back. 0 for a server outside the registry (the lobby's own).
  std::uint32_t match_reserved_slots = 0;

  bool has_free_seat() const { return match_id == 0 && members.size() < max_players; }
};

struct RoomFilter {
  std::string game_mode;  // empty = any
  bool only_free_seats = false;
  bool in_match_only = false;  // only rooms whose match is running
  LobbyRoomId after = 0;       // only rooms with a larger id (a page's cursor)
  std::size_t limit = static_cast<std::size_t>(-1);  // rooms at most, lowest ids first
};

// A player's identity and seat, kept for their resume token until `expires_unix_ms`. The lobby
// process a player is connected to keeps their record with a deadline it renews (a lease), so
// that if the process dies (kill -9) the player can still resume on another process until the
// deadline; a dropped player's record has their resume grace as its deadline.
struct ResumeRecord {
  LobbyPlayerId player = 0;
  std::string nickname;
  LobbyRoomId room = 0;               // 0 = none
  std::uint64_t expires_unix_ms = 0;  // wall clock
  std::string address;                // the IP address of its last connection (per-address limits)
  // While the player is connected: until when their process's renewals vouch for it (wall
  // clock), after which lapse_connections() shows them disconnected (their process died). 0 for
  // a dropped player, shown disconnected already.
  std::uint64_t connected_until_unix_ms = 0;
};

struct GameServerInfo {
  std::string address;            // "host:port"
  std::string websocket_address;  // "host:port" of its WebSocket gameplay endpoint; empty: none
  std::uint32_t capacity = 0;
  std::uint32_t players = 0;  // as it last reported
  // Slots held by matches placed on it and not yet ended (reserve_game_server). Its free slots
  // are capacity - max(players, reserved): the players it reports include those of the matches
  // that reserved, once they arrive.
  std::uint32_t reserved = 0;
  // Its sealing public key; none for a server that runs without encryption.
  std::optional<ServerSealPublicKey> seal_key;
  // Wall clock: past it without a renewal (a registration or a load report), the server is gone
  // and its matches end. UINT64_MAX for one that needs no renewal (in the lobby's process).
  std::uint64_t lease_expires_unix_ms = UINT64_MAX;
  // Its registration's connection is open: only then does it get new matches. A server whose
  // connection dropped keeps its running matches until its lease runs out.
  bool connected = true;

  std::uint32_t free_slots() const {
    const std::uint32_t used = players > reserved ? players : reserved;
    return capacity > used ? capacity - used : 0;
  }
};

enum class StateError : std::uint8_t {
  none,
  room_not_found,
  room_full,
  too_many_rooms,
  match_in_progress,
  not_in_room,
  not_host,       // start_match by someone who is not the room's host
  not_all_ready,  // start_match while a member is not ready or not connected
  unavailable,    // the store could not be reached (a networked store): try again later
};

// One finished LobbyMessage (binary) for a set of players; every lobby process delivers it to
// those of them connected to it. A message for one player may carry secrets (their MatchStart
// holds their session keys): a shared store must keep its fan-out as private as the lobby.
struct Broadcast {
  enum class Audience : std::uint8_t { room, player, everyone };
  Audience audience = Audience::everyone;
  std::uint64_t target = 0;  // LobbyRoomId or LobbyPlayerId
  std::shared_ptr<const std::vector<std::byte>> message;
  // Whether the change it tells of may have changed rooms or the nicknames held: only then does
  // receiving it change a shared store's version() (the lobby re-reads every room then). Chat
  // changes neither and says false: a busy chat would otherwise re-read the rooms per line.
  bool changes_rooms = true;
  // Non-empty: not a message to deliver but an order. The process that has `target`'s session
  // whose resume token is this one closes that session as it is (no drop, no resume record): the
  // player resumed on another connection with that token, perhaps on another process.
  std::string ends_session{};
};

class LobbyState {
 public:
  virtual ~LobbyState() = default;

  // Ids for players, rooms and matches, unique across every process sharing the state; 0 if the
  // store cannot be reached.
  virtual std::uint64_t next_id() = 0;

  // --- presence --------------------------------------------------------------------------
  // `key` is the nickname folded to lower case. Claims it for `player` until
  // `lease_until_unix_ms`; true if it was free, its lease had run out, or `player` held it (then
  // the lease is renewed). False if someone else holds it.
  virtual bool claim_nickname(const std::string& key, LobbyPlayerId player,
                              std::uint64_t lease_until_unix_ms) = 0;
  // Renews the leases of nicknames this process holds (key, player), in one go; a nickname
  // someone else holds now is left alone.
  virtual void renew_nicknames(const std::vector<std::pair<std::string, LobbyPlayerId>>& held,
                               std::uint64_t lease_until_unix_ms) = 0;
  // Frees it if `player` holds it (a late release never frees someone else's claim).
  virtual void release_nickname(const std::string& key, LobbyPlayerId player) = 0;
  virtual std::optional<LobbyPlayerId> player_by_nickname(const std::string& key) const = 0;
  // Nicknames held (by connected players and those within their grace).
  virtual std::size_t player_count() const = 0;

  // Dropped players waiting to resume.
  virtual void store_resume(const std::string& token, ResumeRecord record) = 0;
  // Replaces each record still stored under its token (deadline included), in one go. A record
  // taken meanwhile (its token was used) is not made again, so that a token works once. Returns
  // how many were replaced.
  virtual std::size_t update_resumes(
      const std::vector<std::pair<std::string, ResumeRecord>>& records) = 0;
  // Removes and returns the record, if any (expired or not: the caller checks).
  virtual std::optional<ResumeRecord> take_resume(const std::string& token) = 0;
  // Removes and returns every record expired at `now_unix_ms`; each is returned to one caller
  // only, whichever process asks first.
  virtual std::vector<ResumeRecord> take_expired_resumes(std::uint64_t now_unix_ms) = 0;
  // Connected players whose process stopped vouching for them (their record's
  // connected_until_unix_ms passed without a renewal: the process died): each is marked
  // disconnected in their room and returned, to one caller only, whichever process asks first,
  // so that it tells the room. Their record stays until its deadline: they may still resume. A
  // record a resume took meanwhile is left alone (the player is back).
  virtual std::vector<ResumeRecord> lapse_connections(std::uint64_t now_unix_ms) = 0;

  // --- rooms -----------------------------------------------------------------------------
  // `room` arrives with its id and its host as the only member.
  virtual StateError create_room(RoomInfo room, std::size_t max_rooms) = 0;
  virtual std::optional<RoomInfo> room(LobbyRoomId id) const = 0;
  // The rooms that pass `filter`, by increasing id (ids grow with time: oldest room first).
  virtual std::vector<RoomInfo> list_rooms(const RoomFilter& filter) const = 0;
  virtual std::size_t room_count() const = 0;
  // Takes a seat if one is free and no match runs: of two players racing for the last seat,
  // one gets it and the other room_full.
  virtual StateError join_room(LobbyRoomId id, const MemberInfo& member) = 0;
  // Removes the member; the first remaining member becomes host if the host left, and an empty
  // room closes. `after` receives the room as it is now (empty if it closed).
  virtual StateError leave_room(LobbyRoomId id, LobbyPlayerId player,
                                std::optional<RoomInfo>& after) = 0;
  virtual StateError set_ready(LobbyRoomId id, LobbyPlayerId player, bool ready) = 0;
  virtual StateError set_connected(LobbyRoomId id, LobbyPlayerId player, bool connected) = 0;
  // Starts `match_id` on `server` if `host` is the room's host, no match runs, and every member
  // is ready and connected, all checked at once with the change. `reserved_slots`: what
  // reserve_game_server() took for it (end_match gives it back). On success `started` receives
  // the room as it is now (the members who get tickets).
  virtual StateError start_match(LobbyRoomId id, LobbyPlayerId host, std::uint64_t match_id,
                                 const MatchServer& server, std::uint32_t reserved_slots,
                                 std::uint64_t now_unix_ms, std::optional<RoomInfo>& started) = 0;
  // The room playing `match_id`, if any.
  virtual std::optional<RoomInfo> room_of_match(std::uint64_t match_id) const = 0;
  // A player reached the game server of `match_id`: it no longer risks ending as nobody_joined.
  // False if no room plays that match.
  virtual bool mark_match_began(std::uint64_t match_id) = 0;
  // The room playing `match_id` returns to the lobby with every member unready, and the match's
  // reservation goes back to its game server; returns the room as it is now, or nothing if no
  // room plays that match (each match ends once, whichever process ends it).
  virtual std::optional<RoomInfo> end_match(std::uint64_t match_id) = 0;

  // Keeps the room's last `keep` lines (nothing if the room is gone). A networked store may
  // return before the line is stored, but stores it before any broadcast this process publishes
  // after the call is delivered: a player who reads the history and then gets the broadcasts
  // misses no line.
  virtual void append_chat(LobbyRoomId id, ChatEntry entry, std::size_t keep) = 0;
  virtual std::vector<ChatEntry> chat_history(LobbyRoomId id) const = 0;

  // A number that changes whenever the rooms or the nicknames held may have changed (the lobby
  // then refreshes the snapshot that /api/rooms and /metrics read). A shared store changes it on
  // another process's broadcast that changes_rooms, and also on a timer, as other processes
  // change rooms without a broadcast (a new room).
  virtual std::uint64_t version() const = 0;

  // --- fan-out ---------------------------------------------------------------------------
  // Each lobby process subscribes once. `deliver` is called on a thread of the state's choosing
  // (the publisher's, or a subscriber thread of its own), one broadcast at a time, in publishing
  // order per publisher. It must only hand the broadcast over to its own thread (queue it) and
  // return: never call the state from inside. After unsubscribe() returns it is not called again.
  using Subscriber = std::function<void(Broadcast)>;
  virtual std::uint64_t subscribe(Subscriber deliver) = 0;
  virtual void unsubscribe(std::uint64_t subscription) = 0;
  virtual void publish(const Broadcast& broadcast) = 0;

  // --- game servers ----------------------------------------------------------------------
  // Adds the server, or updates the capacity, seal key, lease and connection of one with the
  // same address (its load and reservations stay).
  virtual void put_game_server(const GameServerInfo& server) = 0;
  // Its load now, and its lease renewed until `lease_expires_unix_ms`.
  virtual void set_game_server_load(const std::string& address, std::uint32_t players,
                                    std::uint64_t lease_expires_unix_ms) = 0;
  // Its registration's connection closed: no new matches go to it.
  virtual void disconnect_game_server(const std::string& address) = 0;
  virtual void remove_game_server(const std::string& address) = 0;
  // Removes and returns every server whose lease has run out at `now_unix_ms`.
  virtual std::vector<GameServerInfo> take_expired_game_servers(std::uint64_t now_unix_ms) = 0;
  // Picks the connected registered server with the most free slots that has at least `slots`
  // free, and reserves them on it, in one step: two lobbies placing matches at once cannot both
  // take its last slots. Nothing if none has room.
  virtual std::optional<GameServerInfo> reserve_game_server(std::uint32_t slots) = 0;
  // Gives back a reservation whose match did not start.
  virtual void release_game_server(const std::string& address, std::uint32_t slots) = 0;

  // Whether a call may wait on something outside this process (a server's round trips): the
  // lobby then makes its calls on state worker threads (LobbyConfig::state_workers), never on
  // its own thread. False for the in-memory state, whose calls the lobby makes inline.
  virtual bool may_block() const { return true; }

  // --- accounting ------------------------------------------------------------------------
  // Requests sent to a networked store and answered (0 for the in-memory state): /metrics
  // exports it, so that round trips per lobby request can be measured.
  virtual std::uint64_t round_trips() const { return 0; }
  // Messages on a networked store's fan-out that were no broadcast it can read (another
  // version's layout, damage), dropped (0 for the in-memory state): /metrics exports it.
  virtual std::uint64_t dropped_broadcasts() const { return 0; }
};

// The default: the state in this process's memory, behind one mutex. Several LobbyServers of one
// process may share it.
std::shared_ptr<LobbyState> make_in_memory_lobby_state();

}  // namespace tickwire::net
