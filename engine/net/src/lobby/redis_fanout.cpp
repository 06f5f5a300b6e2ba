#include "lobby/redis_fanout.hpp"

#include <sys/socket.h>

#include <iterator>
#include <optional>
#include <vector>

#include "lobby/redis_records.hpp"

namespace tickwire::net::lobby_detail {

RedisFanout::RedisFanout(RedisEndpoint endpoint, std::string channel, std::size_t max_queued,
                         std::atomic<std::uint64_t>* round_trips,
                         std::function<void(const std::string&)> report)
    : endpoint_(std::move(endpoint)),
      channel_(std::move(channel)),
      max_queued_(max_queued),
      round_trips_(round_trips),
      report_(std::move(report)) {}

RedisFanout::~RedisFanout() {
  {
    std::lock_guard lock(outbox_mutex_);
    publisher_stopping_ = true;
  }
  outbox_ready_.notify_all();
  outbox_room_.notify_all();
  if (publisher_thread_.joinable()) publisher_thread_.join();
  {
    std::lock_guard lock(subscriber_socket_mutex_);
    stopping_ = true;
    if (subscriber_socket_ >= 0) ::shutdown(subscriber_socket_, SHUT_RDWR);
  }
  if (subscriber_thread_.joinable()) subscriber_thread_.join();
}

Status RedisFanout::start() {
  auto subscriber = std::make_unique<RedisConnection>(endpoint_, nullptr);
  if (Status status = subscribe_on(*subscriber); !status.ok()) return status;
  subscriber_thread_ = std::thread(
      [this, connection = std::move(subscriber)]() mutable { listen(std::move(connection)); });
  publisher_thread_ = std::thread([this] { send_published(); });
  return {};
}

std::uint64_t RedisFanout::subscribe(LobbyState::Subscriber deliver) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.emplace(++last_subscription_, std::move(deliver));
  return last_subscription_;
}

void RedisFanout::unsubscribe(std::uint64_t subscription) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.erase(subscription);
}

void RedisFanout::publish(const Broadcast& broadcast) {
  queue({"PUBLISH", channel_, encode_broadcast(broadcast)});
}

void RedisFanout::write_later(RedisCommand command) {
  queue(std::move(command));
}

void RedisFanout::queue(RedisCommand command) {
  std::unique_lock lock(outbox_mutex_);
  outbox_room_.wait(lock, [&] { return outbox_.size() < max_queued_ || publisher_stopping_; });
  outbox_.push_back(std::move(command));
  lock.unlock();
  outbox_ready_.notify_one();
}

Status RedisFanout::subscribe_on(RedisConnection& connection) {
  if (Status status = connection.connect(); !status.ok()) return status;
  // SUBSCRIBE's confirmation is the first reply; after it the connection only receives.
  if (!connection.run({"SUBSCRIBE", channel_})) {
    return Status::error("cannot subscribe to " + channel_ + ": " + connection.error());
  }
  // A subscriber waits for messages as long as it takes: no read timeout.
  timeval forever{};
  redisSetTimeout(connection.context(), forever);
  std::lock_guard lock(subscriber_socket_mutex_);
  if (stopping_) return Status::error("stopping");
  subscriber_socket_ = connection.context()->fd;
  return {};
}

void RedisFanout::listen(std::unique_ptr<RedisConnection> connection) {
  while (true) {
    void* raw = nullptr;
    if (redisGetReply(connection->context(), &raw) == REDIS_OK) {
      const RedisReply reply(static_cast<redisReply*>(raw));
      // ["message", channel, payload]
      if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        deliver({reply->element[2]->str, reply->element[2]->len});
      }
      continue;
    }
    {
      std::lock_guard lock(subscriber_socket_mutex_);
      subscriber_socket_ = -1;
      if (stopping_) return;
    }
    // The connection broke: broadcasts published until it is back are lost to this process
    // (pub/sub keeps nothing); its players see the state itself when they next ask.
    report_("the fan-out subscription dropped; reconnecting");
    while (true) {
      {
        std::lock_guard lock(subscriber_socket_mutex_);
        if (stopping_) return;
      }
      connection = std::make_unique<RedisConnection>(endpoint_, nullptr);
      if (subscribe_on(*connection).ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

void RedisFanout::send_published() {
  RedisConnection connection(endpoint_, round_trips_);
  while (true) {
    std::deque<RedisCommand> batch;
    {
      std::unique_lock lock(outbox_mutex_);
      outbox_ready_.wait(lock, [&] { return !outbox_.empty() || publisher_stopping_; });
      if (outbox_.empty()) return;  // stopping, and everything is sent
      batch.swap(outbox_);
    }
    outbox_room_.notify_all();
    // Everything queued meanwhile in one round trip, in queueing order (Redis runs a pipeline's
    // commands in order): under load a chat line costs a fraction of one.
    const std::vector<RedisCommand> commands(std::make_move_iterator(batch.begin()),
                                             std::make_move_iterator(batch.end()));
    const std::vector<RedisReply> replies = connection.pipeline(commands);
    if (replies.empty()) {
      // Redis is unreachable: these broadcasts and writes are lost (pub/sub would not have kept
      // the broadcasts for a subscriber that was away either; a chat line misses the history);
      // the players read the state when they next ask.
      report_(connection.error());
      continue;
    }
    for (const RedisReply& reply : replies) {
      if (is_error(reply.get())) {
        report_("redis: " + reply_string(reply.get()));
        break;  // one line per batch is enough
      }
    }
  }
}

void RedisFanout::deliver(std::string_view payload) {
  std::optional<Broadcast> broadcast = decode_broadcast(payload);
  if (!broadcast) {
    // Only lobby processes publish here: one of another layout (another version) or a damaged
    // message. Dropped, never half-read.
    ++dropped_undecodable_;
    return;
  }
  if (broadcast->changes_rooms) ++room_changes_received_;
  std::lock_guard lock(subscribers_mutex_);
  for (const auto& [id, subscriber] : subscribers_)
    subscriber(*broadcast);
}

}  // namespace tickwire::net::lobby_detail
