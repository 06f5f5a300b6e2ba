#include "tickwire/net/lobby_client.hpp"

#include <algorithm>
#include <utility>

#include <tickwire/schemas/aligned_view.hpp>

#include "lobby/registration_statement.hpp"
#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::net {
namespace {

namespace wire = tickwire::schemas::lobby;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// The lobby's framing: channel 0 carries binary frames (FlatBuffers), the only kind we send.
constexpr Channel kBinary = 0;

static_assert(static_cast<std::uint16_t>(LobbyError::no_match) ==
                      static_cast<std::uint16_t>(wire::ErrorCode::no_match) &&
                  wire::ErrorCode::no_match == wire::ErrorCode::MAX,
              "LobbyError mirrors lobby.fbs ErrorCode");

std::string text(const flatbuffers::String* s) {
  return s == nullptr ? std::string{} : s->str();
}

LobbyRoomSummary from_wire(const wire::RoomSummary* summary) {
  LobbyRoomSummary out;
  if (summary == nullptr) return out;
  out.room_id = summary->room_id();
  out.name = text(summary->name());
  out.game_mode = text(summary->game_mode());
  out.players = summary->players();
  out.max_players = summary->max_players();
  out.in_match = summary->in_match();
  return out;
}

LobbyMember from_wire(const wire::Member* member) {
  LobbyMember out;
  if (member == nullptr) return out;
  out.player_id = member->player_id();
  out.nickname = text(member->nickname());
  out.ready = member->ready();
  out.connected = member->connected();
  return out;
}

LobbyChatLine from_wire(const wire::ChatLine* line) {
  LobbyChatLine out;
  if (line == nullptr) return out;
  out.scope = static_cast<ChatScope>(line->scope());
  out.room_id = line->room_id();
  out.from_player_id = line->from_player_id();
  out.from_nickname = text(line->from_nickname());
  out.to_nickname = text(line->to_nickname());
  out.text = text(line->text());
  out.sent_unix_ms = line->sent_unix_ms();
  return out;
}

LobbyRoom from_wire(const wire::RoomDetail* detail) {
  LobbyRoom room;
  room.summary = from_wire(detail->summary());
  room.host_player_id = detail->host_player_id();
  if (detail->members() != nullptr) {
    for (const wire::Member* member : *detail->members())
      room.members.push_back(from_wire(member));
  }
  return room;
}

std::vector<std::byte> finish(FlatBufferBuilder& fbb, std::uint64_t request_id,
                              wire::LobbyBody type, Offset<void> body) {
  fbb.Finish(wire::CreateLobbyMessage(fbb, request_id, 0, type, body));
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return {data, data + fbb.GetSize()};
}

}  // namespace

std::string_view to_string(LobbyError error) {
  return wire::EnumNameErrorCode(static_cast<wire::ErrorCode>(error));
}

const LobbyMember* LobbyRoom::member(std::uint64_t player_id) const {
  for (const LobbyMember& m : members) {
    if (m.player_id == player_id) return &m;
  }
  return nullptr;
}

bool LobbyRoom::everyone_ready() const {
  return std::all_of(members.begin(), members.end(), [](const LobbyMember& m) { return m.ready; });
}

