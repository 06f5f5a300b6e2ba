#pragma once
// The CPU cost of session encryption alone, apart from any transport and socket: sealing and
// opening one batch of messages, and the per-datagram tag and replay check, through the very code
// the ENet transport calls (engine/net/src/session/session_crypto.hpp). Next to the throughput
// ratios it says how much of Tickwire's cost per message is cryptography.

#include <cstddef>
#include <string>
#include <vector>

namespace tickwire::bench {

// Sealing and then opening one batch (one ENet packet) of `messages` messages of `message_size`
// bytes each, framed as the transport frames them.
struct SealCost {
  std::string cipher;
  std::size_t message_size = 0;
  std::size_t messages = 0;
  std::size_t body_bytes = 0;  // the batch's body: the messages and their length prefixes
  double seal_ns = 0;          // CPU time per batch
  double open_ns = 0;
  bool opened = false;  // every sealed batch opened again (false: the measurement is wrong)
};

// A step the transport takes once per datagram, whatever it carries.
struct DatagramCost {
  std::string operation;
  std::size_t bytes = 0;  // datagram size it was timed on; 0 if it does not read the datagram
  double ns = 0;          // CPU time per datagram
};

struct CryptoCosts {
  std::vector<SealCost> seals;
  std::vector<DatagramCost> per_datagram;
  int repetitions = 0;
};

// Each figure is the median over `repetitions` of at least `seconds_each` of CPU time.
CryptoCosts measure_crypto_costs(int repetitions, double seconds_each);
void print_crypto_costs(const CryptoCosts& costs);

}  // namespace tickwire::bench
