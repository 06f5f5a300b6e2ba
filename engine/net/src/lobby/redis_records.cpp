#include "lobby/redis_records.hpp"

#include <cstring>

namespace tickwire::net::lobby_detail {
namespace {

// A record's first byte: its kind and layout version, so that a record of another kind or an
// older layout is refused rather than misread.
enum class RecordTag : std::uint8_t {
  room = 1,
  resume = 2,
  game_server = 3,
  chat = 4,
  // 5 was a broadcast without changes_rooms: a process of that layout and one of this refuse
  // each other's broadcasts rather than guess the flag. 6 was one without ends_session.
  broadcast = 7
};

class Writer {
 public:
  explicit Writer(RecordTag tag) { out_.push_back(static_cast<char>(tag)); }
  Writer& u64(std::uint64_t value) {
    for (int i = 0; i < 8; ++i)
      out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    return *this;
  }
  Writer& flag(bool value) {
    out_.push_back(value ? '\1' : '\0');
    return *this;
  }
  Writer& bytes(std::string_view value) {
    u64(value.size());
    out_.append(value);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, RecordTag tag) : in_(in) {
    if (in_.empty() || static_cast<std::uint8_t>(in_[0]) != static_cast<std::uint8_t>(tag)) {
      ok_ = false;
    } else {
      in_.remove_prefix(1);
    }
  }
  std::uint64_t u64() {
    if (!ok_ || in_.size() < 8) return fail();
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i)
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return value;
  }
  bool flag() {
    if (!ok_ || in_.empty()) return fail() != 0;
    const bool value = in_[0] != '\0';
    in_.remove_prefix(1);
    return value;
  }
  std::string bytes() {
    const std::uint64_t size = u64();
    if (!ok_ || in_.size() < size) {
      fail();
      return {};
    }
    std::string value(in_.substr(0, size));
    in_.remove_prefix(size);
    return value;
  }
  // Every field read, nothing left over.
  bool done() const { return ok_ && in_.empty(); }
  bool ok() const { return ok_; }

