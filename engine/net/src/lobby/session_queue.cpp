// A connection's life in the service: it opens, its messages are handled one request at a time
// (those that arrive while a request is with the state wait in its queue), and it closes, its
// player dropping or waiting for their resume.

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::on_connected(PeerId peer, std::string address, Clock::time_point now) {
  const auto [it, added] = sessions_.try_emplace(peer, config_, now);
  if (added) it->second.address = std::move(address);
  ++metrics_.connections;
}

void LobbyService::on_message(PeerId peer, std::span<const std::byte> message, bool text,
                              Clock::time_point now) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end() || it->second.closing) return;
  Session& session = it->second;
  ++metrics_.messages_received;
  metrics_.bytes_received += message.size();
  if (session.in_flight == 0 && session.waiting.empty()) {
    return handle_message(peer, session, message, text, now);
  }
  // Its previous request is with the state: this one waits its turn, as its bytes. A client
  // that does not wait for its answers holds at most max_queued_requests of them.
  if (session.waiting.size() >= config_.max_queued_requests) {
    ++metrics_.disconnected_request_queue_full;
    session.waiting.clear();
    return close(peer, CloseReason::request_queue_full);
  }
  session.waiting.push_back({{message.begin(), message.end()}, text, now});
}

void LobbyService::finish_state(PeerId owner) {
  const auto it = sessions_.find(owner);
  if (it == sessions_.end()) return;  // a timer's or a delivery's operation
  if (--it->second.in_flight == 0) drain(owner);
}

void LobbyService::drain(PeerId peer) {
  while (true) {
    const auto it = sessions_.find(peer);
    if (it == sessions_.end()) return;
    Session& session = it->second;
    if (session.in_flight > 0) return;
    if (session.waiting.empty()) {
      if (session.disconnect_waiting) disconnect(peer);
      return;
    }
    QueuedMessage next = std::move(session.waiting.front());
    session.waiting.pop_front();
    // A connection closed meanwhile (flooding, a resume elsewhere) is answered no more.
    if (!session.closing) handle_message(peer, session, next.bytes, next.text, next.arrived);
  }
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
  --metrics_.connections;  // closed now, whatever still waits for the state
  // What it sent before it closed is handled first, as it would have been had the state
  // answered at once: its drop follows its last request.
  if (it->second.in_flight > 0 || !it->second.waiting.empty()) {
    it->second.disconnect_waiting = true;
    return;
  }
  disconnect(peer);
}

void LobbyService::disconnect(PeerId peer) {
  const auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  const std::string game_server = std::move(it->second.game_server);
  const PlayerId player_id = it->second.player;
  const std::string address = std::move(it->second.address);
  sessions_.erase(it);
  // A game server whose connection closed gets no new matches; its running ones wait for it to
  // come back until its lease runs out (end_stuck_matches).
  if (!game_server.empty()) {
    on_state(
        kInvalidPeer,
        [game_server](LobbyState& state) {
          state.disconnect_game_server(game_server);
          return true;
        },
        [](bool) {});
  }
  const auto player = players_.find(player_id);
  if (player == players_.end()) return;
  Player gone = std::move(player->second);
  players_.erase(player);
  if (config_.resume_grace_ms > 0) {
    // The seat and the nickname wait for the player's resume token. Nobody renews the nickname
    // meanwhile: its lease covers the grace, and whichever process frees the expired record
    // (take_expired_resumes) frees it.
    struct Dropped {
      bool resumed = false;  // its record was gone: the player resumed a moment ago
      std::optional<MemberInfo> member;
    };
    const std::uint64_t expires = unix_time_ms() + config_.resume_grace_ms;
    const ResumeRecord record{player_id, gone.nickname, gone.room, expires, address};
    const std::uint64_t nickname_lease = expires + config_.nickname_lease_ms;
    on_state(
        kInvalidPeer,
        [record, token = gone.resume_token, nickname_lease](LobbyState& state) {
          Dropped dropped;
          // The record this process kept for the player gets the grace as its deadline. If it
          // is gone, its token was used a moment ago (the player resumed on another connection,
          // perhaps on another process, before this one saw the drop): the seat and the
          // nickname are that session's, and nothing here may touch them.
          if (state.update_resumes({{token, record}}) == 0) {
            dropped.resumed = true;
            return dropped;
          }
          state.claim_nickname(nickname_key(record.nickname), record.player, nickname_lease);
          if (record.room != 0 &&
              state.set_connected(record.room, record.player, false) == StateError::none) {
            dropped.member =
                disconnected_member(state, record.room, record.player, record.nickname);
          }
          return dropped;
        },
        [this, address, room = gone.room](const Dropped& dropped) {
          if (dropped.resumed) return count_down(nicknames_by_address_, address);
          if (dropped.member) {
            state_.publish(
                {Broadcast::Audience::room, room,
                 presence_event(room, wire::PresenceKind::disconnected, *dropped.member)});
          }
        });
    return;
  }
  on_state(
      kInvalidPeer,
      [player_id, room = gone.room, key = nickname_key(gone.nickname)](LobbyState& state) {
        Removal removal;
        if (room != 0) removal = remove_in_state(state, room, player_id);
        state.release_nickname(key, player_id);
        return removal;
      },
      [this, address, room = gone.room](const Removal& removal) {
        if (room != 0) after_removal(room, removal, wire::PresenceKind::left);
        count_down(nicknames_by_address_, address);
      });
}

}  // namespace tickwire::net::lobby_detail
