// Replay uploads over the lobby's HTTP (PUT /replays/NAME), with a Beast client on loopback as
// curl would send them: an authenticated upload is stored under its name and listed; each
// refusal (401, 403, 400, 415, 409, 413 by Content-Length before the body is read and by a
// chunked body past the limit) gets its status and its counter and leaves no file; a cut upload
// never shows under its name and leaves nothing behind. All the while a WebSocket player is
// served and a download arrives byte for byte. The folder keeps the newest keep_replays as
// uploads arrive, without cutting a download of a replay it deletes.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../support/pump.hpp"
#include "../support/temp_directory.hpp"
#include "tickwire/net/http_fetch.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "tickwire/net/lobby.hpp"
#include "tickwire/net/websocket_transport.hpp"
#include "tickwire/schemas/lobby_generated.h"

namespace tickwire::test {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
namespace wire = tickwire::schemas::lobby;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::uint64_t kMaxUpload = 1024 * 1024;

std::string random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes)
    c = static_cast<char>(random() & 0xff);
  return bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string hello_bytes(std::string_view nickname) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateHelloDirect(fbb, std::string(nickname).c_str());
  fbb.Finish(wire::CreateLobbyMessage(fbb, 1, 0, wire::LobbyBody::Hello, body.Union()));
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

// One request and its response over a connection of its own, as curl sends it; status 0 when no
// response arrived within a generous deadline. A server that answers before reading a body may
// close while it is still being written: the response is what counts.
template <class Body>
Response exchange(std::uint16_t port, http::request<Body> request) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  request.set(http::field::host, "127.0.0.1");
  stream.expires_after(20s);
  stream.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](beast::error_code ec) {
        if (ec) return;
        http::async_read(stream, buffer, parser, [](beast::error_code, std::size_t) {});
        http::async_write(stream, request, [](beast::error_code, std::size_t) {});
      });
  io.run();
  if (!parser.is_header_done()) return Response{};
  return parser.release();
}

http::request<http::string_body> put(const std::string& target, std::string body,
                                     const char* token = kToken,
                                     const char* type = "application/octet-stream") {
  http::request<http::string_body> request{http::verb::put, target, 11};
  if (token != nullptr) request.set(http::field::authorization, std::string("Bearer ") + token);
  if (type != nullptr) request.set(http::field::content_type, type);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

Response get(std::uint16_t port, const std::string& target) {
  return exchange(port, http::request<http::empty_body>{http::verb::get, target, 11});
}

class LobbyUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    honest_bytes_ = random_bytes(3 * 1024 * 1024 + 17, 7);
    std::ofstream(folder_ / "honest.twreplay", std::ios::binary) << honest_bytes_;

    net::LobbyConfig config;
    config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.websocket.port = 0;
    config.websocket.common.shutdown_timeout_ms = 300;
    config.replay_directory = folder_.string();
    config.upload_tokens = {kToken};
    config.max_upload_bytes = kMaxUpload;
    config.keep_replays = keep_replays_;
    config.http_burst = 1000;  // this test is one busy address, not a scan
    lobby_ = std::make_unique<net::LobbyServer>(config, net::JoinTicketIssuer::generate());
    const net::Status status = lobby_->start();
    ASSERT_TRUE(status.ok()) << status.message();
    port_ = lobby_->port();

    net::WebSocketClientConfig client;
    client.transport_security = net::WebSocketSecurity::insecure_plaintext;
    client.server_port = port_;
    client.common.framing = net::WebSocketFraming::raw;
    client.common.shutdown_timeout_ms = 200;
    auto made = net::make_websocket_client(client);
    ASSERT_TRUE(made.ok()) << made.error();
    player_ = std::move(made.value());
    ASSERT_TRUE(pump_until({{player_.get(), &player_log_}},
                           [&] { return player_->state() == net::ClientState::connected; }));
  }
  void TearDown() override {
    player_.reset();
    lobby_.reset();
  }

  // The files in the replay folder, partial ones included.
  std::vector<std::string> files() const { return folder_.names(); }
  bool has_partial_file() const {
    for (const std::string& name : files())
      if (name.starts_with(".upload-")) return true;
    return false;
  }
  // The WebSocket player is still served: a Hello gets its reply.
  void expect_player_served(std::string_view nickname) {
    const std::size_t before = player_log_.messages.size();
    const std::string hello = hello_bytes(nickname);
    ASSERT_EQ(player_->send(0, net::Delivery::reliable_ordered, bytes_of(hello)),
              net::SendResult::ok);
    ASSERT_TRUE(pump_until({{player_.get(), &player_log_}},
                           [&] { return player_log_.messages.size() > before; }));
    EXPECT_TRUE(player_log_.disconnected.empty());
  }
  // Downloads of the honest replay on another thread, each checked byte for byte, until stopped.
  void start_honest_downloads() {
    honest_ = std::thread([this] {
      do {
        const Response response = get(port_, "/replays/honest.twreplay");
        ++downloads_;
        if (response.result() != http::status::ok || response.body() != honest_bytes_) {
          ++bad_downloads_;
        }
      } while (!stop_downloads_);
    });
  }
  void stop_honest_downloads() {
    stop_downloads_ = true;
    honest_.join();
    EXPECT_GE(downloads_.load(), 1);
    EXPECT_EQ(bad_downloads_.load(), 0);
  }

  std::size_t keep_replays_ = 50;  // the default
  const TempDirectory folder_{"tickwire-upload"};
  std::string honest_bytes_;
  std::unique_ptr<net::LobbyServer> lobby_;
  std::uint16_t port_ = 0;
  std::unique_ptr<net::ClientTransport> player_;
  EventLog player_log_;
  std::thread honest_;
  std::atomic<bool> stop_downloads_{false};
  std::atomic<int> downloads_{0};
  std::atomic<int> bad_downloads_{0};
};

