// Sessions, request dispatch, Hello, and delivery. The room, chat and match requests are in
// room_requests.cpp; resume records, their leases and the resume itself in player_resume.cpp.

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
                           LobbyMetrics& metrics)
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
                          static_cast<double>(config.global_chat_bytes_per_second), Clock::now()) {}

void LobbyService::on_connected(PeerId peer, std::string address, Clock::time_point now) {
  const auto [it, added] = sessions_.try_emplace(peer, config_, now);
  if (added) it->second.address = std::move(address);
  ++metrics_.connections;
}

void LobbyService::count_down(std::unordered_map<std::string, std::size_t>& counts,
                              const std::string& address) {
  const auto it = counts.find(address);
  if (it == counts.end()) return;
  if (--it->second == 0) counts.erase(it);
}

void LobbyService::on_disconnected(PeerId peer, Clock::time_point /*now*/) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  // A game server whose connection closed gets no new matches; its running ones wait for it to
  // come back until its lease runs out (end_stuck_matches).
  if (!it->second.game_server.empty()) state_.disconnect_game_server(it->second.game_server);
  const PlayerId player_id = it->second.player;
  const std::string address = std::move(it->second.address);
  sessions_.erase(it);
  --metrics_.connections;
  const auto player = players_.find(player_id);
  if (player == players_.end()) return;
  Player gone = std::move(player->second);
  players_.erase(player);
  if (config_.resume_grace_ms > 0) {
    // The seat and the nickname wait for the player's resume token. Nobody renews the nickname
    // meanwhile: its lease covers the grace, and whichever process frees the expired record
    // (take_expired_resumes) frees it.
    const std::uint64_t expires = unix_time_ms() + config_.resume_grace_ms;
    // The record this process kept for the player gets the grace as its deadline. If it is gone,
    // its token was used a moment ago (the player resumed on another connection, perhaps on
    // another process, before this one saw the drop): the seat and the nickname are that
    // session's, and nothing here may touch them.
    if (state_.update_resumes(
            {{gone.resume_token, {player_id, gone.nickname, gone.room, expires, address}}}) == 0) {
      count_down(nicknames_by_address_, address);
      return;
    }
    state_.claim_nickname(nickname_key(gone.nickname), player_id,
                          expires + config_.nickname_lease_ms);
    if (gone.room != 0 && state_.set_connected(gone.room, player_id, false) == StateError::none) {
      MemberInfo member{player_id, gone.nickname, false, false};
      if (auto info = member_of(gone.room, player_id)) member = *info;
      state_.publish({Broadcast::Audience::room, gone.room,
                      presence_event(gone.room, wire::PresenceKind::disconnected, member)});
    }
    return;
  }
  if (gone.room != 0) {
    if (auto member = member_of(gone.room, player_id)) {
      remove_from_room(gone.room, *member, wire::PresenceKind::left);
    }
  }
  state_.release_nickname(nickname_key(gone.nickname), player_id);
  count_down(nicknames_by_address_, address);
}

void LobbyService::on_tick(Clock::time_point now) {
  std::vector<PeerId> silent;
  for (const auto& [peer, session] : sessions_) {
    if (session.player == 0 && session.game_server.empty() && !session.closing &&
        now >= session.hello_deadline) {
      silent.push_back(peer);
    }
  }
  for (const PeerId peer : silent) {
    ++metrics_.disconnected_no_hello;
    close(peer, CloseReason::no_hello);
  }
  for (const ResumeRecord& record : state_.take_expired_resumes(unix_time_ms())) {
    if (record.room != 0) {
      if (auto member = member_of(record.room, record.player)) {
        remove_from_room(record.room, *member, wire::PresenceKind::left);
      }
    }
    state_.release_nickname(nickname_key(record.nickname), record.player);
    // Another lobby process's record counts for none of this one's addresses: nothing to find.
    count_down(nicknames_by_address_, record.address);
  }
  renew_leases(now);
  if (now >= next_match_check_) {
    next_match_check_ = now + kMatchCheckInterval;
    end_stuck_matches(unix_time_ms());
  }
}

