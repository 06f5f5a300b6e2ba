#pragma once
// Join tickets: the lobby's signed permission for one player to join one match on one game
// server. The lobby signs with its secret key (Ed25519, libsodium); a game server holding the
// public key verifies the signature, the expiry, that the ticket names this server, and that its
// nonce was not used before. A ticket is opaque bytes to everyone else.
//
// A ticket also carries the session's keys, fresh for every ticket: one key for each direction,
// sealed to the game server's own key pair (X25519, crypto_box_seal), so that only that server can
// read them from the ticket. The client gets its copy from the lobby beside the ticket, over the
// lobby connection: keep that connection on TLS, or anyone on the path reads the keys.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tickwire/net/status.hpp"
#include "tickwire/net/types.hpp"

namespace tickwire::net {

// What a ticket lets its holder do in the match (ticket.fbs's TicketRole).
enum class TicketRole : std::uint8_t {
  player = 0,     // play: an entity, inputs, a seat in the match
  spectator = 1,  // watch only: no entity, no inputs, the match as it was a while ago
};

struct JoinTicket {
  std::uint64_t player_id = 0;
  std::uint64_t match_id = 0;
  std::string server_address;            // "host:port" of the game server the ticket is for
  std::uint64_t expires_unix_ms = 0;     // wall clock (system_clock) milliseconds
  std::array<std::uint8_t, 16> nonce{};  // random; a verifier accepts each nonce once
  TicketRole role = TicketRole::player;
};

using TicketPublicKey = std::array<std::uint8_t, 32>;
using TicketSecretKey = std::array<std::uint8_t, 64>;

// One session's symmetric keys (32 bytes each): what the client sends is sealed with
// client_to_server, what the server sends with server_to_client. Secret: never log them.
struct SessionKeys {
  std::array<std::uint8_t, 32> client_to_server{};
  std::array<std::uint8_t, 32> server_to_client{};
  bool operator==(const SessionKeys&) const = default;
};

// A game server's sealing key pair (X25519). The lobby holds the public half of every game server
// it sends players to; the server keeps the secret half to itself (a key file, mode 0600).
using ServerSealPublicKey = std::array<std::uint8_t, 32>;
using ServerSealSecretKey = std::array<std::uint8_t, 32>;
struct GameServerSealKeys {
  ServerSealPublicKey public_key{};
  ServerSealSecretKey secret_key{};
  static GameServerSealKeys generate();
  // From a secret key saved earlier (its public half is derived).
  static GameServerSealKeys from_secret_key(const ServerSealSecretKey& secret);
};

// A ticket and the session keys sealed inside it, as the lobby hands them to one player.
struct IssuedTicket {
  std::vector<std::byte> ticket;
  SessionKeys keys;
};

class JoinTicketIssuer {
 public:
  // A fresh key pair.
  static JoinTicketIssuer generate();
  // From a secret key saved earlier (its public half is derived).
  static JoinTicketIssuer from_secret_key(const TicketSecretKey& secret);

  const TicketPublicKey& public_key() const { return public_key_; }
  const TicketSecretKey& secret_key() const { return secret_key_; }

  // A signed ticket for `player_id` to join `match_id` on `server_address`, valid for
  // `lifetime_ms` from now, with a fresh random nonce.
  // It carries no session keys: only for servers that run without encryption.
  std::vector<std::byte> issue(std::uint64_t player_id, std::uint64_t match_id,
                               const std::string& server_address,
                               std::uint64_t lifetime_ms = 30'000,
                               TicketRole role = TicketRole::player) const;
  // The same with fresh session keys sealed to `server_key`; the keys come back for the client.
  IssuedTicket issue_with_keys(std::uint64_t player_id, std::uint64_t match_id,
                               const std::string& server_address,
                               const ServerSealPublicKey& server_key,
                               std::uint64_t lifetime_ms = 30'000,
                               TicketRole role = TicketRole::player) const;
  // Signs a ticket as given (tests use this to make expired or foreign tickets), with `keys`
  // sealed to `server_key` when both are given.
  std::vector<std::byte> sign(const JoinTicket& ticket, const SessionKeys* keys = nullptr,
                              const ServerSealPublicKey* server_key = nullptr) const;

