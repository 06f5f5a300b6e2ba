// LobbyState in one process's memory, behind one mutex: the lobbies' threads write it and the
// HTTP handlers' snapshots are made on them too, so a finer lock would buy nothing.

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "room_rules.hpp"
#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net {
namespace {

using PlayerId = LobbyPlayerId;
using RoomId = LobbyRoomId;

class InMemoryLobbyState final : public LobbyState {
 public:
  std::uint64_t next_id() override {
    std::lock_guard lock(mutex_);
    return next_id_++;
  }

  bool claim_nickname(const std::string& key, PlayerId player,
                      std::uint64_t lease_until_unix_ms) override {
    std::lock_guard lock(mutex_);
    const auto [it, added] =
        nicknames_.try_emplace(key, NicknameLease{player, lease_until_unix_ms});
    if (!added) {
      if (it->second.player != player && it->second.until_unix_ms > unix_time_ms()) return false;
      it->second = {player, lease_until_unix_ms};
    }
    ++version_;
    return true;
  }
  void renew_nicknames(const std::vector<std::pair<std::string, PlayerId>>& held,
                       std::uint64_t lease_until_unix_ms) override {
    std::lock_guard lock(mutex_);
    for (const auto& [key, player] : held) {
      const auto it = nicknames_.find(key);
      if (it != nicknames_.end() && it->second.player == player) {
        it->second.until_unix_ms = lease_until_unix_ms;
      }
    }
  }
  void release_nickname(const std::string& key, PlayerId player) override {
    std::lock_guard lock(mutex_);
    const auto it = nicknames_.find(key);
    if (it == nicknames_.end() || it->second.player != player) return;
    nicknames_.erase(it);
    ++version_;
  }
  std::optional<PlayerId> player_by_nickname(const std::string& key) const override {
    std::lock_guard lock(mutex_);
    const auto it = nicknames_.find(key);
    if (it == nicknames_.end() || it->second.until_unix_ms <= unix_time_ms()) return std::nullopt;
    return it->second.player;
  }
  std::size_t player_count() const override {
    std::lock_guard lock(mutex_);
    // Leases past their deadline are dropped here, so that the count is what a reader expects.
    const std::uint64_t now = unix_time_ms();
    std::erase_if(nicknames_, [&](const auto& entry) { return entry.second.until_unix_ms <= now; });
    return nicknames_.size();
  }

  void store_resume(const std::string& token, ResumeRecord record) override {
    std::lock_guard lock(mutex_);
    resumes_[token] = std::move(record);
  }
  std::size_t update_resumes(
      const std::vector<std::pair<std::string, ResumeRecord>>& records) override {
    std::lock_guard lock(mutex_);
    std::size_t updated = 0;
    for (const auto& [token, record] : records) {
      const auto it = resumes_.find(token);
      if (it == resumes_.end()) continue;
      it->second = record;
      ++updated;
    }
    return updated;
  }
  std::optional<ResumeRecord> take_resume(const std::string& token) override {
    std::lock_guard lock(mutex_);
    const auto it = resumes_.find(token);
    if (it == resumes_.end()) return std::nullopt;
    ResumeRecord record = std::move(it->second);
    resumes_.erase(it);
    return record;
  }
  std::vector<ResumeRecord> take_expired_resumes(std::uint64_t now_unix_ms) override {
    std::lock_guard lock(mutex_);
    std::vector<ResumeRecord> expired;
    for (auto it = resumes_.begin(); it != resumes_.end();) {
      if (it->second.expires_unix_ms <= now_unix_ms) {
        expired.push_back(std::move(it->second));
        it = resumes_.erase(it);
      } else {
        ++it;
      }
    }
    return expired;
  }

  std::vector<ResumeRecord> lapse_connections(std::uint64_t now_unix_ms) override {
    std::lock_guard lock(mutex_);
    std::vector<ResumeRecord> lapsed;
    for (auto& [token, record] : resumes_) {
      if (record.connected_until_unix_ms == 0 || record.connected_until_unix_ms > now_unix_ms) {
        continue;
      }
      record.connected_until_unix_ms = 0;
      const auto room = rooms_.find(record.room);
      if (room == rooms_.end()) continue;
      const auto member = lobby_detail::find_member(room->second.info, record.player);
      if (member == room->second.info.members.end() || !member->connected) continue;
      member->connected = false;
      ++version_;
      lapsed.push_back(record);
    }
    return lapsed;
  }

