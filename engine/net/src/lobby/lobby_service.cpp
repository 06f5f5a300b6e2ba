// Request dispatch, Hello, timers, and answers. Game servers' reports and the end of matches are
// in match_reports.cpp. A connection's queue and
// its close are in session_queue.cpp, delivery in lobby_delivery.cpp, the room, chat and match
// requests in room_requests.cpp; resume records, their leases and the resume itself in
// player_resume.cpp.

#include "lobby/lobby_service.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "lobby/lobby_validation.hpp"

namespace tickwire::net::lobby_detail {

LobbyService::Session::Session(const LobbyConfig& config, Clock::time_point now)
    : hello_deadline(now + std::chrono::milliseconds(config.hello_timeout_ms)),
      requests(config.request_burst, config.requests_per_second, config.flood_strikes, now),
      chat(config.chat_burst, config.chat_lines_per_second, config.flood_strikes, now) {}

LobbyService::LobbyService(const LobbyConfig& config, LobbyState& state,
                           const JoinTicketIssuer& tickets, LobbyOutput& output,
                           LobbyMetrics& metrics, std::function<void()> wake)
    : config_(config),
      state_(state),
      tickets_(tickets),
      output_(output),
      metrics_(metrics),
      registration_backoff_({std::chrono::milliseconds(config.registration_lockout_ms),
                             std::chrono::milliseconds(config.registration_max_lockout_ms),
                             std::chrono::milliseconds(config.registration_forget_ms),
                             config.max_registration_backoff_addresses}),
      global_chat_budget_(config.global_chat_bytes_per_second,
                          static_cast<double>(config.global_chat_bytes_per_second), Clock::now()),
      workers_(state, state.may_block() ? config.state_workers : 0, std::move(wake)) {}

void LobbyService::on_tick(Clock::time_point now) {
  std::vector<PeerId> silent;
  for (const auto& [peer, session] : sessions_) {
    // A Hello with the state is not silence.
    if (session.player == 0 && session.game_server.empty() && !session.closing &&
        session.in_flight == 0 && now >= session.hello_deadline) {
      silent.push_back(peer);
    }
  }
  for (const PeerId peer : silent) {
    ++metrics_.disconnected_no_hello;
    close(peer, CloseReason::no_hello);
  }
  if (!resume_check_running_) {
    resume_check_running_ = true;
    struct Expired {
      ResumeRecord record;
      Removal removal;
    };
    struct Checked {
      std::vector<Expired> expired;
      // Players of a lobby process that died, now shown disconnected: (room, member).
      std::vector<std::pair<RoomId, MemberInfo>> lapsed;
    };
    const bool check_lapses = now >= next_lapse_check_;
    if (check_lapses) next_lapse_check_ = now + kLapseCheckInterval;
    on_state(
        kInvalidPeer,
        [now_unix_ms = unix_time_ms(), check_lapses](LobbyState& state) {
          Checked checked;
          for (ResumeRecord& record : state.take_expired_resumes(now_unix_ms)) {
            Removal removal;
            if (record.room != 0) removal = remove_in_state(state, record.room, record.player);
            state.release_nickname(nickname_key(record.nickname), record.player);
            checked.expired.push_back({std::move(record), std::move(removal)});
          }
          if (!check_lapses) return checked;
          for (const ResumeRecord& record : state.lapse_connections(now_unix_ms)) {
            checked.lapsed.emplace_back(
                record.room,
                disconnected_member(state, record.room, record.player, record.nickname));
          }
          return checked;
        },
        [this](const Checked& checked) {
          resume_check_running_ = false;
          for (const auto& [record, removal] : checked.expired) {
            if (record.room != 0) after_removal(record.room, removal, wire::PresenceKind::left);
            // Another lobby process's record counts for none of this one's addresses.
            count_down(nicknames_by_address_, record.address);
          }
          for (const auto& [room, member] : checked.lapsed) {
            ++metrics_.players_lapsed;
            state_.publish({Broadcast::Audience::room, room,
                            presence_event(room, wire::PresenceKind::disconnected, member)});
          }
        });
  }
  renew_leases(now);
  if (now >= next_match_check_ && !match_check_running_) {
    next_match_check_ = now + kMatchCheckInterval;
    end_stuck_matches(unix_time_ms());
  }
}

void LobbyService::handle_message(PeerId peer, Session& session, std::span<const std::byte> message,
                                  bool text, Clock::time_point now) {
  session.json = text;
  DecodeError error = DecodeError::none;
  const wire::LobbyMessage* decoded =
      text ? codec_.decode_json(message, error) : codec_.decode_binary(message, error);
  if (decoded == nullptr) return reject(peer, session, error);
  const Request request{peer, session, *decoded, decoded->request_id(), now};
  // Chat has its own, tighter limit (in chat()); everything else counts here.
  if (decoded->body_type() != wire::LobbyBody::SendChat) {
    switch (session.requests.check(now)) {
      case FloodGuard::Verdict::allow:
        break;
      case FloodGuard::Verdict::refuse:
        ++metrics_.dropped_rate_limited;
        return fail(request, wire::ErrorCode::rate_limited,
                    "too many requests: wait a moment before sending more");
      case FloodGuard::Verdict::disconnect:
        ++metrics_.disconnected_flooding;
        return close(peer, CloseReason::flooding);
    }
  }
  dispatch(request);
}

void LobbyService::dispatch(const Request& request) {
  const wire::LobbyMessage& message = request.message;
  if (message.body_type() == wire::LobbyBody::Hello)
    return hello(request, *message.body_as_Hello());
  if (message.body_type() == wire::LobbyBody::ListRooms) {
    return list_rooms(request, *message.body_as_ListRooms());
  }
  // Game servers are not players: they register without Hello.
  if (message.body_type() == wire::LobbyBody::GetRegistrationChallenge) {
    return get_registration_challenge(request);
  }
  if (message.body_type() == wire::LobbyBody::RegisterGameServer) {
    return register_game_server(request, *message.body_as_RegisterGameServer());
  }
  if (message.body_type() == wire::LobbyBody::ReportLoad) {
    return report_load(request, *message.body_as_ReportLoad());
  }
  if (message.body_type() == wire::LobbyBody::MatchEnd) {
    return report_match_end(request, *message.body_as_MatchEnd());
  }
  if (message.body_type() == wire::LobbyBody::MatchBegan) {
    return report_match_began(request, *message.body_as_MatchBegan());
  }
  if (request.session.player == 0) {
    return fail(request, wire::ErrorCode::hello_required, "send Hello with a nickname first");
  }
  switch (message.body_type()) {
    case wire::LobbyBody::CreateRoom:
      return create_room(request, *message.body_as_CreateRoom());
    case wire::LobbyBody::JoinRoom:
      return join_room(request, *message.body_as_JoinRoom());
    case wire::LobbyBody::LeaveRoom:
      return leave_room(request);
    case wire::LobbyBody::KickPlayer:
      return kick(request, *message.body_as_KickPlayer());
    case wire::LobbyBody::SendChat:
      return chat(request, *message.body_as_SendChat());
    case wire::LobbyBody::SetReady:
      return set_ready(request, *message.body_as_SetReady());
    case wire::LobbyBody::StartMatch:
      return start_match(request);
    case wire::LobbyBody::SpectateMatch:
      return spectate_match(request, *message.body_as_SpectateMatch());
    default:
      // The codec lets only requests through; Hello and ListRooms are handled above.
      return fail(request, wire::ErrorCode::bad_request, "not a request");
  }
}

void LobbyService::hello(const Request& request, const wire::Hello& hello) {
  if (request.session.player != 0) {
    return fail(request, wire::ErrorCode::already_hello, "this connection has said Hello already");
  }
  if (hello.resume_token() != nullptr && hello.resume_token()->size() > 0) {
    return resume(request, hello.resume_token()->str());
  }
  const std::string nickname = hello.nickname() != nullptr ? hello.nickname()->str() : "";
  if (std::string problem =
          check_nickname(nickname, config_.min_nickname_length, config_.max_nickname_length);
      !problem.empty()) {
    return fail(request, wire::ErrorCode::nickname_invalid, std::move(problem));
  }
  std::size_t& held = nicknames_by_address_[request.session.address];
  if (held >= config_.max_nicknames_per_address) {
    ++metrics_.refused_address_limit;
    log_address_limit(request, "max_nicknames_per_address");
    return fail(request, wire::ErrorCode::address_limit,
                "players from your address hold " + std::to_string(held) +
                    " nicknames, as many as one address may: free one first");
  }
  ++held;  // now, so that the next Hello from the address counts this one while it is out
  struct Claimed {
    PlayerId player = 0;
    bool taken = false;
  };
  std::string token = new_resume_token();
  on_state(
      request.peer,
      [this, nickname, token, address = request.session.address](LobbyState& state) {
        Claimed claimed;
        claimed.player = state.next_id();
        if (claimed.player == 0) return claimed;
        const std::uint64_t now = unix_time_ms();
        if (!state.claim_nickname(nickname_key(nickname), claimed.player,
                                  live_nickname_lease(now))) {
          claimed.taken = true;
          return claimed;
        }
        if (config_.resume_grace_ms > 0) {
          state.store_resume(
              token, live_record(claimed.player, {kInvalidPeer, nickname, 0, token, address}, now));
        }
        return claimed;
      },
      [this, answer = answer_of(request), nickname, token,
       address = request.session.address](const Claimed& claimed) {
        if (claimed.player == 0 || claimed.taken) {
          count_down(nicknames_by_address_, address);
          if (claimed.taken) {
            return fail(answer, wire::ErrorCode::nickname_taken,
                        "the nickname '" + nickname + "' is taken: pick another");
          }
          return fail(answer, wire::ErrorCode::rate_limited,
                      "the lobby cannot reach its shared state: try again in a moment");
        }
        // The session is there: its disconnect waits for this.
        sessions_.at(answer.peer).player = claimed.player;
        Player& entry = players_[claimed.player];
        entry.peer = answer.peer;
        entry.nickname = nickname;
        entry.resume_token = token;
        entry.address = address;
        reply(answer, welcome_reply(answer.id, claimed.player, nickname, token,
                                    config_.resume_grace_ms, nullptr, {}));
      });
}

void LobbyService::reply(const Answer& answer, const MessageBytes& message,
                         const std::string* json) {
  if (send(answer.peer, message, json) != SendOutcome::too_large) return;
  // The requester asked for something that does not fit (the lobby trims what it can, so this is
  // a last resort): an error it can act on, never a disconnect.
  ++metrics_.replies_too_large;
  fail(answer, wire::ErrorCode::reply_too_large,
       "the answer does not fit in one message (" +
           std::to_string(config_.websocket.common.max_message_size) +
           " bytes at most): ask for less");
}

void LobbyService::fail(const Answer& answer, wire::ErrorCode code, std::string message) {
  send(answer.peer, error_reply(answer.id, code, message));
}

void LobbyService::reject(PeerId peer, Session& session, DecodeError error) {
  const bool unsupported = error == DecodeError::unsupported;
  ++(unsupported ? metrics_.dropped_unsupported : metrics_.dropped_malformed);
  // A person typing JSON by hand learns what the parser found before the close arrives.
  send(peer, error_reply(0, wire::ErrorCode::malformed, codec_.error_detail()));
  if (unsupported) return close(peer, CloseReason::unsupported);
  if (++session.malformed_frames >= config_.max_malformed_frames) {
    close(peer, CloseReason::malformed);
  }
}

SendOutcome LobbyService::send(PeerId peer, const MessageBytes& message, const std::string* json) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end() || it->second.closing) return SendOutcome::gone;
  std::string rendered;
  std::span<const std::byte> bytes = *message;
  if (it->second.json) {
    if (json == nullptr || json->empty()) {
      rendered = codec_.to_json(*message);
      json = &rendered;
    }
    bytes = {reinterpret_cast<const std::byte*>(json->data()), json->size()};
  }
  const SendOutcome outcome = output_.send(peer, bytes, it->second.json);
  switch (outcome) {
    case SendOutcome::sent:
      ++metrics_.messages_sent;
      metrics_.bytes_sent += bytes.size();
      break;
    case SendOutcome::queue_full:
      ++metrics_.disconnected_slow;
      close(peer, CloseReason::slow_reader);
      break;
    case SendOutcome::gone:
    case SendOutcome::too_large:
      break;
  }
  return outcome;
}