 private:
  std::uint64_t fail() {
    ok_ = false;
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

void write_key(Writer& out, const std::optional<ServerSealPublicKey>& key) {
  out.flag(key.has_value());
  if (key) out.bytes({reinterpret_cast<const char*>(key->data()), key->size()});
}

std::optional<ServerSealPublicKey> read_key(Reader& in, bool& ok) {
  if (!in.flag()) return std::nullopt;
  const std::string raw = in.bytes();
  ServerSealPublicKey key{};
  if (raw.size() != key.size()) {
    ok = false;
    return std::nullopt;
  }
  std::memcpy(key.data(), raw.data(), key.size());
  return key;
}

}  // namespace

std::string encode_room(const RoomInfo& room) {
  Writer out(RecordTag::room);
  out.u64(room.id).bytes(room.name).bytes(room.game_mode).u64(room.max_players).u64(room.host);
  out.u64(room.members.size());
  for (const MemberInfo& member : room.members)
    out.u64(member.player).bytes(member.nickname).flag(member.ready).flag(member.connected);
  out.u64(room.match_id)
      .bytes(room.match_server.address)
      .bytes(room.match_server.websocket_address);
  write_key(out, room.match_server.seal_key);
  out.u64(room.match_started_unix_ms).flag(room.match_began).u64(room.match_reserved_slots);
  return out.take();
}

std::optional<RoomInfo> decode_room(std::string_view bytes) {
  Reader in(bytes, RecordTag::room);
  RoomInfo room;
  room.id = in.u64();
  room.name = in.bytes();
  room.game_mode = in.bytes();
  room.max_players = in.u64();
  room.host = in.u64();
  const std::uint64_t members = in.u64();
  // Each member takes at least 18 bytes: a count beyond that is a damaged record.
  if (!in.ok() || members > bytes.size() / 18) return std::nullopt;
  room.members.resize(members);
  for (MemberInfo& member : room.members) {
    member.player = in.u64();
    member.nickname = in.bytes();
    member.ready = in.flag();
    member.connected = in.flag();
  }
  room.match_id = in.u64();
  room.match_server.address = in.bytes();
  room.match_server.websocket_address = in.bytes();
  bool ok = true;
  room.match_server.seal_key = read_key(in, ok);
  room.match_started_unix_ms = in.u64();
  room.match_began = in.flag();
  room.match_reserved_slots = static_cast<std::uint32_t>(in.u64());
  if (!ok || !in.done()) return std::nullopt;
  return room;
}

std::string encode_resume(const ResumeRecord& record) {
  Writer out(RecordTag::resume);
  out.u64(record.player).bytes(record.nickname).u64(record.room).u64(record.expires_unix_ms);
  out.bytes(record.address);
  return out.take();
}

std::optional<ResumeRecord> decode_resume(std::string_view bytes) {
  Reader in(bytes, RecordTag::resume);
  ResumeRecord record;
  record.player = in.u64();
  record.nickname = in.bytes();
  record.room = in.u64();
  record.expires_unix_ms = in.u64();
  record.address = in.bytes();
  if (!in.done()) return std::nullopt;
  return record;
}

std::string encode_game_server(const GameServerInfo& server) {
  Writer out(RecordTag::game_server);
  out.bytes(server.address).bytes(server.websocket_address).u64(server.capacity);
  out.u64(server.players).u64(server.reserved);
  write_key(out, server.seal_key);
  out.u64(server.lease_expires_unix_ms).flag(server.connected);
  return out.take();
}

std::optional<GameServerInfo> decode_game_server(std::string_view bytes) {
  Reader in(bytes, RecordTag::game_server);
  GameServerInfo server;
  server.address = in.bytes();
  server.websocket_address = in.bytes();
  server.capacity = static_cast<std::uint32_t>(in.u64());
  server.players = static_cast<std::uint32_t>(in.u64());
  server.reserved = static_cast<std::uint32_t>(in.u64());
  bool ok = true;
  server.seal_key = read_key(in, ok);
  server.lease_expires_unix_ms = in.u64();
  server.connected = in.flag();
  if (!ok || !in.done()) return std::nullopt;
  return server;
}

std::string encode_chat(const ChatEntry& entry) {
  Writer out(RecordTag::chat);
  out.u64(static_cast<std::uint64_t>(entry.scope)).u64(entry.room).u64(entry.from);
  out.bytes(entry.from_nickname).bytes(entry.to_nickname).bytes(entry.text).u64(entry.sent_unix_ms);
  return out.take();
}

std::optional<ChatEntry> decode_chat(std::string_view bytes) {
  Reader in(bytes, RecordTag::chat);
  ChatEntry entry;
  const std::uint64_t scope = in.u64();
  if (scope > static_cast<std::uint64_t>(ChatScope::whisper)) return std::nullopt;
  entry.scope = static_cast<ChatScope>(scope);
  entry.room = in.u64();
  entry.from = in.u64();
  entry.from_nickname = in.bytes();
  entry.to_nickname = in.bytes();
  entry.text = in.bytes();
  entry.sent_unix_ms = in.u64();
  if (!in.done()) return std::nullopt;
  return entry;
}

std::string encode_broadcast(const Broadcast& broadcast) {
  Writer out(RecordTag::broadcast);
  out.u64(static_cast<std::uint64_t>(broadcast.audience)).u64(broadcast.target);
  const std::vector<std::byte>& message = *broadcast.message;
  out.bytes({reinterpret_cast<const char*>(message.data()), message.size()});
  out.flag(broadcast.changes_rooms);
  out.bytes(broadcast.ends_session);
  return out.take();
}

std::optional<Broadcast> decode_broadcast(std::string_view bytes) {
  Reader in(bytes, RecordTag::broadcast);
  Broadcast broadcast;
  const std::uint64_t audience = in.u64();
  if (audience > static_cast<std::uint64_t>(Broadcast::Audience::everyone)) return std::nullopt;
  broadcast.audience = static_cast<Broadcast::Audience>(audience);
  broadcast.target = in.u64();
  const std::string message = in.bytes();
  broadcast.changes_rooms = in.flag();
  broadcast.ends_session = in.bytes();
  if (!in.done()) return std::nullopt;
  const auto* data = reinterpret_cast<const std::byte*>(message.data());
  broadcast.message = std::make_shared<const std::vector<std::byte>>(data, data + message.size());
  return broadcast;
}

}  // namespace tickwire::net::lobby_detail
