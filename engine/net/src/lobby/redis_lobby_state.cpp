// RedisLobbyState's core (the class and the key layout: lobby/redis_lobby_state.hpp): the config's
// validation, the command connection and its error reports, ids, the version, the fan-out's
// forwarding and the factory make_redis_lobby_state.

#include "lobby/redis_lobby_state.hpp"

#include "tickwire/net/log.hpp"
#include "tickwire/net/redis_lobby_state.hpp"

namespace tickwire::net {

Status RedisLobbyStateConfig::validate() const {
  const auto bad = [](const char* field, const std::string& value, const std::string& rule) {
    return Status::error("RedisLobbyStateConfig." + std::string(field) + " = " + value + ": " +
                         rule);
  };
  if (host.empty()) return bad("host", "''", "name the Redis server (e.g. 127.0.0.1)");
  if (port == 0) return bad("port", "0", "use the Redis server's port (6379 by default)");
  if (key_prefix.empty() || key_prefix.size() > 64 ||
      key_prefix.find_first_of(" \t\r\n") != std::string::npos) {
    return bad("key_prefix", "'" + key_prefix + "'", "use 1..64 bytes without spaces");
  }
  if (timeout_ms < 10 || timeout_ms > 60'000) {
    return bad("timeout_ms", std::to_string(timeout_ms), "use 10..60000");
  }
  if (max_transaction_attempts < 1 || max_transaction_attempts > 1000) {
    return bad("max_transaction_attempts", std::to_string(max_transaction_attempts), "use 1..1000");
  }
  if (refresh_ms < 50 || refresh_ms > 60'000) {
    return bad("refresh_ms", std::to_string(refresh_ms), "use 50..60000");
  }
  if (connections < 1 || connections > 64) {
    return bad("connections", std::to_string(connections), "use 1..64");
  }
  if (max_queued_broadcasts < 16 || max_queued_broadcasts > 10'000'000) {
    return bad("max_queued_broadcasts", std::to_string(max_queued_broadcasts), "use 16..10000000");
  }
  return {};
}

namespace lobby_detail {

RedisLobbyState::RedisLobbyState(const RedisLobbyStateConfig& config)
    : config_(config),
      endpoint_{config.host, config.port, config.password,
                std::chrono::milliseconds(config.timeout_ms)},
      commands_(endpoint_, config.connections, &round_trips_),
      fanout_(endpoint_, key("fanout"), config.max_queued_broadcasts, &round_trips_,
              [this](const std::string& error) { report(error); }) {}

Status RedisLobbyState::start() {
  {
    const auto commands = commands_.acquire();
    if (Status status = commands->connect(); !status.ok()) return status;
    if (!commands->run({"PING"})) return Status::error(commands->error());
  }
  return fanout_.start();
}

std::uint64_t RedisLobbyState::next_id() {
  const auto commands = commands_.acquire();
  const RedisReply reply = commands->run({"INCR", key("id")});
  return reply ? static_cast<std::uint64_t>(reply_integer(reply.get())) : 0;
}

std::uint64_t RedisLobbyState::version() const {
  // Other processes' room changes show up in the fan-out (presence and match events, not
  // chat) or, for those that publish nothing (a new room), within refresh_ms.
  return writes_.load() + fanout_.room_changes_received() + unix_time_ms() / config_.refresh_ms;
}

std::uint64_t RedisLobbyState::subscribe(Subscriber deliver) {
  return fanout_.subscribe(std::move(deliver));
}
void RedisLobbyState::unsubscribe(std::uint64_t subscription) {
  fanout_.unsubscribe(subscription);
}
void RedisLobbyState::publish(const Broadcast& broadcast) {
  fanout_.publish(broadcast);
}
std::uint64_t RedisLobbyState::dropped_broadcasts() const {
  return fanout_.dropped_undecodable();
}

std::uint64_t RedisLobbyState::round_trips() const {
  return round_trips_.load();
}

RedisReply RedisLobbyState::eval(const char* script, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) const {
  RedisCommand command{"EVAL", script, number(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  const auto commands = commands_.acquire();
  RedisReply reply = commands->run(command);
  if (!reply) report(commands->error());
  return reply;
}

void RedisLobbyState::report(const std::string& error) const {
  const std::uint64_t now = unix_time_ms();
  if (now < next_report_ms_.load()) return;
  next_report_ms_ = now + 5000;
  log(LogLevel::error, "lobby", "lobby state: " + error);
}

}  // namespace lobby_detail

Result<std::shared_ptr<LobbyState>> make_redis_lobby_state(const RedisLobbyStateConfig& config) {
  if (Status status = config.validate(); !status.ok()) return status;
  auto state = std::make_shared<lobby_detail::RedisLobbyState>(config);
  if (Status status = state->start(); !status.ok()) return status;
  return std::shared_ptr<LobbyState>(std::move(state));
}

}  // namespace tickwire::net
