#pragma once
// The open connections of one transport, as the io thread registers and removes them, so that
// destroying the transport can close each with a reason and wait for the close handshakes.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "websocket/peer_link.hpp"

namespace tickwire::net::websocket_detail {

class LiveConnections {
 public:
  // False once close_all() has run: the connection must be dropped, not started.
  [[nodiscard]] bool add(PeerId peer, std::weak_ptr<PeerLink> link);
  void remove(PeerId peer);
  // Refuses further add()s and closes every registered connection with `reason`.
  void close_all(DisconnectReason reason);
  // Waits until every connection has been removed, or `timeout` has passed.
  void wait_until_empty(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable emptied_;
  std::map<PeerId, std::weak_ptr<PeerLink>> links_;
  bool closing_ = false;
};

}  // namespace tickwire::net::websocket_detail
