#pragma once
// The Redis lobby state's fan-out: one pub/sub channel. publish() only queues; a publisher thread
// sends what queued meanwhile in one round trip, on a connection of its own (one queue and one
// connection keep this process's broadcasts in the order it published them). write_later() queues
// a write in the same queue (a chat line's append), so that the lobby's thread does not wait for
// it and Redis runs it before the broadcasts published after it. A subscriber thread
// reads the channel on another connection and hands each broadcast to the subscriptions, which
// only queue it for their lobby's thread. A dropped subscription reconnects; what was published
// meanwhile is lost to this process (pub/sub keeps nothing).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lobby/redis_connection.hpp"
#include "tickwire/net/lobby_state.hpp"

namespace tickwire::net::lobby_detail {

class RedisFanout {
 public:
  // `round_trips` counts the publisher's exchanges; `report` gets the errors worth a log line.
  RedisFanout(RedisEndpoint endpoint, std::string channel, std::size_t max_queued,
              std::atomic<std::uint64_t>* round_trips,
              std::function<void(const std::string&)> report);
  // Sends what is queued, then stops both threads.
  ~RedisFanout();
  RedisFanout(const RedisFanout&) = delete;
  RedisFanout& operator=(const RedisFanout&) = delete;

  // Subscribes (the first message read is its confirmation) and starts both threads.
  Status start();

  std::uint64_t subscribe(LobbyState::Subscriber deliver);
  void unsubscribe(std::uint64_t subscription);
  // Waits only while max_queued broadcasts are queued already (Redis is slower than the lobby).
  void publish(const Broadcast& broadcast);
  // Queues a write whose answer nobody waits for, in order with the broadcasts (and waits as
  // publish() does). Redis runs it before anything queued after it; a reply that is an error is
  // reported.
  void write_later(RedisCommand command);
  // Broadcasts received so far that may have changed rooms (Broadcast::changes_rooms): the
  // state's version() follows other processes' room changes by it, and not chat's.
  std::uint64_t room_changes_received() const { return room_changes_received_.load(); }
  // Messages on the channel that are no broadcast of this layout, dropped.
  std::uint64_t dropped_undecodable() const { return dropped_undecodable_.load(); }

 private:
  Status subscribe_on(RedisConnection& connection);
  void listen(std::unique_ptr<RedisConnection> connection);
  void deliver(std::string_view payload);
  void send_published();
  void queue(RedisCommand command);

  const RedisEndpoint endpoint_;
  const std::string channel_;
  const std::size_t max_queued_;
  std::atomic<std::uint64_t>* const round_trips_;
  const std::function<void(const std::string&)> report_;
  std::atomic<std::uint64_t> room_changes_received_{0};
  std::atomic<std::uint64_t> dropped_undecodable_{0};

  std::mutex subscribers_mutex_;
  std::uint64_t last_subscription_ = 0;
  std::map<std::uint64_t, LobbyState::Subscriber> subscribers_;

  std::mutex subscriber_socket_mutex_;
  bool stopping_ = false;
  int subscriber_socket_ = -1;  // shut down to end the subscriber's blocking read
  std::thread subscriber_thread_;

  std::mutex outbox_mutex_;
  std::condition_variable outbox_ready_;  // something to send, or stopping
  std::condition_variable outbox_room_;   // room in the queue again
  std::deque<RedisCommand> outbox_;       // PUBLISHes and writes, oldest first
  bool publisher_stopping_ = false;
  std::thread publisher_thread_;
};

}  // namespace tickwire::net::lobby_detail
