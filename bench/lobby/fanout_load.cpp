// The fan-out workload: every client of one room sends chat lines, a window at a time, and counts
// every line it receives; then the drain and the latency probes.

#include "load_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "load_connection.hpp"
#include "lobby_wire.hpp"

namespace tickwire::bench {
namespace {

namespace asio = boost::asio;
namespace wire = tickwire::schemas::lobby;
using Clock = std::chrono::steady_clock;
using lobby_wire::create_room;
using lobby_wire::is_reply;
using lobby_wire::join_room;
using lobby_wire::kRoomId;
using lobby_wire::read_message;
using lobby_wire::reply_ok;
using lobby_wire::send_chat;

// CPU time of this process (the load generator) so far, in seconds.
double generator_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// The sender's index from a chat line's text: "<index> <sequence> ...".
int sender_of(std::string_view text) {
  int index = 0;
  for (char c : text) {
    if (c < '0' || c > '9') break;
    index = index * 10 + (c - '0');
  }
  return index;
}

class Fanout {
 public:
  Fanout(ServerKind kind, const std::vector<std::uint16_t>& ports, const FanoutSettings& settings,
         const std::function<std::vector<double>()>& readings)
      : kind_(kind), ports_(ports), settings_(settings), readings_(readings) {}

  FanoutResult run() {
    const double budget = 60 + settings_.warmup_seconds + settings_.seconds +
                          settings_.latency_probes * (kProbeDeadlineSeconds + 0.01);
    if (ports_.empty()) {
      result_.error = "no server to connect to";
      return result_;
    }
    for (int i = 0; i < settings_.clients; ++i) {
      clients_.push_back(std::make_shared<LoadConnection>(ioc_, kind_, i));
      clients_.back()->open(ports_[static_cast<std::size_t>(i) % ports_.size()],
                            "fan" + std::to_string(i),
                            [this](LoadConnection& client, const std::string& error) {
                              if (!error.empty()) return fail(error);
                              if (++connected_ == settings_.clients) on_all_connected();
                              (void)client;
                            });
    }
    run_for(ioc_, std::chrono::seconds(static_cast<int>(budget)));
    if (result_.error.empty() && !finished_) result_.error = "the run did not finish in time";
    for (const auto& client : clients_) {
      result_.lines_sent += client->sent;
      result_.deliveries += client->received;
    }
    const std::uint64_t expected = result_.lines_sent * static_cast<std::uint64_t>(clients_.size());
    result_.lost = expected > result_.deliveries ? expected - result_.deliveries : 0;
    return result_;
  }

 private:
  void fail(const std::string& error) {
    if (result_.error.empty()) result_.error = error;
    ioc_.stop();
  }

  void on_all_connected() {
    if (kind_ == ServerKind::raw_beast) return start_chat();
    // LoadConnection 0 creates the room; the others join it once it exists.
    LoadConnection& host = *clients_[0];
    host.on_message = [this](LoadConnection& self, std::string_view frame) {
      const auto* message = read_message(LobbyEncoding::binary, frame);
      if (!is_reply(message, kRoomId)) return;
      if (!reply_ok(message, kRoomId)) return fail("CreateRoom refused");
      room_ = message->body_as_RoomDetail()->summary()->room_id();
      self.on_message = nullptr;
      if (settings_.clients == 1) return start_chat();
      for (std::size_t i = 1; i < clients_.size(); ++i) {
        clients_[i]->on_message = [this](LoadConnection& member, std::string_view reply) {
          const auto* joined = read_message(LobbyEncoding::binary, reply);
          if (!is_reply(joined, kRoomId)) return;
          if (!reply_ok(joined, kRoomId)) return fail("JoinRoom refused");
          member.on_message = nullptr;
          if (++joined_ == settings_.clients - 1) start_chat();
        };
        clients_[i]->send(join_room(LobbyEncoding::binary, room_));
      }
    };
    host.send(create_room(LobbyEncoding::binary, static_cast<std::uint16_t>(settings_.clients)));
  }

  std::string line(LoadConnection& client) {
    std::string text = std::to_string(client.index) + " " + std::to_string(client.sent) + " ";
    if (text.size() < settings_.text_size) text.resize(settings_.text_size, '.');
    return kind_ == ServerKind::raw_beast ? text : send_chat(text);
  }

  void send_line(LoadConnection& client) {
    ++client.sent;
    ++client.in_flight;
    client.send(line(client));
  }

  void on_line(LoadConnection& client, std::string_view text) {
    ++client.received;
    if (counting_) {
      ++timed_;
      ++timed_by_server_[static_cast<std::size_t>(client.index) % ports_.size()];
    }
    if (probing_) return on_probe_delivery();
    if (sender_of(text) != client.index) return;
    --client.in_flight;
    if (sending_) send_line(client);
  }