void LobbyService::on_message(PeerId peer, std::span<const std::byte> message, bool text,
                              Clock::time_point now) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end() || it->second.closing) return;
  Session& session = it->second;
  ++metrics_.messages_received;
  metrics_.bytes_received += message.size();
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
  const PlayerId player = state_.next_id();
  if (player == 0) {
    if (held == 0) nicknames_by_address_.erase(request.session.address);  // made just now
    return fail(request, wire::ErrorCode::rate_limited,
                "the lobby cannot reach its shared state: try again in a moment");
  }
  const std::uint64_t now = unix_time_ms();
  if (!state_.claim_nickname(nickname_key(nickname), player, live_nickname_lease(now))) {
    if (held == 0) nicknames_by_address_.erase(request.session.address);  // made just now
    return fail(request, wire::ErrorCode::nickname_taken,
                "the nickname '" + nickname + "' is taken: pick another");
  }
  ++held;
  request.session.player = player;
  Player& entry = players_[player];
  entry.peer = request.peer;
  entry.nickname = nickname;
  entry.resume_token = new_resume_token();
  entry.address = request.session.address;
  if (config_.resume_grace_ms > 0) {
    state_.store_resume(entry.resume_token, live_record(player, entry, now));
  }
  reply(request, welcome_reply(request.id, player, nickname, entry.resume_token,
                               config_.resume_grace_ms, nullptr, {}));
}

void LobbyService::report_load(const Request& request, const wire::ReportLoad& load) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request, "register as a game server first");
  }
  state_.set_game_server_load(request.session.game_server, load.players(),
                              lease_from(unix_time_ms()));
  reply(request, ok_reply(request.id));
}

// A game server speaks only for its own matches.
static bool plays_on(const std::optional<RoomInfo>& room, const std::string& server) {
  return room && room->match_server.address == server;
}

void LobbyService::report_match_end(const Request& request, const wire::MatchEnd& end) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request,
                "only a registered game server may report the end of a match");
  }
  const auto reason = static_cast<MatchEndReason>(end.reason());
  if (reason != MatchEndReason::finished && reason != MatchEndReason::abandoned) {
    return fail(request, wire::ErrorCode::bad_request,
                "a game server reports a match finished or abandoned");
  }
  if (!plays_on(state_.room_of_match(end.match_id()), request.session.game_server) ||
      !end_match(end.match_id(), reason)) {
    return fail(request, wire::ErrorCode::bad_request, "no room plays that match on this server");
  }
  reply(request, ok_reply(request.id));
}

void LobbyService::report_match_began(const Request& request, const wire::MatchBegan& began) {
  if (request.session.game_server.empty()) {
    return fail(request, wire::ErrorCode::bad_request,
                "only a registered game server may report the start of a match");
  }
  if (!plays_on(state_.room_of_match(began.match_id()), request.session.game_server) ||
      !match_began(began.match_id())) {
    return fail(request, wire::ErrorCode::bad_request, "no room plays that match on this server");
  }
  reply(request, ok_reply(request.id));
}

bool LobbyService::end_match(std::uint64_t match_id, MatchEndReason reason) {
  const std::optional<RoomInfo> room = state_.end_match(match_id);
  if (!room) return false;
  state_.publish(
      {Broadcast::Audience::room, room->id, match_end_event(match_id, room->id, reason)});
  return true;
}

bool LobbyService::match_began(std::uint64_t match_id) {
  return state_.mark_match_began(match_id);
}

std::uint64_t LobbyService::lease_from(std::uint64_t now_unix_ms) const {
  return now_unix_ms + config_.game_server_lease_ms;
}

void LobbyService::end_stuck_matches(std::uint64_t now_unix_ms) {
  // Each lost server with the matches it took down.
  std::vector<std::pair<std::string, std::size_t>> lost;
  for (const GameServerInfo& server : state_.take_expired_game_servers(now_unix_ms))
    lost.emplace_back(server.address, 0);
  std::vector<std::pair<std::uint64_t, MatchEndReason>> stuck;
  RoomFilter filter;
  filter.in_match_only = true;
  for (const RoomInfo& room : state_.list_rooms(filter)) {
    const auto server = std::find_if(lost.begin(), lost.end(), [&](const auto& entry) {
      return entry.first == room.match_server.address;
    });
    if (server != lost.end()) {
      stuck.emplace_back(room.match_id, MatchEndReason::server_lost);
      ++server->second;
    } else if (!room.match_began &&
               now_unix_ms >= room.match_started_unix_ms + config_.match_join_deadline_ms) {
      stuck.emplace_back(room.match_id, MatchEndReason::nobody_joined);
    }
  }
  for (const auto& [match, reason] : stuck)
    end_match(match, reason);
  // One line per lost server (its lease goes with it): how an operator sees a crashed server.
  for (const auto& [address, matches] : lost) {
    log(LogLevel::warning, "lobby",
        "game server " + address + " sent no load report within its lease (" +
            std::to_string(config_.game_server_lease_ms) + " ms): it is gone, and its " +
            std::to_string(matches) + " match(es) ended as server_lost");
  }
}

