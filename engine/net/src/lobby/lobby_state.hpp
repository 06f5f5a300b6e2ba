#pragma once
// Everything lobby processes would have to share to serve the same rooms: players' nicknames,
// rooms and their members, chat history, resume records, chat and presence fan-out, and the
// game-server registry. One narrow interface with an in-memory implementation today; a
// Redis-backed one (hashes for rooms, pub/sub for fan-out) can replace it without touching the
// lobby service. Hence plain values in and out, no pointers into the store, and ids allocated by
// the store.
//
// Thread-safe: the lobby's thread changes it, HTTP handlers on the io thread read it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net::lobby_detail {

using PlayerId = std::uint64_t;
using RoomId = std::uint64_t;

struct MemberInfo {
  PlayerId player = 0;
  std::string nickname;
  bool ready = false;
  bool connected = true;
};

enum class ChatScope : std::uint8_t { room = 0, global = 1, whisper = 2 };  // as in lobby.fbs

struct ChatEntry {
  ChatScope scope = ChatScope::room;
  RoomId room = 0;
  PlayerId from = 0;
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
  RoomId id = 0;
  std::string name;
  std::string game_mode;
  std::size_t max_players = 0;
  PlayerId host = 0;
  std::vector<MemberInfo> members;  // in joining order
  std::uint64_t match_id = 0;       // non-zero once the match started
  // While match_id is non-zero: where it is played, when it started (wall clock, so that every
  // lobby process reads the same deadline) and whether a player has reached the game server.
  MatchServer match_server;
  std::uint64_t match_started_unix_ms = 0;
  bool match_began = false;

  bool has_free_seat() const { return match_id == 0 && members.size() < max_players; }
};

struct RoomFilter {
  std::string game_mode;  // empty = any
  bool only_free_seats = false;
  bool in_match_only = false;  // only rooms whose match is running
  RoomId after = 0;            // only rooms with a larger id (a page's cursor)
  std::size_t limit = static_cast<std::size_t>(-1);  // rooms at most, lowest ids first
};

// A dropped player's identity and seat, kept for their resume token until `expires_ms`.
struct ResumeRecord {
  PlayerId player = 0;
  std::string nickname;
  RoomId room = 0;               // 0 = none
  std::uint64_t expires_ms = 0;  // steady clock
  std::string address;           // the IP address of its last connection (per-address limits)
};

struct GameServerInfo {
  std::string address;            // "host:port"
  std::string websocket_address;  // "host:port" of its WebSocket gameplay endpoint; empty: none
  std::uint32_t capacity = 0;
  std::uint32_t players = 0;
  // Its sealing public key; none for a server that runs without encryption.
  std::optional<ServerSealPublicKey> seal_key;
  // Wall clock: past it without a renewal (a registration or a load report), the server is gone
  // and its matches end. UINT64_MAX for one that needs no renewal (in the lobby's process).
  std::uint64_t lease_expires_unix_ms = UINT64_MAX;
  // Its registration's connection is open: only then does it get new matches. A server whose
  // connection dropped keeps its running matches until its lease runs out.
  bool connected = true;
};

enum class StateError : std::uint8_t {
  none,
  room_not_found,
  room_full,
  too_many_rooms,
  match_in_progress,
  not_in_room,
};

// One finished LobbyMessage (binary) for a set of players; every lobby process delivers it to
// those of them connected to it. A message for one player may carry secrets (their MatchStart
// holds their session keys): a shared store must keep its fan-out as private as the lobby.
struct Broadcast {
  enum class Audience : std::uint8_t { room, player, everyone };
  Audience audience = Audience::everyone;
  std::uint64_t target = 0;  // RoomId or PlayerId
  std::shared_ptr<const std::vector<std::byte>> message;
};

class LobbyState {
 public:
  virtual ~LobbyState() = default;

  // Ids for players, rooms and matches, unique across every process sharing the state.
  virtual std::uint64_t next_id() = 0;

