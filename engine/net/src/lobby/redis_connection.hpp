#pragma once
// One synchronous hiredis connection: commands as argument vectors (binary-safe), pipelines of
// several commands in one round trip, and a reconnect (with AUTH) after an error. Not
// thread-safe: its owner holds a lock around it.

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tickwire/net/status.hpp"

namespace tickwire::net::lobby_detail {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;
using RedisCommand = std::vector<std::string>;

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string password;  // empty: no AUTH
  std::chrono::milliseconds timeout{1000};
};

class RedisConnection {
 public:
  // `round_trips` (may be null) counts every exchange that got its replies.
  RedisConnection(RedisEndpoint endpoint, std::atomic<std::uint64_t>* round_trips);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects now (and says AUTH): an error names the address and what failed.
  Status connect();
  // One command, one round trip; null (and error() says why) if the server could not be reached
  // or the reply is an error.
  RedisReply run(const RedisCommand& command);
  // Every command sent at once, every reply read after: one round trip. Empty if the exchange
  // failed; otherwise one reply per command (a command's own error is an error-type reply).
  std::vector<RedisReply> pipeline(const std::vector<RedisCommand>& commands);
  const std::string& error() const { return error_; }

  // For the subscriber: the underlying context (connected), to read pushed messages with
  // redisGetReply, and its socket, to shut it down from another thread.
  redisContext* context() { return context_; }

 private:
  bool ensure_connected();
  void drop(const std::string& why);

  const RedisEndpoint endpoint_;
  std::atomic<std::uint64_t>* const round_trips_;
  redisContext* context_ = nullptr;
  std::string error_;
};

// A fixed set of command connections to one server: a call holds one for all its round trips (a
// transaction's WATCH and EXEC must not interleave with another call's), and calls from several
// threads (the lobby's state workers) each hold their own, at once. A connection connects on its
// first use, and again after an error.
class RedisConnectionPool {
 public:
  RedisConnectionPool(const RedisEndpoint& endpoint, std::size_t size,
                      std::atomic<std::uint64_t>* round_trips);

  class Lease {
   public:
    Lease(RedisConnectionPool& pool, RedisConnection& connection)
        : pool_(&pool), connection_(&connection) {}
    ~Lease() { pool_->give_back(*connection_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RedisConnection* operator->() const { return connection_; }

   private:
    RedisConnectionPool* pool_;
    RedisConnection* connection_;
  };
  // Waits until a connection is free.
  Lease acquire();

 private:
  void give_back(RedisConnection& connection);

  std::vector<std::unique_ptr<RedisConnection>> connections_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<RedisConnection*> free_;
};

// Reply helpers: each is false/empty/0 for a reply of another type.
bool is_error(const redisReply* reply);
bool is_nil(const redisReply* reply);
std::string reply_string(const redisReply* reply);
long long reply_integer(const redisReply* reply);

}  // namespace tickwire::net::lobby_detail
