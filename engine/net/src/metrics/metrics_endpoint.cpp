// MetricsEndpoint: the WebSocket server's listener with upgrades turned off and a handler for
// /metrics and /healthz, so that the endpoint has the same per-address limits and deadlines as
// every other port of Tickwire's.

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "tickwire/net/metrics.hpp"
#include "websocket/websocket_server.hpp"

namespace tickwire::net {
namespace {

namespace http = boost::beast::http;
using websocket_detail::HttpRequest;
using websocket_detail::HttpResponse;

// A scraper and a health checker or two: a handful of connections is plenty.
constexpr std::size_t kMaxConnections = 16;
constexpr std::size_t kMaxConnectionsPerAddress = 4;

HttpResponse text(const HttpRequest& request, http::status status, std::string content_type,
                  std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, std::move(content_type));
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

class Endpoint : public MetricsEndpoint {
 public:
  explicit Endpoint(std::unique_ptr<websocket_detail::WebSocketServerTransport> server)
      : server_(std::move(server)) {}
  std::uint16_t port() const override { return server_->port(); }

 private:
  std::unique_ptr<websocket_detail::WebSocketServerTransport> server_;
};

}  // namespace

Status MetricsEndpointConfig::validate() const {
  if (bind_address.empty()) return Status::error("MetricsEndpointConfig.bind_address is empty");
  return {};
}

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(const MetricsEndpointConfig& config,
                                                                RenderMetrics render_metrics,
                                                                CheckHealth check_health) {
  if (Status status = config.validate(); !status.ok()) return status;
  if (!render_metrics || !check_health) {
    return Status::error("MetricsEndpoint::start needs both callbacks");
  }
  auto handler = [render = std::move(render_metrics), health = std::move(check_health)](
                     const HttpRequest& request, const std::string& /*client_address*/) {
    const bool readable =
        request.method() == http::verb::get || request.method() == http::verb::head;
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/healthz") {
      return text(request, http::status::not_found, "text/plain; charset=utf-8",
                  "Not found: this port serves /metrics and /healthz.\n");
    }
    if (!readable) {
      HttpResponse response = text(request, http::status::method_not_allowed,
                                   "text/plain; charset=utf-8", "Use GET.\n");
      response.set(http::field::allow, "GET, HEAD");
      return response;
    }
    if (path == "/metrics") {
      return text(request, http::status::ok, "text/plain; version=0.0.4; charset=utf-8", render());
    }
    if (const std::optional<std::string> problem = health()) {
      return text(request, http::status::service_unavailable, "text/plain; charset=utf-8",
                  *problem + "\n");
    }
    return text(request, http::status::ok, "text/plain; charset=utf-8", "ok\n");
  };
  WebSocketServerConfig server;
  server.bind_address = config.bind_address;
  server.port = config.port;
  server.max_connections = kMaxConnections;
  server.max_connections_per_address = kMaxConnectionsPerAddress;
  server.max_pending_handshakes = kMaxConnections;
  // Plain HTTP only: no gameplay sessions, so no tickets; no TLS (it listens on loopback by
  // default, and scrapers on a private network read it as Prometheus does node exporters).
  server.security = SessionSecurity::plaintext_for_development;
  server.transport_security = WebSocketSecurity::insecure_plaintext;
  websocket_detail::WebSocketServerTuning tuning;
  tuning.accept_upgrades = false;
  auto made = websocket_detail::make_websocket_server(server, std::move(handler), tuning);
  if (!made.ok()) return Status::error("metrics endpoint: " + made.error());
  return std::unique_ptr<MetricsEndpoint>(std::make_unique<Endpoint>(std::move(made.value())));
}

}  // namespace tickwire::net