  // --- presence --------------------------------------------------------------------------
  // `key` is the nickname folded to lower case. False if someone holds it.
  virtual bool claim_nickname(const std::string& key, PlayerId player) = 0;
  virtual void release_nickname(const std::string& key) = 0;
  virtual std::optional<PlayerId> player_by_nickname(const std::string& key) const = 0;
  virtual std::size_t player_count() const = 0;

  // Dropped players waiting to resume.
  virtual void store_resume(const std::string& token, ResumeRecord record) = 0;
  // Removes and returns the record, if any (expired or not: the caller checks).
  virtual std::optional<ResumeRecord> take_resume(const std::string& token) = 0;
  // Removes and returns every record expired at `now_ms`.
  virtual std::vector<ResumeRecord> take_expired_resumes(std::uint64_t now_ms) = 0;

  // --- rooms -----------------------------------------------------------------------------
  // `room` arrives with its id and its host as the only member.
  virtual StateError create_room(RoomInfo room, std::size_t max_rooms) = 0;
  virtual std::optional<RoomInfo> room(RoomId id) const = 0;
  // The rooms that pass `filter`, by increasing id (ids grow with time: oldest room first).
  virtual std::vector<RoomInfo> list_rooms(const RoomFilter& filter) const = 0;
  virtual std::size_t room_count() const = 0;
  virtual StateError join_room(RoomId id, const MemberInfo& member) = 0;
  // Removes the member; the first remaining member becomes host if the host left, and an empty
  // room closes. `after` receives the room as it is now (empty if it closed).
  virtual StateError leave_room(RoomId id, PlayerId player, std::optional<RoomInfo>& after) = 0;
  virtual StateError set_ready(RoomId id, PlayerId player, bool ready) = 0;
  virtual StateError set_connected(RoomId id, PlayerId player, bool connected) = 0;
  virtual StateError start_match(RoomId id, std::uint64_t match_id, const MatchServer& server,
                                 std::uint64_t now_unix_ms) = 0;
  // The room playing `match_id`, if any.
  virtual std::optional<RoomInfo> room_of_match(std::uint64_t match_id) const = 0;
  // A player reached the game server of `match_id`: it no longer risks ending as nobody_joined.
  // False if no room plays that match.
  virtual bool mark_match_began(std::uint64_t match_id) = 0;
  // The room playing `match_id` returns to the lobby with every member unready; returns it as it
  // is now, or nothing if no room plays that match.
  virtual std::optional<RoomInfo> end_match(std::uint64_t match_id) = 0;

  virtual void append_chat(RoomId id, ChatEntry entry, std::size_t keep) = 0;
  virtual std::vector<ChatEntry> chat_history(RoomId id) const = 0;

  // --- fan-out ---------------------------------------------------------------------------
  // Each lobby process subscribes once; publish() reaches every subscriber in publishing order.
  using Subscriber = std::function<void(const Broadcast&)>;
  virtual void subscribe(Subscriber subscriber) = 0;
  virtual void publish(const Broadcast& broadcast) = 0;

  // --- game servers ----------------------------------------------------------------------
  // Adds the server, or updates the capacity, seal key, lease and connection of one with the
  // same address (its load stays).
  virtual void put_game_server(const GameServerInfo& server) = 0;
  // Its load now, and its lease renewed until `lease_expires_unix_ms`.
  virtual void set_game_server_load(const std::string& address, std::uint32_t players,
                                    std::uint64_t lease_expires_unix_ms) = 0;
  // Its registration's connection closed: no new matches go to it.
  virtual void disconnect_game_server(const std::string& address) = 0;
  virtual void remove_game_server(const std::string& address) = 0;
  // Removes and returns every server whose lease has run out at `now_unix_ms`.
  virtual std::vector<GameServerInfo> take_expired_game_servers(std::uint64_t now_unix_ms) = 0;
  // The connected registered server with the most free slots, if any has one.
  virtual std::optional<GameServerInfo> pick_game_server() const = 0;
};

std::unique_ptr<LobbyState> make_in_memory_lobby_state();

}  // namespace tickwire::net::lobby_detail
