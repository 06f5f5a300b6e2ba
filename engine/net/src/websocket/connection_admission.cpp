#include "websocket/connection_admission.hpp"

namespace tickwire::net::websocket_detail {

void ConnectionAdmission::forget_if_unused(std::map<std::string, PerAddress>::iterator it) {
  if (it->second.pending == 0 && it->second.open == 0) addresses_.erase(it);
}

bool ConnectionAdmission::begin_handshake(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (shutting_down_ || pending_ >= limits_.max_pending_handshakes) return false;
  PerAddress& counts = addresses_[address];
  if (counts.pending >= limits_.max_connections_per_address) {
    forget_if_unused(addresses_.find(address));
    return false;
  }
  ++counts.pending;
  ++pending_;
  return true;
}

void ConnectionAdmission::end_handshake(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = addresses_.find(address);
  if (it == addresses_.end() || it->second.pending == 0) return;
  --it->second.pending;
  --pending_;
  forget_if_unused(it);
}

ConnectionAdmission::Verdict ConnectionAdmission::admit_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return Verdict::shutting_down;
  PerAddress& counts = addresses_[address];
  if (open_ >= limits_.max_connections || counts.open >= limits_.max_connections_per_address) {
    forget_if_unused(addresses_.find(address));
    return Verdict::server_full;
  }
  ++counts.open;
  ++open_;
  return Verdict::admitted;
}

void ConnectionAdmission::release_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = addresses_.find(address);
  if (it == addresses_.end() || it->second.open == 0) return;
  --it->second.open;
  --open_;
  forget_if_unused(it);
}

void ConnectionAdmission::shut_down() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
}

}  // namespace tickwire::net::websocket_detail
