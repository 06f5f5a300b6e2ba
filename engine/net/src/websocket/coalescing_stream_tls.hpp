#pragma once
// CoalescingStream's TLS reads and handshake (see coalescing_stream.hpp, which includes this at its
// end): composed operations that wait for the socket to be readable, read what is there into the
// connection's TlsSession, and write what the session has to say.

#include "websocket/coalescing_stream.hpp"

namespace tickwire::net::websocket_detail {

template <typename MutableBufferSequence>
boost::asio::mutable_buffer CoalescingStream::first_buffer(const MutableBufferSequence& buffers) {
  for (auto it = boost::asio::buffer_sequence_begin(buffers);
       it != boost::asio::buffer_sequence_end(buffers); ++it) {
    const boost::asio::mutable_buffer piece(*it);
    if (piece.size() > 0) return piece;
  }
  return {};
}

// Reads what the socket has (it said it is readable) into the TLS session. False with `ec`
// empty: nothing there after all, wait again.
inline bool CoalescingStream::receive(State& s, boost::beast::error_code& ec) {
  // One TLS record at most; one buffer per io thread, not one per connection.
  thread_local std::array<unsigned char, 17 * 1024> scratch;
  const std::size_t got = s.next.read_some(boost::asio::buffer(scratch), ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    ec = {};
    return false;
  }
  if (ec) return false;
  s.wire.add_read(got);
  s.tls->feed(scratch.data(), got);
  return true;
}

// Whatever the TLS session wrote while reading (an alert, a key update) goes out now.
inline void CoalescingStream::send_tls_output(const std::shared_ptr<State>& state) {
  if (state->tls_output()) flush(state);
}

// A read: decrypts what the session has; else waits for the socket, reads, and tries again.
struct CoalescingStream::TlsReadOp {
  std::shared_ptr<State> state;
  boost::asio::mutable_buffer buffer;
  bool started = false;

  template <typename Self>
  void operator()(Self& self, boost::beast::error_code ec = {}) {
    if (!started) {
      // Never complete inside the initiating call: Beast's read loop does not expect it.
      started = true;
      return boost::asio::post(state->next.get_executor(), std::move(self));
    }
    if (ec) return self.complete(ec, 0);
    State& s = *state;
    if (buffer.size() == 0) return self.complete({}, 0);
    for (;;) {
      std::size_t got = 0;
      const TlsSession::Step step = s.tls->read(buffer.data(), buffer.size(), got, ec);
      send_tls_output(state);
      if (step == TlsSession::Step::done) {
        s.tls->release_idle_buffers();
        return self.complete({}, got);
      }
      if (step == TlsSession::Step::failed) return self.complete(ec, 0);
      if (!receive(s, ec)) break;
    }
    if (ec) return self.complete(ec, 0);
    s.next.async_wait(boost::asio::socket_base::wait_read, std::move(self));
  }
};

// The handshake: the session's messages go to the socket, the peer's to the session, until it
// is done or has failed (its alert, if any, sent first).
struct CoalescingStream::TlsHandshakeOp {
  std::shared_ptr<State> state;
  std::vector<unsigned char> output;  // handshake messages being written
  TlsSession::Step after_output = TlsSession::Step::want_read;
  boost::beast::error_code failure;  // of the step that failed, once its alert is out
  enum class Waiting { start, posted, readable, written } waiting = Waiting::start;

  template <typename Self>
  void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t bytes = 0) {
    State& s = *state;
    switch (waiting) {
      case Waiting::start:
        waiting = Waiting::posted;
        return boost::asio::post(s.next.get_executor(), std::move(self));
      case Waiting::posted:
        break;
      case Waiting::readable:
        if (ec) return self.complete(ec, 0);
        if (!receive(s, ec)) {
          if (ec) return self.complete(ec, 0);
          return s.next.async_wait(boost::asio::socket_base::wait_read, std::move(self));
        }
        break;
      case Waiting::written:
        s.wire.add_written(bytes);
        if (ec) return self.complete(ec, 0);
        return next_step(self, after_output);
    }
    const TlsSession::Step step = s.tls->handshake(failure);
    if (s.tls->has_output()) {
      output.clear();
      s.tls->take_output(output);
      after_output = step;
      waiting = Waiting::written;
      return boost::asio::async_write(s.next, boost::asio::buffer(output), std::move(self));
    }
    next_step(self, step);
  }

  template <typename Self>
  void next_step(Self& self, TlsSession::Step step) {
    switch (step) {
      case TlsSession::Step::done:
        std::vector<unsigned char>().swap(output);
        state->tls->release_idle_buffers();
        return self.complete({}, 0);
      case TlsSession::Step::failed:
        return self.complete(failure, 0);
      case TlsSession::Step::want_read:
        waiting = Waiting::readable;
        return state->next.async_wait(boost::asio::socket_base::wait_read, std::move(self));
    }
  }
};

template <typename ConstBufferSequence, typename Handler>
auto CoalescingStream::async_tls_handshake(const ConstBufferSequence& already_read,
                                           Handler&& handler) {
  for (auto it = boost::asio::buffer_sequence_begin(already_read);
       it != boost::asio::buffer_sequence_end(already_read); ++it) {
    const boost::asio::const_buffer piece(*it);
    state_->tls->feed(static_cast<const unsigned char*>(piece.data()), piece.size());
  }
  return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
      TlsHandshakeOp{state_}, handler, state_->next);
}

template <typename MutableBufferSequence, typename ReadHandler>
auto CoalescingStream::async_tls_read(const MutableBufferSequence& buffers, ReadHandler&& handler) {
  return boost::asio::async_compose<ReadHandler, void(boost::beast::error_code, std::size_t)>(
      TlsReadOp{state_, first_buffer(buffers)}, handler, state_->next);
}

}  // namespace tickwire::net::websocket_detail
