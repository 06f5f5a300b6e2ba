#pragma once
// The sealing both ends of a WebSocket gameplay session do (websocket_session.hpp): one sealer and
// one opener per session, every message sealed as reliable (a stream delivers everything in
// order), on the channel it travels on.

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

#include "session/session_crypto.hpp"
#include "tickwire/net/event.hpp"
#include "tickwire/net/join_ticket.hpp"

namespace tickwire::net::websocket_detail {

struct SealedSession {
  SealedSession(const session::DirectionKeys& send, const session::DirectionKeys& receive)
      : sealer(send), opener(receive) {}
  // The server sends with server_to_client and opens with client_to_server; the client the other
  // way round.
  static SealedSession for_server(const SessionKeys& keys) {
    return {session::DirectionKeys::derive(keys.server_to_client),
            session::DirectionKeys::derive(keys.client_to_server)};
  }
  static SealedSession for_client(const SessionKeys& keys) {
    return {session::DirectionKeys::derive(keys.client_to_server),
            session::DirectionKeys::derive(keys.server_to_client)};
  }

  // `message` sealed for `channel`, in `scratch` (reused between calls).
  std::span<const std::byte> seal(std::span<const std::byte> message, Channel channel,
                                  std::vector<std::uint8_t>& scratch) {
    scratch.resize(message.size() + session::kSealOverhead);
    const auto* body = reinterpret_cast<const std::uint8_t*>(message.data());
    sealer.seal({body, message.size()}, false, channel, true, scratch);
    return std::as_bytes(std::span(scratch));
  }

  // Opens a received message's payload in place; when it opens, the payload becomes the
  // plaintext (the received buffer stays alive behind it, no copy).
  session::OpenResult open(Event& event) {
    // The payload owns the buffer the message was read into, and nobody else sees it: it may be
    // opened in place.
    auto* bytes = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(event.payload.data()));
    const session::Opened opened = opener.open({bytes, event.payload.size()}, event.channel, true);
    if (opened.result != session::OpenResult::ok) return opened.result;
    auto* holder = new (std::nothrow) Payload(std::move(event.payload));
    if (holder == nullptr) return session::OpenResult::malformed;
    event.payload = Payload(
        reinterpret_cast<const std::byte*>(opened.body.data()), opened.body.size(),
        [](void* owner) { delete static_cast<Payload*>(owner); }, holder);
    return session::OpenResult::ok;
  }

  session::MessageSealer sealer;
  session::MessageOpener opener;
};

}  // namespace tickwire::net::websocket_detail
