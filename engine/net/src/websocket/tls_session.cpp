#include "websocket/tls_session.hpp"

#include <openssl/err.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <climits>
#include <new>

namespace tickwire::net::websocket_detail {
namespace {

// OpenSSL takes int sizes.
int clamp_size(std::size_t size) {
  return size > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
}

BIO* new_memory_buffer() {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) throw std::bad_alloc();
  // An empty buffer reads as "retry later", not as the end of the stream.
  BIO_set_mem_eof_return(bio, -1);
  return bio;
}

}  // namespace

TlsSession::TlsSession(SSL_CTX* context, Role role) : ssl_(SSL_new(context)) {
  if (ssl_ == nullptr) throw std::bad_alloc();
  in_ = new_memory_buffer();
  out_ = new_memory_buffer();
  SSL_set_bio(ssl_, in_, out_);
  if (role == Role::server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // and both memory buffers
}

void TlsSession::feed(const unsigned char* data, std::size_t size) {
  while (size > 0) {
    const int written = BIO_write(in_, data, clamp_size(size));
    if (written <= 0) throw std::bad_alloc();  // a memory BIO fails only for want of memory
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

bool TlsSession::has_output() const {
  return BIO_ctrl_pending(out_) > 0;
}

void TlsSession::take_output(std::vector<unsigned char>& to) {
  const std::size_t waiting = BIO_ctrl_pending(out_);
  if (waiting == 0) return;
  const std::size_t old_size = to.size();
  to.resize(old_size + waiting);
  const int got = BIO_read(out_, to.data() + old_size, clamp_size(waiting));
  to.resize(old_size + (got > 0 ? static_cast<std::size_t>(got) : 0));
}

TlsSession::Step TlsSession::handshake(boost::system::error_code& ec) {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) return Step::done;
  return failure(result, ec);
}

TlsSession::Step TlsSession::read(void* data, std::size_t size, std::size_t& got,
                                  boost::system::error_code& ec) {
  ERR_clear_error();
  const int result = SSL_read(ssl_, data, clamp_size(size));
  if (result > 0) {
    got = static_cast<std::size_t>(result);
    return Step::done;
  }
  got = 0;
  return failure(result, ec);
}

bool TlsSession::write(const unsigned char* data, std::size_t size, boost::system::error_code& ec) {
  while (size > 0) {
    ERR_clear_error();
    const int result = SSL_write(ssl_, data, clamp_size(size));
    if (result <= 0) {
      // A memory BIO never asks to wait: anything else means the connection is over.
      if (failure(result, ec) != Step::failed) ec = boost::asio::error::broken_pipe;
      return false;
    }
    data += result;
    size -= static_cast<std::size_t>(result);
  }
  return true;
}

TlsSession::Step TlsSession::failure(int result, boost::system::error_code& ec) {
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ) return Step::want_read;
  if (error == SSL_ERROR_ZERO_RETURN) {
    ec = boost::asio::error::eof;
  } else if (const unsigned long code = ERR_get_error(); code != 0) {
    ec = boost::system::error_code(static_cast<int>(code), boost::asio::error::get_ssl_category());
  } else {
    ec = boost::asio::error::connection_reset;
  }
  return Step::failed;
}

void TlsSession::release_idle_buffers() {
  // A memory BIO keeps its largest allocation for ever; a fresh one costs a few hundred bytes.
  if (BIO_ctrl_pending(in_) == 0) {
    in_ = new_memory_buffer();
    SSL_set0_rbio(ssl_, in_);
  }
  if (BIO_ctrl_pending(out_) == 0) {
    out_ = new_memory_buffer();
    SSL_set0_wbio(ssl_, out_);
  }
}

}  // namespace tickwire::net::websocket_detail
