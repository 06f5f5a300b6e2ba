// Loading certificates, keys and CA files into OpenSSL contexts, with errors that name the file
// and what OpenSSL found wrong with it.

#include "websocket/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <fstream>

namespace tickwire::net::websocket_detail {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the last failure (and its queue emptied, so the next one starts clean).
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    if (reason.empty()) {
      const char* text = ERR_reason_error_string(code);
      reason = text != nullptr ? text : "unknown OpenSSL error";
    }
  }
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

Status unreadable(const char* field, const std::string& file) {
  return Status::error(std::string(field) + " '" + file +
                       "' cannot be opened: check the path and that this user may read it");
}

bool readable(const std::string& file) {
  return std::ifstream(file).good();
}

std::unique_ptr<ssl::context> make_context(ssl::context::method method) {
  auto context = std::make_unique<ssl::context>(method);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  // An idle connection then holds no 16 KiB record buffers (34 KiB a connection otherwise).
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return context;
}

}  // namespace

Result<std::unique_ptr<ssl::context>> make_server_tls_context(const WebSocketServerTls& tls) {
  if (!readable(tls.certificate_chain_file)) {
    return unreadable("tls.certificate_chain_file", tls.certificate_chain_file);
  }
  if (!readable(tls.private_key_file)) {
    return unreadable("tls.private_key_file", tls.private_key_file);
  }
  ERR_clear_error();
  auto context = make_context(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  // No server-side session cache: it keeps up to 20480 sessions of about a kilobyte, which a
  // flood of handshakes would fill. Resumption still works through stateless session tickets.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(native, tls.certificate_chain_file.c_str()) != 1) {
    return Status::error("tls.certificate_chain_file '" + tls.certificate_chain_file +
                         "' holds no usable PEM certificate: " + openssl_reason());
  }
  // OpenSSL checks here already that the key belongs to the certificate.
  const bool key_loaded =
      SSL_CTX_use_PrivateKey_file(native, tls.private_key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  if (!key_loaded && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return Status::error("tls.private_key_file '" + tls.private_key_file +
                         "' holds no usable unencrypted PEM private key: " + openssl_reason());
  }
  if (!key_loaded || SSL_CTX_check_private_key(native) != 1) {
    return Status::error("tls.private_key_file '" + tls.private_key_file +
                         "' is not the key of the first certificate in '" +
                         tls.certificate_chain_file + "': " + openssl_reason());
  }
  return context;
}

Result<std::unique_ptr<ssl::context>> make_client_tls_context(const WebSocketClientTls& tls) {
  ERR_clear_error();
  auto context = make_context(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  if (!tls.ca_file.empty()) {
    if (!readable(tls.ca_file)) return unreadable("tls.ca_file", tls.ca_file);
    if (SSL_CTX_load_verify_locations(native, tls.ca_file.c_str(), nullptr) != 1) {
      return Status::error("tls.ca_file '" + tls.ca_file +
                           "' holds no usable PEM certificate: " + openssl_reason());
    }
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    return Status::error("cannot load the system's CA certificates: " + openssl_reason() +
                         " (install ca-certificates, or set tls.ca_file)");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  return context;
}

bool expect_server_name(SSL* ssl, const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  if (!ec) {
    // An IP address: no SNI (RFC 6066 forbids it), and the certificate must list the address.
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  // SSL_set_tlsext_host_name() without its macro's C cast.
  const long sni_set = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                const_cast<char*>(name.c_str()));
  return sni_set == 1 && SSL_set1_host(ssl, name.c_str()) == 1;
}

}  // namespace tickwire::net::websocket_detail