std::string_view to_string(CloseReason reason) {
  switch (reason) {
    case CloseReason::malformed:
      return "malformed";
    case CloseReason::unsupported:
      return "unsupported";
    case CloseReason::flooding:
      return "flooding";
    case CloseReason::no_hello:
      return "no_hello";
    case CloseReason::slow_reader:
      return "slow_reader";
    case CloseReason::registration_refused:
      return "registration_refused";
    case CloseReason::resumed_elsewhere:
      return "resumed_elsewhere";
    case CloseReason::request_queue_full:
      return "request_queue_full";
  }
  return "unknown";
}

void LobbyService::log_address_limit(const Request& request, std::string_view limit) {
  detail::log_limited(address_limit_log_, steady_ms(request.now), LogLevel::warning, "lobby", [&] {
    return "request from " + request.session.address + " refused: " + std::string(limit) +
           " reached";
  });
}

void LobbyService::close(PeerId peer, CloseReason reason) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end() || it->second.closing) return;
  it->second.closing = true;
  // A client closed for what it sent is worth a line; one that went quiet or does not read is
  // ordinary enough to be information only.
  const LogLevel level = reason == CloseReason::no_hello || reason == CloseReason::slow_reader
                             ? LogLevel::info
                             : LogLevel::warning;
  detail::log_limited(close_log_[static_cast<std::size_t>(reason)], detail::steady_now_ms(), level,
                      "lobby", [&] {
                        return "connection " + std::to_string(peer) + " from " +
                               it->second.address + " closed: " + std::string(to_string(reason));
                      });
  output_.close(peer, reason);
}

