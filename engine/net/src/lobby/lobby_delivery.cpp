// Delivery of the state's fan-out to this process's players: each batch's rooms are read from
// the state (on a state worker when it may block, and only when an earlier read may be out of
// date), then every broadcast of the batch goes to the local players it is for.

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
  using Read = std::vector<std::pair<RoomId, std::optional<RoomInfo>>>;
  const auto read_rooms = [rooms](LobbyState& state) {
    Read read;
    read.reserve(rooms.size());
    for (const RoomId id : rooms)
      read.emplace_back(id, state.room(id));
    return read;
  };
  if (!workers_.asynchronous()) {
    rooms_read_.rooms = read_rooms(state_);
    return deliver_batch(broadcasts);
  }
  const std::uint64_t version = state_.version();
  if (rooms.empty() || rooms_read_still_good(rooms, version)) return deliver_batch(broadcasts);
  // The batch waits for its rooms; the next batch waits for it (delivering()).
  delivering_ = true;
  on_state(kInvalidPeer, read_rooms,
           [this, version, requests = requests_,
            batch = std::vector<Broadcast>(broadcasts.begin(), broadcasts.end())](Read read) {
             delivering_ = false;
             keep_rooms_read(std::move(read), version, requests);
             deliver_batch(batch);
           });
}

bool LobbyService::rooms_read_still_good(std::span<const RoomId> rooms,
                                         std::uint64_t version) const {
  if (!rooms_read_.good || rooms_read_.version != version || rooms_read_.requests != requests_ ||
      requests_running_ > 0) {
    return false;
  }
  return std::all_of(rooms.begin(), rooms.end(), [&](RoomId id) {
    return std::any_of(rooms_read_.rooms.begin(), rooms_read_.rooms.end(),
                       [id](const auto& read) { return read.first == id; });
  });
}

void LobbyService::keep_rooms_read(std::vector<std::pair<RoomId, std::optional<RoomInfo>>> read,
                                   std::uint64_t version, std::uint64_t requests) {
  // A few busy rooms are what this spares round trips for; past that the rooms are searched
  // per broadcast, so the list starts again rather than grow.
  constexpr std::size_t kRoomsKept = 32;
  const bool as_recent =
      rooms_read_.good && rooms_read_.version == version && rooms_read_.requests == requests;
  if (as_recent && rooms_read_.rooms.size() + read.size() <= kRoomsKept) {
    for (auto& room : read) {
      const auto same = std::find_if(rooms_read_.rooms.begin(), rooms_read_.rooms.end(),
                                     [&](const auto& kept) { return kept.first == room.first; });
      if (same != rooms_read_.rooms.end()) {
        same->second = std::move(room.second);
      } else {
        rooms_read_.rooms.push_back(std::move(room));
      }
    }
    return;
  }
  rooms_read_.rooms = std::move(read);
  rooms_read_.version = version;
  rooms_read_.requests = requests;
  rooms_read_.good = true;
}

void LobbyService::deliver_batch(std::span<const Broadcast> broadcasts) {
  for (const Broadcast& broadcast : broadcasts)
    deliver_one(broadcast);
}

const std::optional<RoomInfo>& LobbyService::batch_room(RoomId id) const {
  // A batch names few rooms (most often one): a search beats a map.
  for (const auto& [room_id, room] : rooms_read_.rooms) {
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
