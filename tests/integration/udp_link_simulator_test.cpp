// The UDP link simulator in front of a game port, under a cheap attack: a few datagrams from many
// source ports and addresses. It must not let them fill its client table and shut real players
// out: one address gets a few clients at most, and silent clients are forgotten.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "enet_fixture.hpp"

namespace tickwire::test {
namespace {

using net::Delivery;

// Datagrams of one byte, each from a fresh port of a loopback address. The sockets stay open
// until the flood is over: the kernel hands a closed socket's port out again, and a datagram from
// a port the relay has seated already takes no new seat, which the counts below would miss.
class Flood {
 public:
  Flood() = default;
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;
  ~Flood() {
    for (const int fd : sockets_)
      close(fd);
  }

  void poke(const std::string& source, std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockets_.push_back(fd);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from), 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    const char byte = 'x';
    sendto(fd, &byte, 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

 private:
  std::vector<int> sockets_;
};

class UdpLinkSimulatorTest : public EnetTest {
 protected:
  static net::EnetClientConfig chatty_client() {
    net::EnetClientConfig config;
    config.common.ping_interval_ms = 100;  // heard by the relay every 100 ms even when idle
    return config;
  }
};

TEST_F(UdpLinkSimulatorTest, datagrams_from_many_ports_cannot_close_the_game_port) {
  start_server();
  net::UdpLinkSimulatorConfig config;
  config.target_port = server_->port();
  config.max_clients = 8;
  config.max_clients_per_address = 4;
  config.idle_timeout_ms = 4000;  // longer than the flood takes to send
  auto made = net::UdpLinkSimulator::start(config);
  ASSERT_TRUE(made.ok()) << made.error();
  link_ = std::move(made.value());
  EventLog playing_log;
  auto playing = connect_client(playing_log, chatty_client());
  ASSERT_NE(playing, nullptr);

  // 60 bytes from 60 ports of one host, then 20 bytes from 20 other hosts: more clients than the
  // table holds, for 80 bytes. They go in batches that the relay reads before the next is sent,
  // so that a relay thread starved on a loaded machine does not see the kernel drop some of them
  // from its receive buffer.
  const auto relay_has_read = [&](auto done) {
    return pump_until({{server_.get(), &server_log_}, {playing.get(), &playing_log}},
                      [&] { return done(link_->counters()); });
  };
  Flood flood;
  for (int sent = 0; sent < 60;) {
    for (const int batch_end = sent + 10; sent < batch_end; ++sent)
      flood.poke("127.0.0.2", link_->port());
    // The host's first 4 ports take seats; every later one replaces the host's oldest.
    ASSERT_TRUE(relay_has_read([&](const net::UdpLinkSimulatorCounters& counters) {
      return counters.clients_replaced >= static_cast<std::uint64_t>(sent - 4);
    })) << "after "
        << sent << " datagrams from one host";
  }
  for (int host = 10; host < 30;) {
    for (const int batch_end = host + 10; host < batch_end; ++host)
      flood.poke("127.0.0." + std::to_string(host), link_->port());
    // The table holds 8: the player, the first host's 4, and 3 of these hosts.
    ASSERT_TRUE(relay_has_read([&](const net::UdpLinkSimulatorCounters& counters) {
      return counters.overflowed >= static_cast<std::uint64_t>(host - 10 - 3);
    })) << "after "
        << host - 10 << " datagrams from other hosts";
  }
  const auto flooded = link_->counters();
  EXPECT_EQ(flooded.clients_replaced, 56u);
  EXPECT_EQ(flooded.overflowed, 17u);

  // A new player gets in once the silent sources are forgotten; it tries again as a player would
  // when an attempt times out.
  EventLog joining_log;
  std::unique_ptr<net::ClientTransport> joining;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (joining_log.connected.empty() && std::chrono::steady_clock::now() < deadline) {
    if (joining == nullptr || joining->state() == net::ClientState::disconnected) {
      joining = make_client(chatty_client());
      ASSERT_NE(joining, nullptr);
    }
    pump_for({{server_.get(), &server_log_},
              {playing.get(), &playing_log},
              {joining.get(), &joining_log}},
             std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(joining_log.connected.empty()) << "the game port stayed closed to a new player";
  ASSERT_EQ(server_log_.connected.size(), 2u);

  // The player who was there all along plays on: never disconnected, still reached.
  ASSERT_EQ(server_->broadcast(0, Delivery::reliable_ordered, bytes_of("still here")),
            net::SendResult::ok);
  ASSERT_TRUE(pump_until(
      {{server_.get(), &server_log_}, {playing.get(), &playing_log}, {joining.get(), &joining_log}},
      [&] { return !playing_log.messages.empty() && !joining_log.messages.empty(); }));
  EXPECT_TRUE(playing_log.disconnected.empty());
  EXPECT_TRUE(server_log_.disconnected.empty());
  EXPECT_EQ(playing_log.messages.back().bytes, bytes_of("still here"));
  const auto counters = link_->counters();
  EXPECT_GE(counters.idle_clients_forgotten, 7u) << "the 4 + 3 silent sources in the table";
}

TEST_F(UdpLinkSimulatorTest, config_names_the_bad_field) {
  net::UdpLinkSimulatorConfig config;
  config.target_port = 7777;
  config.max_clients_per_address = 0;
  EXPECT_NE(config.validate().message().find("max_clients_per_address"), std::string::npos);
  config = {};
  config.target_port = 7777;
  config.idle_timeout_ms = 10;
  EXPECT_NE(config.validate().message().find("idle_timeout_ms"), std::string::npos);
}

}  // namespace
}  // namespace tickwire::test
