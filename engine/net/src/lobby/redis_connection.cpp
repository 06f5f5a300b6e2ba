#include "lobby/redis_connection.hpp"

#include <sys/time.h>

namespace tickwire::net::lobby_detail {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

void append(redisContext* context, const RedisCommand& command) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(command.size());
  lengths.reserve(command.size());
  for (const std::string& arg : command) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

}  // namespace

RedisConnectionPool::RedisConnectionPool(const RedisEndpoint& endpoint, std::size_t size,
                                         std::atomic<std::uint64_t>* round_trips) {
  for (std::size_t i = 0; i < size; ++i) {
    connections_.push_back(std::make_unique<RedisConnection>(endpoint, round_trips));
    free_.push_back(connections_.back().get());
  }
}

RedisConnectionPool::Lease RedisConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [this] { return !free_.empty(); });
  RedisConnection* connection = free_.back();
  free_.pop_back();
  return {*this, *connection};
}

void RedisConnectionPool::give_back(RedisConnection& connection) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(&connection);
  }
  freed_.notify_one();
}

RedisConnection::RedisConnection(RedisEndpoint endpoint, std::atomic<std::uint64_t>* round_trips)
    : endpoint_(std::move(endpoint)), round_trips_(round_trips) {}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

Status RedisConnection::connect() {
  if (ensure_connected()) return {};
  return Status::error(error_);
}

bool RedisConnection::ensure_connected() {
  if (context_ != nullptr) return true;
  const std::string where = "redis " + endpoint_.host + ":" + std::to_string(endpoint_.port);
  redisContext* context = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                                  to_timeval(endpoint_.timeout));
  if (context == nullptr) {
    error_ = where + ": out of memory";
    return false;
  }
  if (context->err != 0) {
    error_ = where + ": cannot connect: " + context->errstr;
    redisFree(context);
    return false;
  }
  redisSetTimeout(context, to_timeval(endpoint_.timeout));
  context_ = context;
  if (!endpoint_.password.empty()) {
    RedisReply reply = run({"AUTH", endpoint_.password});
    if (!reply) {
      // The password stays out of the message.
      drop(where + ": AUTH refused (check the Redis password): " + error_);
      return false;
    }
  }
  return true;
}

void RedisConnection::drop(const std::string& why) {
  error_ = why;
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;  // the next call connects again
}

RedisReply RedisConnection::run(const RedisCommand& command) {
  std::vector<RedisReply> replies = pipeline({command});
  if (replies.empty()) return nullptr;
  if (is_error(replies.front().get())) {
    error_ = "redis: " + reply_string(replies.front().get());
    return nullptr;
  }
  return std::move(replies.front());
}

std::vector<RedisReply> RedisConnection::pipeline(const std::vector<RedisCommand>& commands) {
  if (!ensure_connected()) return {};
  for (const RedisCommand& command : commands)
    append(context_, command);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) {
      // A timeout or a broken connection: the replies still owed would come out of step with
      // the next commands, so the connection starts over.
      drop(std::string("redis: ") + (context_->errstr[0] != '\0' ? context_->errstr : "no reply"));
      return {};
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  if (round_trips_ != nullptr) ++*round_trips_;
  return replies;
}

bool is_error(const redisReply* reply) {
  return reply != nullptr && reply->type == REDIS_REPLY_ERROR;
}

bool is_nil(const redisReply* reply) {
  return reply == nullptr || reply->type == REDIS_REPLY_NIL;
}

std::string reply_string(const redisReply* reply) {
  if (reply == nullptr) return {};
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
      reply->type == REDIS_REPLY_ERROR) {
    return std::string(reply->str, reply->len);
  }
  return {};
}

long long reply_integer(const redisReply* reply) {
  if (reply == nullptr) return 0;
  if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
  return 0;
}

}  // namespace tickwire::net::lobby_detail