Status LobbyClientConfig::validate() const {
  WebSocketClientConfig websocket_config = websocket;
  websocket_config.common.framing = WebSocketFraming::raw;
  websocket_config.common.channel_count = 2;
  if (Status status = websocket_config.validate(); !status.ok()) return status;
  if (chat_log_length == 0 || chat_log_length > 100'000)
    return Status::error("LobbyClientConfig.chat_log_length must be 1..100000");
  return {};
}

// Verifies each frame before reading it; keeps its aligned copy between calls.
struct LobbyClient::Decoder {
  const wire::LobbyMessage* decode(std::span<const std::byte> bytes) {
    view.emplace(bytes);
    flatbuffers::Verifier verifier(view->data(), view->size());
    if (!wire::VerifyLobbyMessageBuffer(verifier)) return nullptr;
    return wire::GetLobbyMessage(view->data());
  }
  std::optional<schemas::AlignedView> view;
};

Result<std::unique_ptr<LobbyClient>> LobbyClient::connect(const LobbyClientConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  WebSocketClientConfig websocket = config.websocket;
  websocket.common.framing = WebSocketFraming::raw;
  websocket.common.channel_count = 2;
  auto transport = make_websocket_client(websocket);
  if (!transport) return Status::error(transport.error());
  return std::unique_ptr<LobbyClient>(new LobbyClient(config, std::move(transport.value())));
}

LobbyClient::LobbyClient(const LobbyClientConfig& config,
                         std::unique_ptr<ClientTransport> transport)
    : config_(config), transport_(std::move(transport)), decoder_(std::make_unique<Decoder>()) {}

LobbyClient::~LobbyClient() = default;

double LobbyClient::rtt_ms() const {
  const auto stats = transport_->stats(transport_->server());
  return stats ? stats->rtt_ms : 0.0;
}

bool LobbyClient::poll(LobbyEvent& event, std::chrono::milliseconds wait) {
  // Turn transport events into lobby events until one is ready (a frame may make several, or
  // none, when it is malformed).
  Event net_event;
  while (events_.empty() && state_ != LobbyClientState::disconnected &&
         transport_->poll(net_event, wait)) {
    switch (net_event.type) {
      case EventType::connected:
        state_ = LobbyClientState::connected;
        events_.push_back({.type = LobbyEventType::connected});
        break;
      case EventType::disconnected:
        state_ = LobbyClientState::disconnected;
        events_.push_back({.type = LobbyEventType::disconnected, .reason = net_event.reason});
        break;
      case EventType::message:
        if (net_event.channel == kBinary) {
          handle_frame(net_event.payload.bytes());
        } else {
          ++dropped_malformed_;  // we never ask for JSON
        }
        break;
    }
  }
  if (events_.empty()) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

void LobbyClient::add_chat(LobbyChatLine line) {
  // A line can arrive twice: in the history of a room joined or resumed, and then live, when the
  // lobby read the history after storing the line but before delivering it. The same sender, the
  // same millisecond and the same text is that line: the log shows it once. Lines are in sending
  // order, so the search stops at the first older one.
  for (auto it = chat_log_.rbegin();
       it != chat_log_.rend() && it->sent_unix_ms >= line.sent_unix_ms; ++it) {
    if (it->sent_unix_ms == line.sent_unix_ms && it->from_player_id == line.from_player_id &&
        it->scope == line.scope && it->text == line.text) {
      return;
    }
  }
  chat_log_.push_back(line);
  while (chat_log_.size() > config_.chat_log_length)
    chat_log_.pop_front();
  events_.push_back({.type = LobbyEventType::chat, .chat = std::move(line)});
}

void LobbyClient::handle_frame(std::span<const std::byte> bytes) {
  const wire::LobbyMessage* message = decoder_->decode(bytes);
  if (message == nullptr) {
    ++dropped_malformed_;
    return;
  }
  if (const wire::Result* result = message->result();
      result != nullptr && listing_.page_request_id != 0 &&
      message->request_id() == listing_.page_request_id) {
    RoomPage page;
    if (!result->ok()) {
      page.error = static_cast<LobbyError>(result->code());
      page.error_message = text(result->message());
    } else if (const wire::RoomList* list = message->body_as_RoomList(); list != nullptr) {
      if (list->rooms() != nullptr) {
        for (const wire::RoomSummary* summary : *list->rooms())
          page.rooms.push_back(from_wire(summary));
      }
      page.next_after_room_id = list->next_after_room_id();
    }
    return handle_room_page(std::move(page));
  }
  if (const wire::Result* result = message->result();
      result != nullptr && registering_ && message->request_id() == registering_->challenge_id) {
    const wire::RegistrationChallenge* challenge = message->body_as_RegistrationChallenge();
    const auto span_of = [](const flatbuffers::Vector<std::uint8_t>* vector) {
      return vector == nullptr ? std::span<const std::uint8_t>()
                               : std::span<const std::uint8_t>(vector->data(), vector->size());
    };
    if (result->ok() && challenge == nullptr) {
      return answer_registration_challenge(LobbyError::malformed,
                                           "the lobby answered without a challenge", {}, {});
    }
    return answer_registration_challenge(
        result->ok() ? LobbyError::none : static_cast<LobbyError>(result->code()),
        text(result->message()),
        challenge != nullptr ? span_of(challenge->challenge()) : span_of(nullptr),
        challenge != nullptr ? span_of(challenge->lobby_key()) : span_of(nullptr));
  }
  if (const wire::Result* result = message->result(); result != nullptr) {
    LobbyEvent reply{.type = LobbyEventType::reply, .request_id = message->request_id()};
    if (!result->ok()) {
      reply.error = static_cast<LobbyError>(result->code());
      reply.error_message = text(result->message());
    }
    const bool ok = result->ok();
    const bool was_leave = message->request_id() == leave_request_ && leave_request_ != 0;
    events_.push_back(std::move(reply));
    if (was_leave) {
      leave_request_ = 0;
      if (ok && room_) {
        room_.reset();
        events_.push_back({.type = LobbyEventType::room_left});
      }
    }
    if (!ok) return;
  }
  switch (message->body_type()) {
    case wire::LobbyBody::Welcome: {
      const auto* welcome = message->body_as_Welcome();
      state_ = LobbyClientState::welcomed;
      player_id_ = welcome->player_id();
      nickname_ = text(welcome->nickname());
      resume_token_ = text(welcome->resume_token());
      events_.push_back({.type = LobbyEventType::welcome});
      if (welcome->room() != nullptr) {
        room_ = from_wire(welcome->room());
        events_.push_back({.type = LobbyEventType::room_changed});
        // Back in the seat: the room's history, as on joining it.
        if (welcome->room()->history() != nullptr) {
          for (const wire::ChatLine* line : *welcome->room()->history())
            add_chat(from_wire(line));
        }
      }
      break;
    }
    case wire::LobbyBody::RoomList:
      break;  // a page of an abandoned listing (the current one's are handled above)
    case wire::LobbyBody::RoomDetail: {
      const auto* detail = message->body_as_RoomDetail();
      room_ = from_wire(detail);
      events_.push_back({.type = LobbyEventType::room_changed});
      if (detail->history() != nullptr) {
        for (const wire::ChatLine* line : *detail->history())
          add_chat(from_wire(line));
      }
      break;
    }
    case wire::LobbyBody::ChatMessage:
      add_chat(from_wire(message->body_as_ChatMessage()->line()));
      break;
    case wire::LobbyBody::Presence: {
      const auto* presence = message->body_as_Presence();
      const LobbyMember member = from_wire(presence->member());
      if (!room_ || room_->summary.room_id != presence->room_id()) break;
      auto& members = room_->members;
      const auto found = std::find_if(members.begin(), members.end(), [&](const LobbyMember& m) {
        return m.player_id == member.player_id;
      });
      switch (presence->kind()) {
        case wire::PresenceKind::joined:
        case wire::PresenceKind::ready:
        case wire::PresenceKind::not_ready:
        case wire::PresenceKind::disconnected:
        case wire::PresenceKind::reconnected:
          if (found == members.end()) {
            members.push_back(member);
          } else {
            *found = member;
          }
          break;
        case wire::PresenceKind::host_changed:
          room_->host_player_id = member.player_id;
          break;
        case wire::PresenceKind::left:
        case wire::PresenceKind::kicked:
          if (member.player_id == player_id_) {
            room_.reset();
            events_.push_back({.type = LobbyEventType::room_left,
                               .kicked = presence->kind() == wire::PresenceKind::kicked});
            return;
          }
          if (found != members.end()) members.erase(found);
          break;
      }
      room_->summary.players = static_cast<std::uint16_t>(members.size());
      events_.push_back({.type = LobbyEventType::room_changed});
      break;
    }
    case wire::LobbyBody::MatchStart: {
      const auto* start = message->body_as_MatchStart();
      LobbyMatch match{.match_id = start->match_id(),
                       .server_address = text(start->server_address()),
                       .websocket_address = text(start->websocket_address()),
                       .spectator = start->spectator()};
      if (start->ticket() != nullptr) {
        const auto* data = reinterpret_cast<const std::byte*>(start->ticket()->data());
        match.ticket.assign(data, data + start->ticket()->size());
      }
      if (const auto* keys = start->session_keys(); keys != nullptr) {
        SessionKeys session;
        if (keys->size() != session.client_to_server.size() + session.server_to_client.size()) {
          ++dropped_malformed_;  // no way into the match with keys cut short
          return;
        }
        const auto middle =
            keys->begin() + static_cast<std::ptrdiff_t>(session.client_to_server.size());
        std::copy(keys->begin(), middle, session.client_to_server.begin());
        std::copy(middle, keys->end(), session.server_to_client.begin());
        match.session_keys = session;
      }
      // A spectator's ticket is for another room's match: this player's room plays on.
      if (room_ && !match.spectator) room_->summary.in_match = true;
      events_.push_back({.type = LobbyEventType::match_start, .match = std::move(match)});
      break;
    }
    case wire::LobbyBody::MatchEnd: {
      const auto* end = message->body_as_MatchEnd();
      if (room_ && room_->summary.room_id == end->room_id()) {
        room_->summary.in_match = false;
        for (LobbyMember& member : room_->members)
          member.ready = false;
      }
      events_.push_back({.type = LobbyEventType::match_end,
                         .match_id = end->match_id(),
                         .match_end_reason = static_cast<MatchEndReason>(end->reason())});
      break;
    }
    default:
      break;  // a reply without a body (ok), or a body only a server sends
  }
}

std::uint64_t LobbyClient::next_request_id() {
  return ++last_request_id_;
}

std::uint64_t LobbyClient::send_request(std::vector<std::byte> message) {
  if (state_ == LobbyClientState::connecting || state_ == LobbyClientState::disconnected) return 0;
  if (transport_->send(kBinary, Delivery::reliable_ordered, message) != SendResult::ok) return 0;
  return last_request_id_;
}

std::uint64_t LobbyClient::hello(std::string_view nickname) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateHello(fbb, fbb.CreateString(nickname));
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::Hello, body.Union()));
}

