#pragma once
// Which connections a server lets in: pending handshakes in total and per address when the TCP
// connection arrives, open connections in total and per address when it asks to upgrade.
// Thread-safe; addresses are plain strings (IPv4-mapped IPv6 addresses already turned into IPv4),
// so this compiles without Asio.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tickwire::net::websocket_detail {

struct AdmissionLimits {
  std::size_t max_connections = 0;
  std::size_t max_connections_per_address = 0;
  std::size_t max_pending_handshakes = 0;
  std::size_t connection_burst_per_address = 0;
  double connections_per_address_per_second = 0;
};

class ConnectionAdmission {
 public:
  enum class Verdict { admitted, server_full, shutting_down };
  enum class Arrival { accepted, too_many_pending, too_fast };

  explicit ConnectionAdmission(AdmissionLimits limits) : limits_(limits) {}

  // A TCP connection arrived at `now_ms` (steady clock). Unless accepted, close it at once (too
  // many pending handshakes, or its address is over its connection rate). When accepted,
  // end_handshake() must follow once it has upgraded or gone.
  [[nodiscard]] Arrival begin_handshake(const std::string& address, std::uint64_t now_ms);
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
  // Takes one token of `address`'s connection rate bucket, if it has one.
  bool take_rate_token(const std::string& address, std::uint64_t now_ms);

  struct RateBucket {
    double tokens = 0;
    std::uint64_t updated_ms = 0;
  };
  // Past this many addresses the rate table starts over: a scan from many addresses cannot grow
  // it without bound (it then forgets who was limited, which only errs on being lenient).
  static constexpr std::size_t kMaxRateAddresses = 4096;

  const AdmissionLimits limits_;
  std::mutex mutex_;
  // Only addresses with a pending or open connection, so its size is bounded by the caps.
  std::map<std::string, PerAddress> addresses_;
  std::unordered_map<std::string, RateBucket> rates_;
  std::size_t pending_ = 0;
  std::size_t open_ = 0;
  bool shutting_down_ = false;
};

}  // namespace tickwire::net::websocket_detail
