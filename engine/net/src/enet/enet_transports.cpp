// The server and client roles over EnetEndpoint, and their factories.

#include <memory>
#include <string>

#include "enet/enet_endpoint.hpp"
#include "forwarding_transport.hpp"
#include "ticket_gate.hpp"
#include "tickwire/net/log.hpp"

namespace tickwire::net {
namespace enet_detail {
namespace {

// Both roles forward the shared Transport interface to the endpoint.
template <typename Role>
using EnetTransport = detail::ForwardingTransport<Role, EnetEndpoint>;

class EnetServer final : public EnetTransport<ServerTransport>, public detail::TicketGate {
 public:
  using EnetTransport<ServerTransport>::EnetTransport;
  std::uint16_t port() const override { return target_->host()->address.port; }
  std::optional<JoinTicket> ticket_of(PeerId peer) const override {
    return target_->ticket_of(peer);
  }
  const std::optional<TicketRequirement>& ticket_requirement() const override {
    return target_->ticket_requirement();
  }
  JoinTicketVerifier* ticket_verifier() override { return target_->ticket_verifier(); }
};

class EnetClient final : public EnetTransport<ClientTransport> {
 public:
  using EnetTransport<ClientTransport>::EnetTransport;
  ClientState state() const override { return target_->client_state(); }
  PeerId server() const override { return target_->server_peer(); }
};

// ENet 1.3.17 gives a peer its host's MTU only when it resets the peer, which enet_host_create
// does before we can set host->mtu; without this, every peer's first connection ran at ENet's
// default 1400 whatever the config said, and later ones at the configured MTU.
void set_mtu(ENetHost* host, std::uint32_t mtu) {
  host->mtu = mtu;
  for (std::size_t i = 0; i < host->peerCount; ++i)
    host->peers[i].mtu = mtu;
}

// Hosts beyond max_peers, so that a server can still answer a few connection attempts with
// `server_full` instead of ignoring them.
constexpr std::size_t kRefusalSlots = 4;

}  // namespace
}  // namespace enet_detail

Result<std::unique_ptr<ServerTransport>> make_enet_server(const EnetServerConfig& config) {
  using namespace enet_detail;
  if (Status status = config.validate(); !status.ok()) return status;
  ENetAddress address{};
  address.port = config.port;
  acquire_enet_library();
  if (enet_address_set_host_ip(&address, config.bind_address.c_str()) != 0) {
    release_enet_library();
    return Status::error("EnetServerConfig.bind_address '" + config.bind_address +
                         "' is not an IPv4 address");
  }
  const EnetCommonConfig& common = config.common;
  ENetHost* host =
      enet_host_create(&address, config.max_peers + kRefusalSlots, common.channel_count + 1,
                       common.incoming_bandwidth, common.outgoing_bandwidth);
  if (host == nullptr) {
    release_enet_library();
    return Status::error("cannot bind UDP " + config.bind_address + ":" +
                         std::to_string(config.port) +
                         " (in use, or not an address of this machine); pick another port or 0");
  }
  set_mtu(host, common.mtu);
  host->duplicatePeers = config.max_peers_per_address;
  AdmissionPolicy admission{config.max_peers,
                            config.max_peers_per_address,
                            config.max_pending_handshakes,
                            config.connect_burst_per_address,
                            config.connect_rate_per_address,
                            config.require_ticket,
                            config.security,
                            config.cookie_lifetime_ms};
  auto endpoint =
      std::make_unique<EnetEndpoint>(host, common, EnetEndpoint::Role::server, admission);
  if (config.security == SessionSecurity::plaintext_for_development) {
    log(LogLevel::warning, "enet",
        "server on UDP port " + std::to_string(host->address.port) +
            " runs sessions in plaintext (security = plaintext_for_development): anyone on the "
            "network path can read, forge and cut off its traffic; for development and LAN tests "
            "only");
  }
  return std::unique_ptr<ServerTransport>(std::make_unique<EnetServer>(std::move(endpoint)));
}

Result<std::unique_ptr<ClientTransport>> make_enet_client(const EnetClientConfig& config) {
  using namespace enet_detail;
  if (Status status = config.validate(); !status.ok()) return status;
  acquire_enet_library();
  ENetAddress address{};
  address.port = config.server_port;
  if (enet_address_set_host(&address, config.server_host.c_str()) != 0) {
    release_enet_library();
    return Status::error("EnetClientConfig.server_host '" + config.server_host +
                         "' does not resolve to an IPv4 address");
  }
  const EnetCommonConfig& common = config.common;
  ENetHost* host = enet_host_create(nullptr, 1, common.channel_count + 1, common.incoming_bandwidth,
                                    common.outgoing_bandwidth);
  if (host == nullptr) {
    release_enet_library();
    return Status::error("cannot open a UDP socket for the client");
  }
  set_mtu(host, common.mtu);
  auto endpoint =
      std::make_unique<EnetEndpoint>(host, common, EnetEndpoint::Role::client, std::nullopt);
  endpoint->begin_connect(ClientCredentials{address, config.connect_timeout_ms, config.join_ticket,
                                            config.session_keys});
  return std::unique_ptr<ClientTransport>(std::make_unique<EnetClient>(std::move(endpoint)));
}

}  // namespace tickwire::net
