#pragma once
// One connection's TLS state: an OpenSSL SSL object over two memory buffers instead of a socket,
// so that CoalescingStream moves the bytes (one socket write per batch, reads only when the
// socket is readable) and an idle connection holds no buffer at all: OpenSSL's record buffers are
// released while idle (SSL_MODE_RELEASE_BUFFERS on the context), and so are the memory buffers
// here (release_idle_buffers()). Asio's own SSL stream keeps 34 KiB of buffers per connection for
// its whole life, and its BIO pair 34 KiB more; an idle lobby connection is mostly that.
//
// Not thread-safe: used on the connection's executor only.

#include <openssl/ssl.h>

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <vector>

namespace tickwire::net::websocket_detail {

class TlsSession {
 public:
  enum class Role { client, server };
  // What an operation needs next.
  enum class Step {
    done,       // finished (read: `got` bytes of plaintext)
    want_read,  // more bytes from the peer first: feed() them, then call again
    failed,     // the connection failed: `ec` says why (a TLS alert, a bad certificate...)
  };

  TlsSession(SSL_CTX* context, Role role);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  SSL* handle() noexcept { return ssl_; }

  // Bytes that arrived from the peer, for the next handshake() or read().
  void feed(const unsigned char* data, std::size_t size);
  // Whether there are bytes for the peer (handshake messages, records, alerts).
  bool has_output() const;
  // Appends the bytes for the peer to `to`.
  void take_output(std::vector<unsigned char>& to);

  Step handshake(boost::system::error_code& ec);
  // Up to `size` bytes of plaintext into `data`; `got` is how many when done. The end of the
  // peer's stream (close_notify) fails with asio::error::eof.
  Step read(void* data, std::size_t size, std::size_t& got, boost::system::error_code& ec);
  // Encrypts all of `data` into the output. False (with `ec`) if the connection has failed.
  bool write(const unsigned char* data, std::size_t size, boost::system::error_code& ec);

  // Frees the memory buffers when nothing waits in them (an idle connection's).
  void release_idle_buffers();

 private:
  Step failure(int result, boost::system::error_code& ec);

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // from the peer; owned by ssl_
  BIO* out_ = nullptr;  // to the peer; owned by ssl_
};

}  // namespace tickwire::net::websocket_detail