TEST_F(LobbyUploadTest, an_authenticated_upload_is_stored_under_its_name_and_listed) {
  start_honest_downloads();
  const std::string replay = random_bytes(300'001, 1);
  const Response stored = exchange(port_, put("/replays/bug-42.twreplay", replay));
  EXPECT_EQ(stored.result(), http::status::created) << stored;
  EXPECT_EQ(stored[http::field::location], "/replays/bug-42.twreplay");
  stop_honest_downloads();

  EXPECT_TRUE(read_file(folder_ / "bug-42.twreplay") == replay);
  EXPECT_EQ(files(), (std::vector<std::string>{"bug-42.twreplay", "honest.twreplay"}));
  const Response list = get(port_, "/api/replays");
  EXPECT_NE(list.body().find("\"url\":\"/replays/bug-42.twreplay\""), std::string::npos) << list;
  EXPECT_NE(list.body().find("\"bytes\":300001"), std::string::npos) << list;
  EXPECT_TRUE(get(port_, "/replays/bug-42.twreplay").body() == replay);
  EXPECT_EQ(lobby_->counters().uploads_stored, 1u);
  expect_player_served("after_upload");
}

TEST_F(LobbyUploadTest, refused_uploads_get_their_status_and_counter_and_leave_no_file) {
  std::ofstream(folder_ / "taken.twreplay", std::ios::binary) << "first";
  start_honest_downloads();
  const std::string body = random_bytes(1000, 2);

  const Response anonymous = exchange(port_, put("/replays/a.twreplay", body, nullptr));
  EXPECT_EQ(anonymous.result(), http::status::unauthorized) << anonymous;
  EXPECT_EQ(anonymous[http::field::www_authenticate], "Bearer realm=\"tickwire-uploads\"");
  const std::string wrong(64, 'x');
  EXPECT_EQ(exchange(port_, put("/replays/a.twreplay", body, wrong.c_str())).result(),
            http::status::forbidden);
  EXPECT_EQ(exchange(port_, put("/replays/notes.txt", body)).result(), http::status::bad_request);
  EXPECT_EQ(exchange(port_, put("/replays/a.b.twreplay", body)).result(),
            http::status::bad_request);
  EXPECT_EQ(exchange(port_, put("/replays/a.twreplay", body, kToken, "text/html")).result(),
            http::status::unsupported_media_type);
  EXPECT_EQ(exchange(port_, put("/replays/taken.twreplay", body)).result(), http::status::conflict);
  EXPECT_EQ(exchange(port_, put("/replays/../a.twreplay", body)).result(), http::status::forbidden);

  // A length over the limit is refused on the header alone: no byte of the body is ever sent.
  http::request<http::empty_body> huge{http::verb::put, "/replays/huge.twreplay", 11};
  huge.set(http::field::authorization, std::string("Bearer ") + kToken);
  huge.set(http::field::content_type, "application/octet-stream");
  huge.content_length(100 * kMaxUpload);
  const Response too_large = exchange(port_, std::move(huge));
  EXPECT_EQ(too_large.result(), http::status::payload_too_large) << too_large;
  // A chunked body, whose length nobody declared, is stopped when it passes the limit.
  auto chunked = put("/replays/chunked.twreplay", random_bytes(2 * kMaxUpload, 3));
  chunked.chunked(true);
  EXPECT_EQ(exchange(port_, std::move(chunked)).result(), http::status::payload_too_large);
  stop_honest_downloads();

  EXPECT_EQ(files(), (std::vector<std::string>{"honest.twreplay", "taken.twreplay"}));
  EXPECT_EQ(read_file(folder_ / "taken.twreplay"), "first");
  const net::LobbyCounters counters = lobby_->counters();
  EXPECT_EQ(counters.upload_unauthenticated, 2u);
  EXPECT_EQ(counters.upload_bad_request, 3u);
  EXPECT_EQ(counters.upload_exists, 1u);
  EXPECT_EQ(counters.upload_too_large, 2u);
  EXPECT_EQ(counters.http_path_refused, 1u);
  EXPECT_EQ(counters.uploads_stored, 0u);
  expect_player_served("after_refusals");
}

TEST_F(LobbyUploadTest, a_cut_upload_never_shows_under_its_name_and_leaves_nothing) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  const std::string head = std::string("PUT /replays/cut.twreplay HTTP/1.1\r\nHost: x\r\n") +
                           "Authorization: Bearer " + kToken +
                           "\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Length: 500000\r\n\r\n";
  asio::write(socket, asio::buffer(head + random_bytes(200'000, 4)));
  // The body so far is on disk under a hidden partial name only.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!has_partial_file() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(has_partial_file());
  EXPECT_FALSE(fs::exists(folder_ / "cut.twreplay"));
  EXPECT_EQ(get(port_, "/api/replays").body().find("cut"), std::string::npos);
  expect_player_served("during_upload");

  socket.close();
  while (lobby_->counters().upload_cut == 0 && std::chrono::steady_clock::now() < deadline + 10s)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(lobby_->counters().upload_cut, 1u);
  EXPECT_EQ(files(), std::vector<std::string>{"honest.twreplay"});
  EXPECT_EQ(lobby_->counters().uploads_stored, 0u);
  expect_player_served("after_cut");
}

// HttpFetch's PUT, as a game server sends its replays: the file stored whole with the right token;
// refused on the header (a wrong token, a name taken) before any of the body is sent.
TEST_F(LobbyUploadTest, http_fetch_uploads_a_file_and_sends_no_body_when_refused) {
  const TempDirectory sender("tickwire-upload-sender");
  const fs::path local = sender / "local.twreplay";
  const std::string replay = random_bytes(300'001, 3);
  std::ofstream(local, std::ios::binary) << replay;
  auto upload = [&](const std::string& name, const std::string& token) {
    net::HttpFetchConfig config;
    config.host = "127.0.0.1";
    config.port = port_;
    config.target = "/replays/" + name;
    config.transport_security = net::WebSocketSecurity::insecure_plaintext;
    config.upload_from = local.string();
    config.bearer_token = token;
    auto fetch = net::HttpFetch::start(config);
    EXPECT_TRUE(fetch.ok()) << fetch.error();
    if (!fetch.ok()) return net::HttpFetch::Progress{};
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while ((*fetch)->progress().state == net::HttpFetch::State::running &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return (*fetch)->progress();
  };

  const auto stored = upload("fetched.twreplay", kToken);
  EXPECT_EQ(stored.state, net::HttpFetch::State::done) << stored.error;
  EXPECT_EQ(stored.status, 201);
  EXPECT_EQ(stored.sent, replay.size());
  EXPECT_TRUE(read_file(folder_ / "fetched.twreplay") == replay);

  const auto wrong_token = upload("other.twreplay", std::string(64, 'x'));
  EXPECT_EQ(wrong_token.state, net::HttpFetch::State::failed);
  EXPECT_EQ(wrong_token.status, 403) << wrong_token.error;
  EXPECT_EQ(wrong_token.sent, 0u);
  const auto taken = upload("fetched.twreplay", kToken);
  EXPECT_EQ(taken.status, 409) << taken.error;
  EXPECT_EQ(taken.sent, 0u);
  EXPECT_EQ(files(), (std::vector<std::string>{"fetched.twreplay", "honest.twreplay"}));
  EXPECT_EQ(lobby_->counters().uploads_stored, 1u);
  expect_player_served("after_fetch_upload");
}

// A lobby that keeps 3 replays.
class LobbyUploadPruneTest : public LobbyUploadTest {
 protected:
  LobbyUploadPruneTest() { keep_replays_ = 3; }
};

TEST_F(LobbyUploadPruneTest, uploads_keep_the_newest_replays_and_a_download_under_way_is_not_cut) {
  // The oldest replay, big enough that its download cannot be all in the sockets' buffers (the
  // client's receive buffer is small, the server's send buffer at most 4 MiB here) when it is
  // deleted; then the honest one.
  const std::string big = random_bytes(24 * 1024 * 1024, 9);
  std::ofstream(folder_ / "big.twreplay", std::ios::binary) << big;
  fs::last_write_time(folder_ / "big.twreplay", fs::file_time_type::clock::now() - 2h);
  fs::last_write_time(folder_ / "honest.twreplay", fs::file_time_type::clock::now() - 1h);

  // A download of big.twreplay, read 64 KiB far and then left waiting.
  asio::io_context io;
  tcp::socket socket(io);
  socket.open(tcp::v4());
  socket.set_option(asio::socket_base::receive_buffer_size(8192));
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  asio::write(socket,
              asio::buffer(std::string("GET /replays/big.twreplay HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::string received;
  std::array<char, 8192> buffer{};
  while (received.size() < 64 * 1024)
    received.append(buffer.data(), socket.read_some(asio::buffer(buffer)));

  // Three uploads: the second pushes big.twreplay out, the third honest.twreplay.
  const std::string r1 = random_bytes(20'000, 11), r2 = random_bytes(20'000, 12),
                    r3 = random_bytes(20'000, 13);
  EXPECT_EQ(exchange(port_, put("/replays/r1.twreplay", r1)).result(), http::status::created);
  EXPECT_EQ(files(), (std::vector<std::string>{"big.twreplay", "honest.twreplay", "r1.twreplay"}));
  EXPECT_EQ(exchange(port_, put("/replays/r2.twreplay", r2)).result(), http::status::created);
  EXPECT_EQ(files(), (std::vector<std::string>{"honest.twreplay", "r1.twreplay", "r2.twreplay"}));
  EXPECT_EQ(exchange(port_, put("/replays/r3.twreplay", r3)).result(), http::status::created);
  EXPECT_EQ(files(), (std::vector<std::string>{"r1.twreplay", "r2.twreplay", "r3.twreplay"}));
  EXPECT_EQ(lobby_->counters().replays_pruned, 2u);
  EXPECT_EQ(lobby_->counters().uploads_stored, 3u);

  // The list and the downloads show the newest three only.
  const Response list = get(port_, "/api/replays");
  EXPECT_EQ(list.body().find("big"), std::string::npos) << list;
  EXPECT_EQ(list.body().find("honest"), std::string::npos) << list;
  EXPECT_NE(list.body().find("/replays/r1.twreplay"), std::string::npos) << list;
  EXPECT_EQ(get(port_, "/replays/big.twreplay").result(), http::status::not_found);
  EXPECT_TRUE(get(port_, "/replays/r3.twreplay").body() == r3);
  expect_player_served("after_pruning");

  // The download begun before big.twreplay was deleted arrives whole, byte for byte.
  const std::size_t header_end = received.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_TRUE(received.starts_with("HTTP/1.1 200")) << received.substr(0, header_end);
  EXPECT_NE(received.find("Content-Length: " + std::to_string(big.size())), std::string::npos);
  const std::size_t total = header_end + 4 + big.size();
  beast::error_code ec;
  while (received.size() < total && !ec)
    received.append(buffer.data(), socket.read_some(asio::buffer(buffer), ec));
  ASSERT_EQ(received.size(), total) << ec.message();
  EXPECT_TRUE(received.compare(header_end + 4, big.size(), big) == 0) << "the download was cut";
}

TEST(LobbyUploadConfig, a_short_token_or_an_absurd_limit_is_refused_by_name) {
  net::LobbyConfig config;
  config.websocket.transport_security = net::WebSocketSecurity::insecure_plaintext;
  config.upload_tokens = {"short"};
  net::Status status = config.validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("upload_tokens"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("short"), std::string::npos) << "the secret is in the message";
  config.upload_tokens = {kToken};
  config.max_upload_bytes = 10;
  status = config.validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("max_upload_bytes"), std::string::npos) << status.message();
  config.max_upload_bytes = kMaxUpload;
  config.keep_replays = 2'000'000;
  status = config.validate();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("keep_replays = 2000000"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace tickwire::test
