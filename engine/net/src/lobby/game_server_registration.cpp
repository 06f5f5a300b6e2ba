// Dedicated game servers registering over the wire: a challenge per connection, a signature by a
// key on the allow-list over it and everything the server claims, the address tied to the
// connection's, the capacity capped, and a growing lockout for the addresses that fail.

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"

namespace tickwire::net::lobby_detail {
namespace {

// The host of "host:port" ("[v6]:port" too), without brackets.
std::string_view host_of(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// The same IP address written two ways ("::1" and "0:0:0:0:0:0:0:1") compares equal; a name
// (not an address) never equals one.
bool same_ip(std::string_view a, std::string_view b) {
  const auto parse = [](std::string_view text, std::array<unsigned char, 16>& out) -> int {
    const std::string copy(text);
    if (inet_pton(AF_INET, copy.c_str(), out.data()) == 1) return AF_INET;
    if (inet_pton(AF_INET6, copy.c_str(), out.data()) == 1) return AF_INET6;
    return 0;
  };
  std::array<unsigned char, 16> first{};
  std::array<unsigned char, 16> second{};
  const int family = parse(a, first);
  return family != 0 && family == parse(b, second) && first == second;
}

}  // namespace

bool LobbyService::registration_locked_out(const Request& request) {
  const std::chrono::milliseconds left =
      registration_backoff_.locked_for(request.session.address, request.now);
  if (left.count() == 0) return false;
  ++metrics_.registration_locked_out;
  detail::log_limited(registration_log_, steady_ms(request.now), LogLevel::warning, "lobby", [&] {
    return "game server registration from " + request.session.address + " refused: locked out " +
           std::to_string(left.count()) + " ms more after failed attempts";
  });
  fail(request, wire::ErrorCode::rate_limited,
       "game server registration from your address is locked out for " +
           std::to_string(left.count()) +
           " ms more after failed attempts: fix the key or address, then try again");
  close(request.peer, CloseReason::registration_refused);
  return true;
}

void LobbyService::refuse_registration(const Request& request, std::atomic<std::uint64_t>& counter,
                                       const std::string& reason) {
  ++counter;
  const std::chrono::milliseconds lockout =
      registration_backoff_.fail(request.session.address, request.now);
  detail::log_limited(registration_log_, steady_ms(request.now), LogLevel::warning, "lobby", [&] {
    return "game server registration from " + request.session.address + " refused: " + reason +
           "; address locked out for " + std::to_string(lockout.count()) + " ms";
  });
  fail(request, wire::ErrorCode::registration_refused,
       reason + "; registration from your address is locked out for " +
           std::to_string(lockout.count()) + " ms");
  close(request.peer, CloseReason::registration_refused);
}

bool LobbyService::registration_turned_away(const Request& request) {
  if (request.session.player != 0) {
    fail(request, wire::ErrorCode::bad_request, "a player's connection cannot register");
    return true;
  }
  if (config_.game_server_keys.empty()) {
    fail(request, wire::ErrorCode::registration_refused,
         "this lobby takes no game server registrations (its allow-list is empty)");
    return true;
  }
  return registration_locked_out(request);
}

void LobbyService::get_registration_challenge(const Request& request) {
  if (registration_turned_away(request)) return;
  const RegistrationChallenge& challenge =
      request.session.registration_challenge.emplace(new_registration_challenge());
  reply(request, registration_challenge_reply(request.id, challenge, tickets_.public_key()));
}

void LobbyService::register_game_server(const Request& request,
                                        const wire::RegisterGameServer& registration) {
  if (registration_turned_away(request)) return;
  // Used once, whatever follows: a signature is good for one try on one connection.
  const std::optional<RegistrationChallenge> challenge =
      std::exchange(request.session.registration_challenge, std::nullopt);

  const std::string address =
      registration.address() != nullptr ? registration.address()->str() : "";
  constexpr std::size_t kMaxAddress = 255;
  if (address.empty() || address.size() > kMaxAddress || address.find(':') == std::string::npos ||
      registration.capacity() == 0) {
    return fail(request, wire::ErrorCode::bad_request,
                "RegisterGameServer needs address \"host:port\" and capacity > 0");
  }
  const std::string websocket_address =
      registration.websocket_address() != nullptr ? registration.websocket_address()->str() : "";
  if (websocket_address.size() > kMaxAddress ||
      (!websocket_address.empty() && websocket_address.find(':') == std::string::npos)) {
    return fail(request, wire::ErrorCode::bad_request,
                "RegisterGameServer.websocket_address is \"host:port\", or absent for none");
  }
  // Absent: a server without encryption. Present: exactly a key the lobby can seal to, or the
  // players it is sent would get tickets it cannot open.
  std::optional<ServerSealPublicKey> seal_key;
  if (const auto* key = registration.seal_public_key(); key != nullptr) {
    if (!is_usable_seal_key({key->data(), key->size()})) {
      return fail(request, wire::ErrorCode::bad_request,
                  "RegisterGameServer.seal_public_key must be the server's 32-byte X25519 public "
                  "key, or absent for a server without encryption; this one " +
                      (key->size() != std::tuple_size_v<ServerSealPublicKey>
                           ? "has " + std::to_string(key->size()) + " bytes"
                           : std::string("is a low-order point nothing can be sealed to")));
    }
    seal_key.emplace();
    std::copy(key->begin(), key->end(), seal_key->begin());
  }

  if (!challenge) {
    return refuse_registration(request, metrics_.registration_no_challenge,
                               "send GetRegistrationChallenge first and sign its challenge");
  }
  ServerPublicKey key{};
  const auto* key_bytes = registration.public_key();
  if (key_bytes == nullptr || key_bytes->size() != key.size()) {
    return refuse_registration(request, metrics_.registration_unknown_key,
                               "public_key must be the server's 32-byte Ed25519 public key");
  }
  std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
  if (std::find(config_.game_server_keys.begin(), config_.game_server_keys.end(), key) ==
      config_.game_server_keys.end()) {
    return refuse_registration(request, metrics_.registration_unknown_key,
                               "this key is not on the lobby's game server allow-list");
  }
  const auto* signature = registration.signature();
  const RegistrationClaim claim{address, registration.capacity(), seal_key, websocket_address};
  if (signature == nullptr || !verify_registration(key, {signature->data(), signature->size()},
                                                   tickets_.public_key(), *challenge, claim)) {
    return refuse_registration(
        request, metrics_.registration_bad_signature,
        "the signature is not this key's over this connection's challenge and these fields");
  }
  // A server that holds a key still sends matches only to itself, and no more than allowed.
  if (!config_.allow_any_registered_address &&
      (!same_ip(host_of(address), request.session.address) ||
       (!websocket_address.empty() &&
        !same_ip(host_of(websocket_address), request.session.address)))) {
    return refuse_registration(request, metrics_.registration_address_mismatch,
                               "the address's host must be the one this connection comes from (" +
                                   request.session.address + ")");
  }
  if (registration.capacity() > config_.max_game_server_capacity) {
    return refuse_registration(request, metrics_.registration_over_capacity,
                               "capacity " + std::to_string(registration.capacity()) +
                                   " is over the lobby's max_game_server_capacity (" +
                                   std::to_string(config_.max_game_server_capacity) + ")");
  }
  registration_backoff_.succeed(request.session.address);
  std::string replaced;
  if (request.session.game_server != address) {
    replaced = std::exchange(request.session.game_server, address);
  }
  on_state(
      request.peer,
      [replaced, server = GameServerInfo{.address = address,
                                         .websocket_address = websocket_address,
                                         .capacity = registration.capacity(),
                                         .seal_key = seal_key,
                                         .lease_expires_unix_ms = lease_from(unix_time_ms()),
                                         .connected = true}](LobbyState& state) {
        if (!replaced.empty()) state.remove_game_server(replaced);
        state.put_game_server(server);
        return true;
      },
      [this, answer = answer_of(request)](bool) { reply(answer, ok_reply(answer.id)); });
}

}  // namespace tickwire::net::lobby_detail
