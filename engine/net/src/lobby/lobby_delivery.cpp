// Delivery of the state's fan-out to this process's players: each batch's rooms are read from
// the state (on a state worker when it may block), then every broadcast of the batch goes to the
// local players it is for.

#include <algorithm>

#include "lobby/lobby_service.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::deliver(std::span<const Broadcast> broadcasts) {
  // The rooms whose members the batch needs, each read once.
  std::vector<RoomId> rooms;
  for (const Broadcast& broadcast : broadcasts) {
    if (broadcast.audience == Broadcast::Audience::room && broadcast.ends_session.empty() &&
        std::find(rooms.begin(), rooms.end(), broadcast.target) == rooms.end()) {
      rooms.push_back(broadcast.target);
    }
  }
  using RoomsRead = std::vector<std::pair<RoomId, std::optional<RoomInfo>>>;
  const auto read_rooms = [rooms](LobbyState& state) {
    RoomsRead read;
    read.reserve(rooms.size());
    for (const RoomId id : rooms)
      read.emplace_back(id, state.room(id));
    return read;
  };
  if (!workers_.asynchronous()) {
    batch_rooms_ = read_rooms(state_);
    for (const Broadcast& broadcast : broadcasts)
      deliver_one(broadcast);
    return;
  }
  // The batch waits for its rooms; the next batch waits for it (delivering()).
  delivering_ = true;
  on_state(
      kInvalidPeer, read_rooms,
      [this, batch = std::vector<Broadcast>(broadcasts.begin(), broadcasts.end())](RoomsRead read) {
        delivering_ = false;
        batch_rooms_ = std::move(read);
        for (const Broadcast& broadcast : batch)
          deliver_one(broadcast);
      });
}

const std::optional<RoomInfo>& LobbyService::batch_room(RoomId id) const {
  // A batch names few rooms (most often one): a search beats a map.
  for (const auto& [room_id, room] : batch_rooms_) {
    if (room_id == id) return room;
  }
  static const std::optional<RoomInfo> none;
  return none;
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

}  // namespace tickwire::net::lobby_detail