std::uint64_t LobbyClient::hello_resume(std::string_view resume_token) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateHello(fbb, 0, fbb.CreateString(resume_token));
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::Hello, body.Union()));
}

std::uint64_t LobbyClient::list_rooms(std::string_view game_mode, bool only_free_seats) {
  // A listing still in progress is abandoned: its remaining pages are ignored.
  listing_ = {};
  listing_.game_mode = std::string(game_mode);
  listing_.only_free_seats = only_free_seats;
  const std::uint64_t id = request_room_page(0);
  listing_.request_id = id;
  return id;
}

std::uint64_t LobbyClient::request_room_page(std::uint64_t after_room_id) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateListRooms(fbb, fbb.CreateString(listing_.game_mode),
                                          listing_.only_free_seats, after_room_id);
  listing_.after_room_id = after_room_id;
  listing_.page_request_id =
      send_request(finish(fbb, next_request_id(), wire::LobbyBody::ListRooms, body.Union()));
  return listing_.page_request_id;
}

void LobbyClient::handle_room_page(RoomPage page) {
  LobbyEvent reply{.type = LobbyEventType::reply, .request_id = listing_.request_id};
  if (page.error != LobbyError::none) {
    reply.error = page.error;
    reply.error_message = std::move(page.error_message);
    listing_ = {};
    events_.push_back(std::move(reply));
    return;
  }
  for (LobbyRoomSummary& room : page.rooms)
    listing_.rooms.push_back(std::move(room));
  // The cursor must move on: a lobby that sent the same page again would keep us asking.
  if (page.next_after_room_id > listing_.after_room_id &&
      request_room_page(page.next_after_room_id) != 0) {
    return;
  }
  rooms_ = std::move(listing_.rooms);
  listing_ = {};
  events_.push_back(std::move(reply));
  events_.push_back({.type = LobbyEventType::room_list});
}