void LobbyService::deliver(std::span<const Broadcast> broadcasts) {
  batch_rooms_.clear();
  for (const Broadcast& broadcast : broadcasts)
    deliver_one(broadcast);
}

const std::optional<RoomInfo>& LobbyService::batch_room(RoomId id) {
  // A batch names few rooms (most often one): a search beats a map.
  for (const auto& [room_id, room] : batch_rooms_) {
    if (room_id == id) return room;
  }
  batch_rooms_.emplace_back(id, state_.room(id));
  return batch_rooms_.back().second;
}

void LobbyService::deliver_one(const Broadcast& broadcast) {
  if (!broadcast.ends_session.empty()) {
    return end_superseded_session(broadcast.target, broadcast.ends_session,
                                  /*counted_here=*/false);
  }
  // The local members it is for, by language: each group gets one copy of the message, handed to
  // the transport at once.
  binary_audience_.clear();
  json_audience_.clear();
  const auto add_player = [&](PlayerId id) {
    const auto it = players_.find(id);
    if (it == players_.end()) return;  // dropped, or connected to another lobby process
    const auto session = sessions_.find(it->second.peer);
    if (session == sessions_.end() || session->second.closing) return;
    (session->second.json ? json_audience_ : binary_audience_).push_back(it->second.peer);
  };
  switch (broadcast.audience) {
    case Broadcast::Audience::player:
      add_player(broadcast.target);
      break;
    case Broadcast::Audience::room:
      if (const auto& room = batch_room(broadcast.target)) {
        for (const MemberInfo& member : room->members)
          add_player(member.player);
      }
      break;
    case Broadcast::Audience::everyone:
      for (const auto& [id, player] : players_)
        add_player(id);
      break;
  }
  // Moved out while in use, so that a delivery started from inside this one (none can be: the
  // state's deliveries are queued for the lobby's thread) could not clear them under us.
  std::vector<PeerId> binary = std::move(binary_audience_);
  std::vector<PeerId> json = std::move(json_audience_);
  if (!binary.empty()) send_many(binary, *broadcast.message, /*text=*/false);
  if (!json.empty()) {
    // Rendered to JSON once, however many text clients receive it.
    const std::string rendered = codec_.to_json(*broadcast.message);
    send_many(json, {reinterpret_cast<const std::byte*>(rendered.data()), rendered.size()},
              /*text=*/true);
  }
  binary_audience_ = std::move(binary);
  json_audience_ = std::move(json);
}

void LobbyService::send_many(std::span<const PeerId> peers, std::span<const std::byte> bytes,
                             bool text) {
  std::vector<PeerId> behind = std::move(behind_);
  behind.clear();
  output_.send_many(peers, bytes, text, behind);
  // Connections that closed meanwhile are counted as sent: their disconnect is on the way, and
  // counting them would cost a result per peer for nothing a reader of /metrics needs.
  const std::size_t sent = peers.size() - behind.size();
  metrics_.messages_sent += sent;
  metrics_.bytes_sent += sent * bytes.size();
  for (const PeerId peer : behind) {
    ++metrics_.disconnected_slow;
    close(peer, CloseReason::slow_reader);
  }
  behind_ = std::move(behind);
}

void LobbyService::reply(const Request& request, const MessageBytes& message,
                         const std::string* json) {
  if (send(request.peer, message, json) != SendOutcome::too_large) return;
  // The requester asked for something that does not fit (the lobby trims what it can, so this is
  // a last resort): an error it can act on, never a disconnect.
  ++metrics_.replies_too_large;
  fail(request, wire::ErrorCode::reply_too_large,
       "the answer does not fit in one message (" +
           std::to_string(config_.websocket.common.max_message_size) +
           " bytes at most): ask for less");
}

void LobbyService::fail(const Request& request, wire::ErrorCode code, std::string message) {
  send(request.peer, error_reply(request.id, code, message));
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

std::vector<ChatEntry> LobbyService::history_for_join(RoomId room) const {
  std::vector<ChatEntry> history = state_.chat_history(room);
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

std::optional<MemberInfo> LobbyService::member_of(RoomId room, PlayerId player) const {
  const auto info = state_.room(room);
  if (!info) return std::nullopt;
  for (const MemberInfo& member : info->members) {
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
