// FileTransfer on every transport a game can get (the harnesses of the transport contract):
// a push from the server and an upload from the client, at once, arrive whole. The server's send
// queue cap (256 KiB here) is below the transfer window (512 KiB), so the window also meets a
// full queue on the way.

#include <gtest/gtest.h>

#include "../support/transfer_pump.hpp"
#include "tickwire/net/file_transfer.hpp"
#include "transport_harness.hpp"

namespace tickwire::test {
namespace {

using net::TransferEventType;

template <typename Harness>
class FileTransferOnEveryTransport : public ::testing::Test {
 protected:
  Harness harness_;
};

TYPED_TEST_SUITE(FileTransferOnEveryTransport, EveryTransport, HarnessName);

TYPED_TEST(FileTransferOnEveryTransport, a_push_and_an_upload_arrive_whole_at_once) {
  this->harness_.start_server({});
  net::FileTransferConfig server_config;
  server_config.receive.require_ticket = TypeParam::kAdmitsByTicket;
  server_config.receive.allowed_kinds = {"replay"};
  auto server_files =
      std::move(net::FileTransfer::create(this->harness_.server(), server_config).value());
  TransferSide server_side{&this->harness_.server(), server_files.get()};

  auto client = this->harness_.make_client({});
  auto client_files = std::move(net::FileTransfer::create(*client, {}).value());
  TransferSide client_side{client.get(), client_files.get()};
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] { return !client_side.log.connected.empty() && !server_side.log.connected.empty(); },
      std::chrono::seconds(20)));

  const auto pushed = pattern(1, 700 * 1024);
  const auto uploaded = pattern(2, 600 * 1024 + 7);
  ASSERT_TRUE(server_files->send_blob(server_side.log.connected.back(), pushed, "map.bin", "map"));
  ASSERT_TRUE(client_files->send_blob(client->server(), uploaded, "run.replay", "replay"));
  ASSERT_TRUE(pump_sides_until(
      {&server_side, &client_side},
      [&] {
        return client_side.count(TransferEventType::completed) +
                       client_side.count(TransferEventType::failed) ==
                   2 &&
               server_side.count(TransferEventType::completed) +
                       server_side.count(TransferEventType::failed) ==
                   2;
      },
      std::chrono::seconds(60)));

  std::vector<std::byte> got_push;
  std::vector<std::byte> got_upload;
  for (const auto& event : client_side.events) {
    if (event.type == TransferEventType::completed &&
        event.direction == net::TransferDirection::receiving) {
      got_push = event.blob;
    }
  }
  for (const auto& event : server_side.events) {
    if (event.type == TransferEventType::completed &&
        event.direction == net::TransferDirection::receiving) {
      got_upload = event.blob;
    }
  }
  EXPECT_EQ(got_push, pushed);
  EXPECT_EQ(got_upload, uploaded);
  EXPECT_EQ(client_side.count(TransferEventType::failed), 0u);
  EXPECT_EQ(server_side.count(TransferEventType::failed), 0u);
}

}  // namespace
}  // namespace tickwire::test