std::uint64_t LobbyClient::create_room(std::string_view name, std::string_view game_mode,
                                       std::uint16_t max_players) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateCreateRoom(fbb, fbb.CreateString(name), fbb.CreateString(game_mode), max_players);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::CreateRoom, body.Union()));
}

std::uint64_t LobbyClient::join_room(std::uint64_t room_id) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateJoinRoom(fbb, room_id);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::JoinRoom, body.Union()));
}

std::uint64_t LobbyClient::leave_room() {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateLeaveRoom(fbb);
  const std::uint64_t id =
      send_request(finish(fbb, next_request_id(), wire::LobbyBody::LeaveRoom, body.Union()));
  if (id != 0) leave_request_ = id;
  return id;
}

std::uint64_t LobbyClient::kick(std::uint64_t player_id) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateKickPlayer(fbb, player_id);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::KickPlayer, body.Union()));
}

std::uint64_t LobbyClient::chat(std::string_view text_line, ChatScope scope,
                                std::string_view to_nickname) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateSendChat(fbb, static_cast<wire::ChatScope>(scope), fbb.CreateString(to_nickname),
                           fbb.CreateString(text_line));
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::SendChat, body.Union()));
}

std::uint64_t LobbyClient::set_ready(bool ready) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateSetReady(fbb, ready);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::SetReady, body.Union()));
}

std::uint64_t LobbyClient::start_match() {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateStartMatch(fbb);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::StartMatch, body.Union()));
}

std::uint64_t LobbyClient::spectate_match(std::uint64_t room_id) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateSpectateMatch(fbb, room_id);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::SpectateMatch, body.Union()));
}

