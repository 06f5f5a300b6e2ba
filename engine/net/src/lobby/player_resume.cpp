// Resume: a player's record (token -> player, nickname, room) kept while they are connected and
// after they drop, the leases that keep it and their nickname alive, and a resume that takes
// the seat back, on this lobby process or another sharing the state (docs/cluster.md, "When a
// lobby node dies").

#include "lobby/lobby_service.hpp"
#include "lobby/lobby_validation.hpp"

namespace tickwire::net::lobby_detail {

void LobbyService::resume(const Request& request, const std::string& token) {
  struct Resumed {
    std::optional<ResumeRecord> record;  // none: the token is unknown or expired
    bool seated = false;                 // back in record->room
    std::optional<RoomInfo> room;
    std::vector<ChatEntry> history;
    std::optional<MemberInfo> member;
  };
  const std::string new_token = new_resume_token();  // each token works once
  on_state(
      request.peer,
      [this, token, new_token, address = request.session.address](LobbyState& state) {
        Resumed resumed;
        // Taking the record is what makes a token work once: of two connections resuming with
        // it (on one process or two), one gets it.
        std::optional<ResumeRecord> record = state.take_resume(token);
        const std::uint64_t now = unix_time_ms();
        if (!record || record->expires_unix_ms <= now) {
          // An expired record is freed by on_tick(); put it back so that it is.
          if (record) state.store_resume(token, *record);
          return resumed;
        }
        // The player is connected again: their nickname's lease is this process's to renew.
        state.claim_nickname(nickname_key(record->nickname), record->player,
                             live_nickname_lease(now));
        Player entry{kInvalidPeer, record->nickname, 0, new_token, address};
        if (record->room != 0 &&
            state.set_connected(record->room, record->player, true) == StateError::none) {
          resumed.seated = true;
          entry.room = record->room;
          resumed.room = state.room(record->room);
        }
        state.store_resume(new_token, live_record(record->player, entry, now));
        if (resumed.room) {
          resumed.history = history_for_join(state, resumed.room->id);
          resumed.member = member_in(resumed.room, record->player);
        }
        resumed.record = std::move(record);
        return resumed;
      },
      [this, answer = answer_of(request), token, new_token](const Resumed& resumed) {
        if (!resumed.record) {
          return fail(answer, wire::ErrorCode::resume_failed,
                      "the resume token is unknown or expired: say Hello with a nickname");
        }
        const ResumeRecord& record = *resumed.record;
        // The token may be that of a session still open: its connection has not dropped yet (a
        // half-open connection), or it did and its process has not seen it, or the process was
        // killed and its connections went with it. That session ends, here at once or on its
        // own process when the broadcast below arrives, so that the player has one session.
        end_superseded_session(record.player, token, /*counted_here=*/true);
        state_.publish({Broadcast::Audience::player, record.player,
                        std::make_shared<const std::vector<std::byte>>(),
                        /*changes_rooms=*/false, token});
        // The session is there: its disconnect waits for this.
        Session& session = sessions_.at(answer.peer);
        session.player = record.player;
        // The nickname now counts for the address it came back from.
        count_down(nicknames_by_address_, record.address);
        ++nicknames_by_address_[session.address];
        Player& entry = players_[record.player];
        entry.peer = answer.peer;
        entry.nickname = record.nickname;
        entry.resume_token = new_token;
        entry.address = session.address;
        entry.room = resumed.seated ? record.room : 0;
        const std::optional<RoomInfo>& room = resumed.room;
        const std::vector<ChatEntry>& history = resumed.history;
        // The oldest lines give way if the whole history would not fit in one message.
        std::string json;
        const MessageBytes welcome = fit(
            session, history.size(), 0,
            [&](std::size_t lines) {
              return welcome_reply(answer.id, record.player, record.nickname, new_token,
                                   config_.resume_grace_ms, room ? &*room : nullptr,
                                   {history.data() + (history.size() - lines), lines});
            },
            json);
        if (welcome) {
          reply(answer, welcome, &json);
        } else {
          fail(answer, wire::ErrorCode::reply_too_large,
               "the room's state does not fit in a message");
        }
        if (!room) return;
        if (resumed.member) {
          state_.publish(
              {Broadcast::Audience::room, room->id,
               presence_event(room->id, wire::PresenceKind::reconnected, *resumed.member)});
        }
        // Back while their room plays: a fresh ticket (a new nonce, new session keys) for their
        // seat in the running match. The one they had may be used or expired; it stays burnt.
        if (room->match_id != 0 && welcome) {
          send_match_ticket(record.player, room->match_id, room->match_server);
        }
      });
}

void LobbyService::renew_leases(Clock::time_point now) {
  if (now < next_nickname_renewal_ || renewal_running_) return;
  next_nickname_renewal_ = now + std::chrono::milliseconds(config_.nickname_lease_ms / 3);
  if (players_.empty()) return;
  const std::uint64_t now_unix_ms = unix_time_ms();
  std::vector<std::pair<std::string, PlayerId>> held;
  held.reserve(players_.size());
  for (const auto& [id, player] : players_)
    held.emplace_back(nickname_key(player.nickname), id);
  // Each record as it is now, and the room it names (to see, once written, whether the room
  // changed meanwhile).
  std::vector<std::pair<std::string, ResumeRecord>> records;
  std::vector<std::pair<PlayerId, RoomId>> written;
  if (config_.resume_grace_ms > 0) {
    records.reserve(players_.size());
    for (const auto& [id, player] : players_) {
      // A player whose request is with the state writes their record themselves if their room
      // changes: a renewal on another worker could land after it and write the old room back.
      // Renewed on the next try, soon.
      if (const auto session = sessions_.find(player.peer);
          session != sessions_.end() && session->second.in_flight > 0) {
        next_nickname_renewal_ = now + kMatchCheckInterval;
        continue;
      }
      records.emplace_back(player.resume_token, live_record(id, player, now_unix_ms));
      written.emplace_back(id, player.room);
    }
  }
  renewal_running_ = true;
  on_state(
      kInvalidPeer,
      [held = std::move(held), records = std::move(records),
       lease = live_nickname_lease(now_unix_ms)](LobbyState& state) {
        state.renew_nicknames(held, lease);
        // A record that is gone was taken by a resume elsewhere: that session's broadcast ends
        // ours.
        if (!records.empty()) state.update_resumes(records);
        return true;
      },
      [this, written = std::move(written)](bool) {
        renewal_running_ = false;
        // A player whose room changed while the renewal was out may have had their new record
        // overwritten with the old room: written again, in their connection's order.
        for (const auto& [id, room] : written) {
          const auto player = players_.find(id);
          if (player == players_.end() || player->second.room == room) continue;
          const auto session = sessions_.find(player->second.peer);
          if (session == sessions_.end() || session->second.in_flight > 0) continue;
          on_state(
              player->second.peer,
              [this, id = id, entry = player->second](LobbyState& state) {
                update_record(state, id, entry);
                return true;
              },
              [](bool) {});
        }
      });
}

ResumeRecord LobbyService::live_record(PlayerId id, const Player& player,
                                       std::uint64_t now_unix_ms) const {
  // Past the lease the record waits a grace like a dropped player's, counted from the last
  // renewal: a player of a killed process may come back that long after it died.
  // Until then its renewals vouch for the player being connected (lapse_connections).
  return {id,
          player.nickname,
          player.room,
          now_unix_ms + config_.nickname_lease_ms + config_.resume_grace_ms,
          player.address,
          now_unix_ms + config_.nickname_lease_ms};
}

std::uint64_t LobbyService::live_nickname_lease(std::uint64_t now_unix_ms) const {
  if (config_.resume_grace_ms == 0) return now_unix_ms + config_.nickname_lease_ms;
  // A lease past the record's deadline: whichever process takes the expired record frees the
  // nickname with the seat, and the nickname is never free while the seat is held.
  return now_unix_ms + 2 * std::uint64_t{config_.nickname_lease_ms} + config_.resume_grace_ms;
}

void LobbyService::update_record(LobbyState& state, PlayerId id, const Player& player) const {
  if (config_.resume_grace_ms == 0) return;
  state.update_resumes({{player.resume_token, live_record(id, player, unix_time_ms())}});
}

void LobbyService::end_superseded_session(PlayerId player, const std::string& token,
                                          bool counted_here) {
  const auto it = players_.find(player);
  if (it == players_.end() || it->second.resume_token != token) return;
  const PeerId peer = it->second.peer;
  if (!counted_here) count_down(nicknames_by_address_, it->second.address);
  players_.erase(it);
  // The connection's close then finds no player: nothing is dropped or freed.
  if (const auto session = sessions_.find(peer); session != sessions_.end()) {
    session->second.player = 0;
  }
  close(peer, CloseReason::resumed_elsewhere);
}

}  // namespace tickwire::net::lobby_detail
