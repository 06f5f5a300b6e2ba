#pragma once
// Which connections a server lets in: pending handshakes in total and per address when the TCP
// connection arrives, open connections in total and per address when it asks to upgrade.
// Thread-safe; addresses are plain strings (IPv4-mapped IPv6 addresses already turned into IPv4),
// so this compiles without Asio.

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace tickwire::net::websocket_detail {

struct AdmissionLimits {
  std::size_t max_connections = 0;
  std::size_t max_connections_per_address = 0;
  std::size_t max_pending_handshakes = 0;
};

class ConnectionAdmission {
 public:
  enum class Verdict { admitted, server_full, shutting_down };

  explicit ConnectionAdmission(AdmissionLimits limits) : limits_(limits) {}

  // A TCP connection arrived. False: close it at once (too many pending handshakes). When true,
  // end_handshake() must follow once it has upgraded or gone.
  [[nodiscard]] bool begin_handshake(const std::string& address);
  void end_handshake(const std::string& address);
  // The connection asks to upgrade. When admitted, release_connection() must follow when it ends.
  Verdict admit_connection(const std::string& address);
  void release_connection(const std::string& address);
  // From now on every upgrade gets shutting_down.
  void shut_down();

 private:
  struct PerAddress {
    std::size_t pending = 0;
    std::size_t open = 0;
  };
  void forget_if_unused(std::map<std::string, PerAddress>::iterator it);

  const AdmissionLimits limits_;
  std::mutex mutex_;
  // Only addresses with a pending or open connection, so its size is bounded by the caps.
  std::map<std::string, PerAddress> addresses_;
  std::size_t pending_ = 0;
  std::size_t open_ = 0;
  bool shutting_down_ = false;
};

}  // namespace tickwire::net::websocket_detail
