// Fuzz target for what LAN discovery reads: beacons from the network (any host on the LAN can
// send them) and the pin file. The first byte picks which reader gets the rest. The signature
// check is libsodium's over fixed-size arrays and is left out: it would only slow the search.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "discovery/beacon_codec.hpp"
#include "discovery/server_pins.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace discovery = tickwire::net::discovery_detail;
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    (void)discovery::read_beacon(std::as_bytes(std::span(data + 1, size - 1)),
                                 tickwire::net::LanBrowserConfig{}.protocol_id);
  } else {
    (void)discovery::ServerPins::parse(
        std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  }
  return 0;
}