 private:
  TicketPublicKey public_key_{};
  TicketSecretKey secret_key_{};
};

enum class TicketError : std::uint8_t {
  malformed,      // not a ticket, or over the size limit
  bad_signature,  // not signed by the lobby's key (tampered, or another lobby's)
  expired,
  wrong_server,  // for another game server
  reused,        // its nonce was seen before
  no_keys,       // carries no session keys this server can open (sealed for another server)
};
std::string_view to_string(TicketError error);
// The detail a refused client is told.
TicketRefusal refusal_for(TicketError error);

struct TicketCheck {
  bool ok = false;
  TicketError error = TicketError::malformed;
  JoinTicket ticket;  // valid when ok
  // The session keys the ticket carried, opened with the server's sealing key (when ok and the
  // verifier was given one).
  std::optional<SessionKeys> keys;
};

class JoinTicketVerifier;

// A connection attempt's provisional claim on a ticket it showed but has not yet been admitted
// with (JoinTicketVerifier::hold). It keeps the ticket usable: a claim is not a use, so the
// holder of the ticket's keys can still get in on another attempt (the WebSocket fallback after
// an ENet handshake whose answers were lost), while the number of attempts claiming one ticket at
// once stays bounded. Released when destroyed, or when the attempt uses the ticket up.
class TicketHold {
 public:
  enum class Outcome : std::uint8_t {
    held,  // this attempt now holds the ticket provisionally
    used,  // the ticket was used up already (TicketError::reused)
    busy,  // as many attempts as allowed hold it already, none of them admitted yet
  };
  TicketHold() = default;
  ~TicketHold();
  TicketHold(TicketHold&& other) noexcept;
  TicketHold& operator=(TicketHold&& other) noexcept;
  TicketHold(const TicketHold&) = delete;
  TicketHold& operator=(const TicketHold&) = delete;

  Outcome outcome() const { return outcome_; }
  bool held() const { return outcome_ == Outcome::held && nonces_ != nullptr; }
  // Gives the claim up (also what the destructor does).
  void release();

 private:
  friend class JoinTicketVerifier;
  struct Nonces;
  std::shared_ptr<Nonces> nonces_;
  std::string nonce_;
  Outcome outcome_ = Outcome::busy;
};

class JoinTicketVerifier {
 public:
  // Accepts tickets signed by `lobby_key` for `server_address`. Remembers up to
  // `max_remembered_nonces` nonces of unexpired tickets to refuse replays. With `seal_keys`, a
  // ticket must also carry session keys sealed to them (else no_keys), and they are opened.
  JoinTicketVerifier(const TicketPublicKey& lobby_key, std::string server_address,
                     std::optional<GameServerSealKeys> seal_keys = std::nullopt,
                     std::size_t max_remembered_nonces = 65536);
  ~JoinTicketVerifier();
  JoinTicketVerifier(JoinTicketVerifier&&) noexcept;
  JoinTicketVerifier& operator=(JoinTicketVerifier&&) noexcept;

  // Checks `ticket` at wall-clock time `now_unix_ms`; a valid ticket's nonce is used up.
  TicketCheck verify(std::span<const std::byte> ticket, std::uint64_t now_unix_ms);
  // verify() in two steps, for a transport that must see a proof made with the ticket's session
  // keys before the ticket counts as used (so that a ticket copied off the wire cannot burn it):
  // check() leaves the nonce unused; use() uses it up, false if it was used meanwhile.
  TicketCheck check(std::span<const std::byte> ticket, std::uint64_t now_unix_ms) const;
  bool use(const JoinTicket& ticket, std::uint64_t now_unix_ms);
  // For a transport whose attempt shows its ticket before it can prove it holds the ticket's keys
  // (ENet: the RESPONSE, then a CONNECT tagged with the keys): a checked ticket is held, not used,
  // until the attempt is admitted (then use()). At most `max_holds` attempts hold one ticket at
  // once (further ones are `busy`); holds do not stop use(): the first attempt admitted wins.
  TicketHold hold(const JoinTicket& ticket, std::uint64_t now_unix_ms, std::size_t max_holds);

  // From now on this verifier and `other` remember the same used nonces (those either used
  // before included) and the same holds: the transports of one game server share them, so that a
  // ticket used on one is refused on the other. Call it before either verifier is in use.
  void share_used_nonces(JoinTicketVerifier& other);

 private:
  using Nonces = TicketHold::Nonces;
  bool was_used(const std::array<std::uint8_t, 16>& nonce, std::uint64_t now_unix_ms) const;

  TicketPublicKey lobby_key_;
  std::string server_address_;
  std::optional<GameServerSealKeys> seal_keys_;
  std::shared_ptr<Nonces> nonces_;
};

// Milliseconds since the Unix epoch, for expiry.
std::uint64_t unix_time_ms();

}  // namespace tickwire::net
