#pragma once
// One session's state on an ENet endpoint: the keys and replay state of each direction once the
// handshake has shown a ticket, and the connection attempts a server has verified but ENet has not
// yet connected. Key material stays in here; nothing prints it.

#include <array>
#include <cstdint>
#include <optional>

#include "session/handshake.hpp"
#include "session/session_crypto.hpp"
#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net::enet_detail {

struct SessionCrypto {
  SessionCrypto(const session::DirectionKeys& send, const session::DirectionKeys& receive)
      : sealer(send), opener(receive), send_tag_key(send.tag), receive_tag_key(receive.tag) {}
  session::MessageSealer sealer;
  session::MessageOpener opener;
  std::array<std::uint8_t, 16> send_tag_key;
  std::array<std::uint8_t, 16> receive_tag_key;
  session::RecentTags recent_tags;  // of datagrams received
};

// Server: `keys` as the ticket carried them; client: its own copy. The client sends with
// client_to_server and receives with server_to_client, the server the other way round.
inline std::optional<SessionCrypto> make_session_crypto(const std::optional<SessionKeys>& keys,
                                                        bool is_server, session::Cipher cipher) {
  if (!keys) return std::nullopt;
  const auto c2s = session::DirectionKeys::derive(keys->client_to_server, cipher);
  const auto s2c = session::DirectionKeys::derive(keys->server_to_client, cipher);
  return is_server ? std::optional<SessionCrypto>(std::in_place, s2c, c2s)
                   : std::optional<SessionCrypto>(std::in_place, c2s, s2c);
}

struct Session {
  std::uint32_t connect_id = 0;  // ENet's connectID of the connection (the checksum seed)
  std::uint32_t host = 0;        // the peer's address, as ENet stores it
  std::uint16_t port = 0;
  std::optional<JoinTicket> ticket;
  // The ticket held, not used, until ENet reports the connection (its CONNECT was tagged with the
  // ticket's keys, and the client read the server's VERIFY_CONNECT): then it is used up.
  TicketHold ticket_hold;
  std::optional<SessionCrypto> crypto;  // absent in plaintext sessions
  std::uint64_t expires_ms = 0;         // until bound to a connected peer
  bool bound = false;                   // ENet reported the peer connected
  // What ENet sent on this connection, counted where every outgoing datagram passes (the tag).
  std::uint64_t datagrams_sent = 0;
  std::uint64_t wire_bytes_sent = 0;
};

// A server's verified connection attempt, between its RESPONSE and its ENet CONNECT. It holds its
// ticket only provisionally: nothing yet shows it came from the holder of the ticket's keys.
struct PendingJoin {
  std::uint32_t host = 0;
  std::uint16_t port = 0;
  std::array<std::uint8_t, 16> ticket_digest{};  // recognises a RESPONSE sent again
  std::optional<JoinTicket> ticket;
  TicketHold ticket_hold;  // moves to the Session with the CONNECT
  std::optional<SessionKeys> keys;
  session::Cipher cipher = session::Cipher::chacha20_poly1305;  // picked for an encrypted session
  std::vector<std::uint8_t> accept;  // the ACCEPT, sent again for a repeated RESPONSE
  std::uint64_t expires_ms = 0;
};

}  // namespace tickwire::net::enet_detail
