#pragma once
// What the files of the ENet endpoint share and nothing else needs: the channel layout, the
// control messages, and which endpoint ENet is servicing on this thread.

#include <enet/enet.h>

#include <cstddef>
#include <cstdint>

#include "tickwire/net/types.hpp"

namespace tickwire::net::enet_detail {

class EnetEndpoint;

// ENet channel 0 is Tickwire's own control channel; the game's channel c is ENet channel c + 1.
// Channel 0 exists whatever channel counts the two ends were configured with, so a mismatch can
// be detected and refused instead of hanging the handshake.
inline constexpr enet_uint8 kControlChannel = 0;
inline enet_uint8 enet_channel(Channel channel) {
  return static_cast<enet_uint8>(channel + 1);
}

// The server's first message on the control channel. A client reports `connected` only once it
// arrives, so a client that the server turns away (full, wrong protocol) sees a single
// `disconnected` with the reason instead of a brief connection.
inline constexpr std::byte kWelcome{0x57};

std::uint32_t packet_flags(Delivery delivery);

// ENet calls its intercept and checksum hooks with nothing that leads back to us, so the endpoint
// being serviced is found through this. A host is serviced (and sends) only inside the endpoint's
// own calls, on the caller's thread, each of which opens a scope.
EnetEndpoint* servicing_endpoint();

class ServicingScope {
 public:
  explicit ServicingScope(EnetEndpoint* endpoint);
  ~ServicingScope();
  ServicingScope(const ServicingScope&) = delete;
  ServicingScope& operator=(const ServicingScope&) = delete;

 private:
  EnetEndpoint* previous_;
};

}  // namespace tickwire::net::enet_detail