  StateError create_room(RoomInfo room, std::size_t max_rooms) override {
    std::lock_guard lock(mutex_);
    if (rooms_.size() >= max_rooms) return StateError::too_many_rooms;
    const RoomId id = room.id;
    rooms_.emplace(id, Room{std::move(room), {}});
    ++version_;
    return StateError::none;
  }
  std::optional<RoomInfo> room(RoomId id) const override {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return std::nullopt;
    return it->second.info;
  }
  std::vector<RoomInfo> list_rooms(const RoomFilter& filter) const override {
    std::lock_guard lock(mutex_);
    std::vector<RoomInfo> out;
    for (auto it = rooms_.upper_bound(filter.after); it != rooms_.end(); ++it) {
      if (out.size() >= filter.limit) break;
      const RoomInfo& room = it->second.info;
      if (lobby_detail::passes(filter, room)) out.push_back(room);
    }
    return out;
  }
  std::size_t room_count() const override {
    std::lock_guard lock(mutex_);
    return rooms_.size();
  }
  StateError join_room(RoomId id, const MemberInfo& member) override {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return StateError::room_not_found;
    const StateError error = lobby_detail::add_member(it->second.info, member);
    if (error == StateError::none) ++version_;
    return error;
  }
  StateError leave_room(RoomId id, PlayerId player, std::optional<RoomInfo>& after) override {
    std::lock_guard lock(mutex_);
    after.reset();
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return StateError::room_not_found;
    bool emptied = false;
    const StateError error = lobby_detail::remove_member(it->second.info, player, emptied);
    if (error != StateError::none) return error;
    ++version_;
    if (emptied) {
      rooms_.erase(it);
    } else {
      after = it->second.info;
    }
    return StateError::none;
  }
  StateError set_ready(RoomId id, PlayerId player, bool ready) override {
    return with_member(id, player, [&](MemberInfo& member) { member.ready = ready; });
  }
  StateError set_connected(RoomId id, PlayerId player, bool connected) override {
    return with_member(id, player, [&](MemberInfo& member) { member.connected = connected; });
  }
  StateError start_match(RoomId id, PlayerId host, std::uint64_t match_id,
                         const MatchServer& server, std::uint32_t reserved_slots,
                         std::uint64_t now_unix_ms, std::optional<RoomInfo>& started) override {
    std::lock_guard lock(mutex_);
    started.reset();
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return StateError::room_not_found;
    RoomInfo& room = it->second.info;
    const StateError error =
        lobby_detail::begin_match(room, host, match_id, server, reserved_slots, now_unix_ms);
    if (error != StateError::none) return error;
    ++version_;
    started = room;
    return StateError::none;
  }
  std::optional<RoomInfo> room_of_match(std::uint64_t match_id) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, room] : rooms_) {
      if (match_id != 0 && room.info.match_id == match_id) return room.info;
    }
    return std::nullopt;
  }
  bool mark_match_began(std::uint64_t match_id) override {
    std::lock_guard lock(mutex_);
    for (auto& [id, room] : rooms_) {
      if (match_id == 0 || room.info.match_id != match_id) continue;
      room.info.match_began = true;
      return true;
    }
    return false;
  }

  std::optional<RoomInfo> end_match(std::uint64_t match_id) override {
    std::lock_guard lock(mutex_);
    for (auto& [id, room] : rooms_) {
      if (match_id == 0 || room.info.match_id != match_id) continue;
      if (const auto server = servers_.find(room.info.match_server.address);
          server != servers_.end()) {
        server->second.reserved -=
            std::min(server->second.reserved, room.info.match_reserved_slots);
      }
      lobby_detail::finish_match(room.info);
      ++version_;
      return room.info;
    }
    return std::nullopt;
  }

  void append_chat(RoomId id, ChatEntry entry, std::size_t keep) override {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(id);
    if (it == rooms_.end() || keep == 0) return;
    auto& history = it->second.history;
    if (history.size() >= keep) history.erase(history.begin());
    history.push_back(std::move(entry));
  }
  std::vector<ChatEntry> chat_history(RoomId id) const override {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return {};
    return it->second.history;
  }

  // Its calls take a mutex held for microseconds: the lobby makes them on its own thread.
  bool may_block() const override { return false; }

  std::uint64_t version() const override {
    std::lock_guard lock(mutex_);
    return version_;
  }

  std::uint64_t subscribe(Subscriber subscriber) override {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.emplace(++last_subscription_, std::move(subscriber));
    return last_subscription_;
  }
  void unsubscribe(std::uint64_t subscription) override {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.erase(subscription);
  }
  void publish(const Broadcast& broadcast) override {
    // Under a lock of its own, not the state's: a subscriber only queues the broadcast for its
    // lobby's thread (which reads the state later), and the lock keeps publishers' broadcasts in
    // one order for everyone and unsubscribe() final.
    std::lock_guard lock(subscribers_mutex_);
    for (const auto& [id, subscriber] : subscribers_)
      subscriber(broadcast);
  }

  void put_game_server(const GameServerInfo& server) override {
    std::lock_guard lock(mutex_);
    auto& entry = servers_[server.address];
    entry.address = server.address;
    entry.websocket_address = server.websocket_address;
    entry.capacity = server.capacity;
    entry.seal_key = server.seal_key;
    entry.lease_expires_unix_ms = server.lease_expires_unix_ms;
    entry.connected = server.connected;
  }
  void set_game_server_load(const std::string& address, std::uint32_t players,
                            std::uint64_t lease_expires_unix_ms) override {
    std::lock_guard lock(mutex_);
    const auto it = servers_.find(address);
    if (it == servers_.end()) return;
    it->second.players = players;
    it->second.lease_expires_unix_ms = lease_expires_unix_ms;
  }
  void disconnect_game_server(const std::string& address) override {
    std::lock_guard lock(mutex_);
    const auto it = servers_.find(address);
    if (it != servers_.end()) it->second.connected = false;
  }
  void remove_game_server(const std::string& address) override {
    std::lock_guard lock(mutex_);
    servers_.erase(address);
  }
  std::vector<GameServerInfo> take_expired_game_servers(std::uint64_t now_unix_ms) override {
    std::lock_guard lock(mutex_);
    std::vector<GameServerInfo> expired;
    for (auto it = servers_.begin(); it != servers_.end();) {
      if (it->second.lease_expires_unix_ms > now_unix_ms) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->second));
      it = servers_.erase(it);
    }
    return expired;
  }
  std::optional<GameServerInfo> reserve_game_server(std::uint32_t slots) override {
    std::lock_guard lock(mutex_);
    GameServerInfo* best = nullptr;
    for (auto& [address, server] : servers_) {
      if (!server.connected || server.free_slots() < std::max<std::uint32_t>(slots, 1)) continue;
      if (best == nullptr || server.free_slots() > best->free_slots()) best = &server;
    }
    if (best == nullptr) return std::nullopt;
    best->reserved += slots;
    return *best;
  }
  void release_game_server(const std::string& address, std::uint32_t slots) override {
    std::lock_guard lock(mutex_);
    const auto it = servers_.find(address);
    if (it != servers_.end()) it->second.reserved -= std::min(it->second.reserved, slots);
  }

 private:
  struct Room {
    RoomInfo info;
    std::vector<ChatEntry> history;  // oldest first, at most `keep` (at most 1000) entries
  };

  template <typename Change>
  StateError with_member(RoomId id, PlayerId player, Change change) {
    std::lock_guard lock(mutex_);
    const auto it = rooms_.find(id);
    if (it == rooms_.end()) return StateError::room_not_found;
    const auto member = lobby_detail::find_member(it->second.info, player);
    if (member == it->second.info.members.end()) return StateError::not_in_room;
    change(*member);
    ++version_;
    return StateError::none;
  }

  struct NicknameLease {
    PlayerId player = 0;
    std::uint64_t until_unix_ms = 0;
  };

  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::uint64_t version_ = 0;
  // Mutable: player_count() drops the leases that ran out.
  mutable std::unordered_map<std::string, NicknameLease> nicknames_;
  std::unordered_map<std::string, ResumeRecord> resumes_;
  std::map<RoomId, Room> rooms_;  // ordered: room lists come out oldest room first
  std::map<std::string, GameServerInfo> servers_;
  std::mutex subscribers_mutex_;
  std::uint64_t last_subscription_ = 0;
  std::map<std::uint64_t, Subscriber> subscribers_;
};

}  // namespace

std::shared_ptr<LobbyState> make_in_memory_lobby_state() {
  return std::make_shared<InMemoryLobbyState>();
}

}  // namespace tickwire::net
