#pragma once
// The Lua scripts of RedisLobbyState: each runs atomically inside Redis, so that a check and the
// change it guards are one step for every lobby process. Keys are built from the prefix inside a
// script (take_expired_*), which a single Redis server allows (Redis Cluster would not).

namespace tickwire::net::lobby_detail::redis_script {

// KEYS: nickname key, nickname set. ARGV: player, ttl ms, lease end (unix ms).
// 1 if claimed (free, expired, or already this player's: renewed), 0 if someone else holds it.
inline constexpr const char* kClaimNickname = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
return 1
)lua";

// KEYS: nickname set, then the nicknames. ARGV: ttl ms, lease end, then each nickname's player.
// Renews those still held by the same player.
inline constexpr const char* kRenewNicknames = R"lua(
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    redis.call('ZADD', KEYS[1], ARGV[2], KEYS[i])
  end
end
return 1
)lua";

// KEYS: nickname key, nickname set. ARGV: player. Frees it only if that player holds it.
inline constexpr const char* kReleaseNickname = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], KEYS[1])
end
return 1
)lua";

// KEYS: nickname set. ARGV: now. The number of nicknames whose lease runs.
inline constexpr const char* kCountNicknames = R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
)lua";

// KEYS: record key, deadline set. Removes and returns the record (nil if none).
inline constexpr const char* kTakeRecord = R"lua(
local record = redis.call('GET', KEYS[1])
if record then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], KEYS[1])
return record
)lua";

// KEYS: deadline set, lapse set, then resume record keys. ARGV: for each key its record,
// deadline, ttl ms and connected-until (0: not connected, out of the lapse set). Replaces the
// records that still exist (one taken meanwhile is not made again); returns how many.
inline constexpr const char* kUpdateRecords = R"lua(
local updated = 0
for i = 3, #KEYS do
  local at = (i - 3) * 4
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('SET', KEYS[i], ARGV[at + 1], 'PX', ARGV[at + 3])
    redis.call('ZADD', KEYS[1], ARGV[at + 2], KEYS[i])
    if ARGV[at + 4] == '0' then
      redis.call('ZREM', KEYS[2], KEYS[i])
    else
      redis.call('ZADD', KEYS[2], ARGV[at + 4], KEYS[i])
    end
    updated = updated + 1
  end
end
return updated
)lua";

// KEYS: lapse set (resume record key -> connected-until). ARGV: now. Removes every key whose time
// has passed, each for exactly one caller, and returns key, record, key, record... of those whose
// record still exists (a taken record's key is only dropped).
inline constexpr const char* kTakeLapsed = R"lua(
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, key in ipairs(keys) do
  redis.call('ZREM', KEYS[1], key)
  local record = redis.call('GET', key)
  if record then
    out[#out + 1] = key
    out[#out + 1] = record
  end
end
return out
)lua";

// KEYS: deadline set (members are record keys), and for game servers the set of addresses.
// ARGV: now, then (game servers) the key prefix of addresses. Removes and returns every record
// whose deadline has passed; each goes to exactly one caller.
inline constexpr const char* kTakeExpired = R"lua(
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, key in ipairs(keys) do
  local record = redis.call('GET', key)
  if record then
    out[#out + 1] = record
    redis.call('DEL', key)
  end
  redis.call('ZREM', KEYS[1], key)
  if KEYS[2] then redis.call('SREM', KEYS[2], string.sub(key, #ARGV[2] + 1)) end
end
return out
)lua";

// KEYS: room key, chat list. ARGV: line, lines kept. Appends only to a room that exists, so that
// a line racing the room's close leaves no list behind.
inline constexpr const char* kAppendChat = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
)lua";

}  // namespace tickwire::net::lobby_detail::redis_script