MessageBytes LobbyService::fit(const Session& session, std::size_t count, std::size_t least,
                               const std::function<MessageBytes(std::size_t)>& make,
                               std::string& json) {
  const std::size_t limit = config_.websocket.common.max_message_size;
  while (true) {
    MessageBytes message = make(count);
    json.clear();
    std::size_t size = message->size();
    if (session.json) {
      json = codec_.to_json(*message);
      size = json.size();
    }
    if (size <= limit) return message;
    if (count <= least) return nullptr;
    count = std::max(least, count / 2);
  }
}

MessageBytes LobbyService::fit(PeerId peer, std::size_t count, std::size_t least,
                               const std::function<MessageBytes(std::size_t)>& make,
                               std::string& json) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end()) return nullptr;
  return fit(it->second, count, least, make, json);
}

std::vector<ChatEntry> LobbyService::history_for_join(LobbyState& state, RoomId room) const {
  std::vector<ChatEntry> history = state.chat_history(room);
  std::size_t bytes = 0;
  std::size_t first = history.size();
  while (first > 0 && bytes + history[first - 1].text.size() <= config_.chat_history_bytes) {
    --first;
    bytes += history[first].text.size();
  }
  history.erase(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(first));
  return history;
}

LobbyService::Player* LobbyService::player_of(const Session& session) {
  const auto it = players_.find(session.player);
  return it == players_.end() ? nullptr : &it->second;
}

LobbyService::Player* LobbyService::player_at(PeerId peer) {
  const auto session = sessions_.find(peer);
  if (session == sessions_.end() || session->second.player == 0) return nullptr;
  const auto it = players_.find(session->second.player);
  return it == players_.end() || it->second.peer != peer ? nullptr : &it->second;
}

MemberInfo LobbyService::disconnected_member(LobbyState& state, RoomId room, PlayerId player,
                                             const std::string& nickname) {
  return member_in(state.room(room), player).value_or(MemberInfo{player, nickname, false, false});
}

std::optional<MemberInfo> LobbyService::member_in(const std::optional<RoomInfo>& room,
                                                  PlayerId player) {
  if (!room) return std::nullopt;
  for (const MemberInfo& member : room->members) {
    if (member.player == player) return member;
  }
  return std::nullopt;
}

std::string LobbyService::new_resume_token() {
  // Unguessable: whoever holds it takes the player's seat.
  std::array<unsigned char, 16> random{};
  randombytes_buf(random.data(), random.size());
  std::array<char, 2 * 16 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
  return std::string(hex.data(), 2 * 16);
}

std::uint64_t LobbyService::steady_ms(Clock::time_point now) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

}  // namespace tickwire::net::lobby_detail