  void start_chat() {
    for (const auto& client : clients_) {
      if (kind_ == ServerKind::raw_beast) {
        client->on_message = [this](LoadConnection& self, std::string_view text) {
          on_line(self, text);
        };
      } else {
        client->on_message = [this](LoadConnection& self, std::string_view frame) {
          const auto* message = read_message(LobbyEncoding::binary, frame);
          if (message == nullptr || message->body_type() != wire::LobbyBody::ChatMessage) return;
          const auto* text = message->body_as_ChatMessage()->line()->text();
          on_line(self, {text->c_str(), text->size()});
        };
      }
    }
    sending_ = true;
    for (const auto& client : clients_) {
      for (int w = 0; w < settings_.window; ++w)
        send_line(*client);
    }
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(settings_.warmup_seconds)));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      counting_ = true;
      timed_by_server_.assign(ports_.size(), 0);
      window_start_ = Clock::now();
      readings_start_ = readings_();
      generator_cpu_start_ = generator_cpu_seconds();
      timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(settings_.seconds)));
      timer_.async_wait([this](boost::system::error_code ec2) {
        if (ec2) return;
        counting_ = false;
        sending_ = false;
        result_.seconds = seconds_since(window_start_);
        const std::vector<double> readings_end = readings_();
        for (std::size_t i = 0; i < readings_end.size() && i < readings_start_.size(); ++i) {
          result_.window_readings.push_back(readings_end[i] - readings_start_[i]);
          if (i < ports_.size()) result_.server_cpu_seconds += result_.window_readings.back();
        }
        result_.timed_deliveries_by_server = timed_by_server_;
        result_.generator_cpu_seconds = generator_cpu_seconds() - generator_cpu_start_;
        result_.timed_deliveries = timed_;
        drain_deadline_ = Clock::now() + std::chrono::seconds(5);
        wait_for_drain();
      });
    });
  }

  // Sending has stopped: waits until every line in flight has reached every client (or 5 s).
  void wait_for_drain() {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    for (const auto& client : clients_) {
      sent += client->sent;
      received += client->received;
    }
    if (received >= sent * clients_.size() || Clock::now() > drain_deadline_) {
      return settings_.latency_probes > 0 ? send_probe() : close_all();
    }
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) wait_for_drain();
    });
  }

  // One line, sent by the clients in turn; the next goes 2 ms after every client has this one.
  void send_probe() {
    if (probes_sent_ == settings_.latency_probes) {
      probing_ = false;
      return close_all();
    }
    probing_ = true;
    probe_received_ = 0;
    LoadConnection& sender = *clients_[static_cast<std::size_t>(probes_sent_) % clients_.size()];
    ++probes_sent_;
    probe_sent_at_ = Clock::now();
    send_line(sender);
    // A probe that never reaches everyone ends the run: it shows as lost.
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(kProbeDeadlineSeconds)));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      probing_ = false;
      close_all();
    });
  }

  void on_probe_delivery() {
    result_.latency_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - probe_sent_at_).count());
    if (++probe_received_ < clients_.size()) return;
    timer_.expires_after(std::chrono::milliseconds(2));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) send_probe();
    });
  }

  void close_all() {
    finished_ = true;
    for (const auto& client : clients_) {
      client->on_message = nullptr;
      client->close([](LoadConnection&, const std::string&) {});
    }
  }

  asio::io_context ioc_{1};
  asio::steady_timer timer_{ioc_};
  ServerKind kind_;
  static constexpr double kProbeDeadlineSeconds = 5;
  std::vector<std::uint16_t> ports_;
  FanoutSettings settings_;
  std::function<std::vector<double>()> readings_;
  std::vector<ConnectionPtr> clients_;
  int connected_ = 0;
  int joined_ = 0;
  std::uint64_t room_ = 0;
  bool sending_ = false;
  bool counting_ = false;
  bool finished_ = false;
  std::uint64_t timed_ = 0;
  Clock::time_point window_start_;
  Clock::time_point drain_deadline_;
  std::vector<double> readings_start_;
  std::vector<std::uint64_t> timed_by_server_;
  bool probing_ = false;
  int probes_sent_ = 0;
  std::size_t probe_received_ = 0;
  Clock::time_point probe_sent_at_;
  double generator_cpu_start_ = 0;
  FanoutResult result_;
};

}  // namespace

FanoutResult run_fanout(ServerKind kind, const std::vector<std::uint16_t>& ports,
                        const FanoutSettings& settings,
                        const std::function<std::vector<double>()>& readings) {
  return Fanout(kind, ports, settings, readings).run();
}

}  // namespace tickwire::bench
