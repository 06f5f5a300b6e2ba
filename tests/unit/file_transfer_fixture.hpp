#pragma once
// A server and clients on the loopback network with a hand-driven clock, a FileTransfer on each,
// and a scratch directory per test: file transfers run in simulated time, the same every run.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../support/temp_directory.hpp"
#include "../support/transfer_pump.hpp"
#include "tickwire/net/file_transfer.hpp"
#include "tickwire/net/loopback_transport.hpp"

namespace tickwire::test {

class FileTransferTest : public ::testing::Test {
 protected:
  // A peer on the loopback network: a client transport with a FileTransfer.
  struct Client {
    std::unique_ptr<net::ClientTransport> transport;
    std::unique_ptr<net::FileTransfer> files;
    TransferSide side;
  };

  void make(net::LoopbackConfig config = {}) {
    config.clock = [this] { return now_us_; };
    network_ = std::move(net::LoopbackNetwork::create(std::move(config)).value());
    server_ = std::move(network_->make_server().value());
  }

  net::FileTransferConfig transfer_config() {
    net::FileTransferConfig config;
    config.clock = [this] { return now_us_; };
    // Transfers here take tens of simulated milliseconds: report progress often enough to see it.
    config.progress_interval_ms = 2;
    return config;
  }

  // transfer_config() writing received files into the test's scratch directory.
  net::FileTransferConfig receiving_config() {
    net::FileTransferConfig config = transfer_config();
    config.receive_directory = directory_.path();
    return config;
  }

  void start_server_files(net::FileTransferConfig config) {
    auto made = net::FileTransfer::create(*server_, std::move(config));
    ASSERT_TRUE(made.ok()) << made.error();
    server_files_ = std::move(made.value());
    server_side_.transport = server_.get();
    server_side_.files = server_files_.get();
  }

  // A client that has connected (both sides saw it), with a FileTransfer of `config`.
  std::unique_ptr<Client> connect(net::FileTransferConfig config) {
    auto client = std::make_unique<Client>();
    client->transport = network_->make_client();
    client->files =
        std::move(net::FileTransfer::create(*client->transport, std::move(config)).value());
    client->side.transport = client->transport.get();
    client->side.files = client->files.get();
    clients_.push_back(client.get());
    const std::size_t before = server_side_.log.connected.size();
    run_until([&] {
      return !client->side.log.connected.empty() && server_side_.log.connected.size() > before;
    });
    return client;
  }

  // Forgets a client about to be destroyed, so that run() does not pump it.
  void forget(Client& client) { std::erase(clients_, &client); }

  // The server's id for the client connected last.
  net::PeerId last_peer() const { return server_side_.log.connected.back(); }

  void step() {
    server_side_.pump();
    for (Client* client : clients_)
      client->side.pump();
    if (on_step_) on_step_();
    now_us_ += 1000;
  }
  // Runs 1 ms steps of simulated time until `done` or `limit_ms`; returns done().
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms = 600'000) {
    for (std::uint64_t i = 0; i < limit_ms; ++i) {
      if (done()) return true;
      step();
    }
    return done();
  }
  void run_for(std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i)
      step();
  }

  std::uint64_t now_us_ = 0;
  std::unique_ptr<net::LoopbackNetwork> network_;
  std::unique_ptr<net::ServerTransport> server_;
  std::unique_ptr<net::FileTransfer> server_files_;
  TransferSide server_side_;
  std::vector<Client*> clients_;
  std::function<void()> on_step_;  // runs once per step: gameplay traffic
  TempDirectory directory_{"tickwire-files"};
};

}  // namespace tickwire::test