std::uint64_t LobbyClient::register_game_server(const GameServerRegistration& registration) {
  // The id the caller waits for goes on the RegisterGameServer, sent once the challenge is in.
  const std::uint64_t id = next_request_id();
  FlatBufferBuilder fbb;
  const auto body = wire::CreateGetRegistrationChallenge(fbb);
  const std::uint64_t challenge_id = send_request(
      finish(fbb, next_request_id(), wire::LobbyBody::GetRegistrationChallenge, body.Union()));
  if (challenge_id == 0) return 0;
  registering_ = PendingRegistration{registration, id, challenge_id};
  return id;
}

void LobbyClient::answer_registration_challenge(LobbyError error, std::string error_message,
                                                std::span<const std::uint8_t> challenge_bytes,
                                                std::span<const std::uint8_t> lobby_key_bytes) {
  PendingRegistration pending = std::move(*registering_);
  registering_.reset();
  const auto refuse = [&](LobbyError code, std::string message) {
    events_.push_back({.type = LobbyEventType::reply,
                       .request_id = pending.request_id,
                       .error = code,
                       .error_message = std::move(message)});
  };
  if (error != LobbyError::none) return refuse(error, std::move(error_message));
  lobby_detail::RegistrationChallenge challenge{};
  TicketPublicKey named{};
  if (challenge_bytes.size() != challenge.size() || lobby_key_bytes.size() != named.size()) {
    ++dropped_malformed_;
    return refuse(LobbyError::malformed, "the lobby's registration challenge is malformed");
  }
  std::copy(challenge_bytes.begin(), challenge_bytes.end(), challenge.begin());
  std::copy(lobby_key_bytes.begin(), lobby_key_bytes.end(), named.begin());
  const GameServerRegistration& registration = pending.registration;
  if (registration.lobby_key && *registration.lobby_key != named) {
    return refuse(LobbyError::registration_refused,
                  "the lobby names a ticket key other than the one this server checks tickets "
                  "with: it is not the lobby this server belongs to");
  }
  const TicketPublicKey lobby_key = registration.lobby_key.value_or(named);
  const lobby_detail::RegistrationClaim claim{registration.address, registration.capacity,
                                              registration.seal_key,
                                              registration.websocket_address};
  const lobby_detail::RegistrationSignature signature =
      lobby_detail::sign_registration(registration.identity, lobby_key, challenge, claim);
  FlatBufferBuilder fbb;
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> seal;  // absent: no encryption
  if (registration.seal_key) {
    seal = fbb.CreateVector(registration.seal_key->data(), registration.seal_key->size());
  }
  const auto address = fbb.CreateString(registration.address);
  const auto websocket_address =
      registration.websocket_address.empty() ? 0 : fbb.CreateString(registration.websocket_address);
  const auto public_key = fbb.CreateVector(registration.identity.public_key.data(),
                                           registration.identity.public_key.size());
  const auto signed_bytes = fbb.CreateVector(signature.data(), signature.size());
  wire::RegisterGameServerBuilder body(fbb);
  body.add_address(address);
  body.add_capacity(registration.capacity);
  if (!seal.IsNull()) body.add_seal_public_key(seal);
  body.add_public_key(public_key);
  body.add_signature(signed_bytes);
  if (!websocket_address.IsNull()) body.add_websocket_address(websocket_address);
  const auto message =
      finish(fbb, pending.request_id, wire::LobbyBody::RegisterGameServer, body.Finish().Union());
  // A failed send means the connection is going: its disconnected event follows.
  (void)transport_->send(kBinary, Delivery::reliable_ordered, message);
}

std::uint64_t LobbyClient::report_load(std::uint32_t players) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateReportLoad(fbb, players);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::ReportLoad, body.Union()));
}

std::uint64_t LobbyClient::report_match_began(std::uint64_t match_id) {
  FlatBufferBuilder fbb;
  const auto body = wire::CreateMatchBegan(fbb, match_id);
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::MatchBegan, body.Union()));
}

std::uint64_t LobbyClient::report_match_end(std::uint64_t match_id, MatchEndReason reason) {
  FlatBufferBuilder fbb;
  const auto body =
      wire::CreateMatchEnd(fbb, match_id, 0, static_cast<wire::MatchEndReason>(reason));
  return send_request(finish(fbb, next_request_id(), wire::LobbyBody::MatchEnd, body.Union()));
}

}  // namespace tickwire::net
