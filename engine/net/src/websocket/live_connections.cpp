#include "websocket/live_connections.hpp"

#include <vector>

namespace tickwire::net::websocket_detail {

bool LiveConnections::add(PeerId peer, std::weak_ptr<PeerLink> link) {
  std::lock_guard lock(mutex_);
  if (closing_) return false;
  links_.emplace(peer, std::move(link));
  return true;
}

void LiveConnections::remove(PeerId peer) {
  bool now_empty = false;
  {
    std::lock_guard lock(mutex_);
    links_.erase(peer);
    now_empty = links_.empty();
  }
  if (now_empty) emptied_.notify_all();
}

void LiveConnections::close_all(DisconnectReason reason) {
  std::vector<std::shared_ptr<PeerLink>> to_close;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (const auto& [peer, weak] : links_) {
      if (auto link = weak.lock()) to_close.push_back(std::move(link));
    }
  }
  // Outside the lock: close() only posts, but a connection may finish (and remove itself) at once.
  for (const auto& link : to_close)
    link->close(reason);
}

void LiveConnections::wait_until_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  emptied_.wait_for(lock, timeout, [&] { return links_.empty(); });
}

}  // namespace tickwire::net::websocket_detail
