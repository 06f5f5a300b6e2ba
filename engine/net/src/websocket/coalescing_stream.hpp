#pragma once
// The layer beneath a WebSocket stream that turns the frames Beast writes one by one into one
// socket write per batch. Beast's websocket::stream writes one message per call, and with
// TCP_NODELAY every write is a send() and, on loopback, the receiver's TCP work too: a chat line
// to 100 members cost 100 system calls. This layer copies what Beast writes into the connection's
// output buffer, completes Beast's write at once (posted, never inline), and writes the buffer to
// the socket once Beast has nothing more to add in this turn of the io thread; whatever Beast
// writes while that socket write is under way goes out with the next one.
//
// Everything Beast writes (messages, pings, pongs, the close frame, the upgrade response) goes
// through the same buffer in the order Beast wrote it, so the wire order and Beast's own write
// serialisation stay as they were. Memory stays bounded: once kMaxPendingBytes wait, Beast's write
// is held until the socket has taken the previous batch, so a peer that does not read backs up
// into the connection's queue (and send() reports queue_full) as before. An idle connection holds
// no buffer. Without TLS, reads go straight to the TCP stream.
//
// With a FlushRound, frames written while set_may_wait(true) (a broadcast's) wait up to the
// round's delay before they go (a cork, as TCP_CORK, but bounded in time): a connection that gets
// a frame from every broadcast then gets several in one write even when the io thread keeps up
// with the broadcasts. Anything else (a reply, a ping, the close) goes at once, with whatever
// waits before it. Without a round everything goes at once.
//
// With start_tls() every byte to and from the socket is TLS (TlsSession: OpenSSL over memory
// buffers): the batch is encrypted as one piece when it goes to the socket, and a read waits for
// the socket to be readable, reads what is there and decrypts it, so that an idle connection
// holds no TLS buffer either. The HTTP stage and the WebSocket connection use the same stream
// object, so the TLS session carries over the upgrade.
//
// With a BurstTrim, the buffers an idle connection frees are counted, so that the heap's free pages
// go back to the system once a burst of writes is over (burst_trim.hpp).
//
// Runs on the connection's executor, one write from Beast at a time (Beast never has two).

#include <algorithm>
#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "websocket/burst_trim.hpp"
#include "websocket/tls_session.hpp"
#include "websocket/wire_counts.hpp"

namespace tickwire::net::websocket_detail {

class CoalescingStream {
 public:
  // A plain socket, not a beast::tcp_stream: the WebSocket layer keeps time on an open
  // connection, and the tcp_stream's two timers and their executors would cost every idle
  // connection some 400 bytes for nothing.
  using next_layer_type = boost::asio::ip::tcp::socket;
  using executor_type = next_layer_type::executor_type;

  // Bytes waiting for the socket beyond which Beast's next write waits for the socket.
  static constexpr std::size_t kMaxPendingBytes = 64 * 1024;
  // The first allocation of a busy connection's buffer: a few chat lines' worth.
  static constexpr std::size_t kInitialBytes = 256;

  // `arg` makes the socket: an executor, or a connected socket to take over.
  template <typename Arg,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<Arg>, CoalescingStream>>>
  explicit CoalescingStream(Arg&& arg) : state_(std::make_shared<State>(std::forward<Arg>(arg))) {}

  class FlushRound;
  // From now on the batches wait for `round` (which must outlive every write and be used on the
  // same single-threaded io_context); nullptr: they go at once.
  void set_flush_round(FlushRound* round) noexcept { state_->round = round; }
  class BurstTrim;
  // From now on the buffers this connection frees are counted by `trim` (which must outlive every
  // write and be used on the same single-threaded io_context); nullptr: not counted.
  void set_burst_trim(BurstTrim* trim) noexcept { state_->burst_trim = trim; }
  // Whether what Beast writes from now on may wait for the flush round.
  void set_may_wait(bool may_wait) noexcept { state_->may_wait = may_wait; }

  // From now on every byte read and written is TLS with `context`'s settings, in `role`; call
  // before the first read or write (the handshake comes next). The SSL object keeps the
  // context's settings alive by itself.
  void start_tls(boost::asio::ssl::context& context, TlsSession::Role role) {
    state_->tls = std::make_unique<TlsSession>(context.native_handle(), role);
    // Reads wait for the socket to be readable, then take what is there without blocking.
    boost::beast::error_code ignored;
    state_->next.non_blocking(true, ignored);
  }
  bool uses_tls() const noexcept { return state_->tls != nullptr; }
  // The connection's SSL object (after start_tls()), for per-connection settings such as the
  // name the client expects.
  SSL* tls_handle() noexcept { return state_->tls->handle(); }
  // The TLS handshake (after start_tls()); `already_read`: its first bytes, which a server read
  // itself to tell TLS from plain HTTP. Completes with (error, 0).
  template <typename Handler>
  auto async_tls_handshake(Handler&& handler) {
    return async_tls_handshake(boost::asio::const_buffer(), std::forward<Handler>(handler));
  }
  template <typename ConstBufferSequence, typename Handler>
  auto async_tls_handshake(const ConstBufferSequence& already_read, Handler&& handler);

  executor_type get_executor() noexcept { return state_->next.get_executor(); }
  next_layer_type& next_layer() noexcept { return state_->next; }
  const next_layer_type& next_layer() const noexcept { return state_->next; }

  // Every byte read from and written to the socket since the stream was made (the HTTP upgrade and
  // the TLS handshake included), as long as the stream's state lives.
  std::shared_ptr<WireCounts> wire_counts() const noexcept {
    return std::shared_ptr<WireCounts>(state_, &state_->wire);
  }
  // Adds the counts so far to `total`, and every later one too.
  void count_wire_into(std::shared_ptr<WireCounts> total) noexcept {
    WireCounts& wire = state_->wire;
    total->add_read(wire.bytes_read);
    total->add_written(wire.bytes_written);
    wire.total = std::move(total);
  }

  template <typename MutableBufferSequence, typename ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    if (state_->tls) return async_tls_read(buffers, std::forward<ReadHandler>(handler));
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
        [](auto completion, std::shared_ptr<State> state, const MutableBufferSequence& data) {
          State& s = *state;
          s.next.async_read_some(data,
                                 [state = std::move(state), completion = std::move(completion)](
                                     boost::beast::error_code ec, std::size_t bytes) mutable {
                                   state->wire.add_read(bytes);
                                   std::move(completion)(ec, bytes);
                                 });
        },
        handler, state_, buffers);
  }

  template <typename ConstBufferSequence, typename WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [](auto completion, std::shared_ptr<State> state, const ConstBufferSequence& data) {
          start_write(state, data, std::move(completion));
        },
        handler, state_, buffers);
  }

  // How long the teardown keeps draining what the peer still sends, in milliseconds (the
  // connection's handshake timeout). Default 5000.
  void set_linger(std::uint32_t milliseconds) noexcept { state_->linger_ms = milliseconds; }

  // WebSocket teardown (after the close handshake, or after failing the connection, say for a
  // message over the size limit): once everything written has left, shut down sending, read and
  // drop whatever the peer still sends until it closes too or the linger time is up, then close.
  // Closing with unread bytes would send a reset, and a peer still sending (the rest of an
  // oversize message) would lose our close frame to it and report 1006. Beast's own teardown
  // would do this, but the one in Boost 1.74 stops after its first read. Over TLS the same
  // happens beneath TLS, without a close_notify: the WebSocket close frame, which TLS protects,
  // already marks the end, and the peer's remaining records are dropped unread.
  template <typename TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, CoalescingStream& stream,
                             TeardownHandler&& handler) {
    auto tear_down_tcp = [role, completion = std::forward<TeardownHandler>(handler)](
                             const std::shared_ptr<State>& state) mutable {
      linger_and_close(role, state, std::move(completion));
    };
    State& state = *stream.state_;
    if (state.idle() || state.error) return tear_down_tcp(stream.state_);
    state.drained = make_waiter(std::move(tear_down_tcp));
    keep_waiters(stream.state_);
  }

  friend void teardown(boost::beast::role_type role, CoalescingStream& stream,
                       boost::beast::error_code& ec) {
    // Blocking: only for Beast's synchronous close, which Tickwire does not use.
    State& state = *stream.state_;
    if (state.tls) {
      if (!state.tls->write(state.pending.data(), state.pending.size(), ec)) return;
      state.pending.clear();
      state.tls->take_output(state.pending);
    }
    if (!state.pending.empty()) {
      boost::asio::write(state.next, boost::asio::buffer(state.pending), ec);
      state.pending.clear();
      if (ec) return;
    }
    using boost::beast::websocket::teardown;
    teardown(role, state.next, ec);
  }

 private:
  struct State;

  // A write from Beast, or the teardown, waiting for the socket; type-erased because Beast's
  // handlers are move-only. Gets the state as an argument so that it holds no reference to it.
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void resume(const std::shared_ptr<State>& state) = 0;
  };
  template <typename F>
  struct WaiterFor final : Waiter {
    explicit WaiterFor(F&& f) : function(std::move(f)) {}
    void resume(const std::shared_ptr<State>& state) override { function(state); }
    F function;
  };
  template <typename F>
  static std::unique_ptr<Waiter> make_waiter(F&& f) {
    return std::make_unique<WaiterFor<std::decay_t<F>>>(std::forward<F>(f));
  }

  struct State {
    template <typename Arg>
    explicit State(Arg&& arg) : next(std::forward<Arg>(arg)), keeper(next.get_executor()) {}

    bool idle() const { return !flushing && pending.empty() && !tls_output(); }
    bool tls_output() const { return tls && tls->has_output(); }

    next_layer_type next;
    std::unique_ptr<TlsSession> tls;     // after start_tls()
    std::uint32_t linger_ms = 5000;      // see set_linger()
    std::vector<unsigned char> pending;  // written by Beast, not yet given to the socket
    std::vector<unsigned char> sending;  // given to the socket, which has not finished
    bool flushing = false;               // a socket write of `sending` is under way
    bool in_round = false;               // waiting for `round` to flush it
    bool may_wait = false;               // see set_may_wait()
    bool urgent = false;                 // `pending` holds bytes that may not wait
    FlushRound* round = nullptr;
    BurstTrim* burst_trim = nullptr;   // see set_burst_trim()
    bool completion_posted = false;    // Beast's write completes in a posted handler
    boost::beast::error_code error;    // the socket failed: every later write fails so too
    std::unique_ptr<Waiter> held;      // Beast's write, waiting for room
    std::unique_ptr<Waiter> drained;   // the teardown, waiting for the socket to take it all
    boost::asio::steady_timer keeper;  // see keep_waiters()
    WireCounts wire;                   // see wire_counts()
  };

  // A waiter holds its connection's handler, and the connection holds this state: if the
  // io_context went away with a waiter still waiting (a transport destroyed while its last bytes
  // were being written), neither could ever be freed. So while one waits, a wait that never
  // expires sits in the io_context; destroyed unrun with it, that wait drops the waiters.
  class WaiterKeeper {
   public:
    explicit WaiterKeeper(const std::shared_ptr<State>& state) : state_(state) {}
    WaiterKeeper(WaiterKeeper&&) noexcept = default;
    WaiterKeeper(const WaiterKeeper&) = delete;  // a copy destroyed unrun would drop them
    WaiterKeeper& operator=(WaiterKeeper&&) = delete;
    WaiterKeeper& operator=(const WaiterKeeper&) = delete;
    ~WaiterKeeper() {
      if (const auto state = state_.lock()) {
        const auto held = std::move(state->held);
        const auto drained = std::move(state->drained);
      }
    }
    // Cancelled: the waiters were resumed, or a newer wait took over.
    void operator()(boost::beast::error_code /*ec*/) { state_.reset(); }

   private:
    std::weak_ptr<State> state_;
  };
  static void keep_waiters(const std::shared_ptr<State>& state) {
    state->keeper.expires_at(boost::asio::steady_timer::time_point::max());
    state->keeper.async_wait(WaiterKeeper(state));
  }

  template <typename ConstBufferSequence, typename Handler>
  static void start_write(const std::shared_ptr<State>& state, const ConstBufferSequence& buffers,
                          Handler&& handler) {
    State& s = *state;
    if (s.error) return complete(state, std::forward<Handler>(handler), s.error, 0);
    const std::size_t size = boost::asio::buffer_size(buffers);
    const std::size_t room =
        s.pending.size() < kMaxPendingBytes ? kMaxPendingBytes - s.pending.size() : 0;
    if (size > 0 && room == 0) {
      s.held = make_waiter([buffers, completion = std::forward<Handler>(handler)](
                               const std::shared_ptr<State>& again) mutable {
        start_write(again, buffers, std::move(completion));
      });
      keep_waiters(state);
      return flush(state);
    }
    const std::size_t taken = std::min(size, room);
    if (taken > 0) {
      const std::size_t old_size = s.pending.size();
      if (s.pending.capacity() == 0) s.pending.reserve(std::max(kInitialBytes, taken));
      s.pending.resize(old_size + taken);
      boost::asio::buffer_copy(boost::asio::buffer(s.pending.data() + old_size, taken), buffers);
      if (!s.may_wait) s.urgent = true;
    }
    complete(state, std::forward<Handler>(handler), {}, taken);
  }

  // Completes Beast's write in a handler of its own; once Beast has written all it had for now,
  // the batch goes to the socket.
  template <typename Handler>
  static void complete(const std::shared_ptr<State>& state, Handler&& handler,
                       boost::beast::error_code ec, std::size_t bytes) {
    state->completion_posted = true;
    boost::asio::post(state->next.get_executor(),
                      [state, completion = std::forward<Handler>(handler), ec, bytes]() mutable {
                        state->completion_posted = false;
                        std::move(completion)(ec, bytes);
                        if (state->completion_posted) return;  // Beast wrote again
                        flush_soon(state);
                        release_if_idle(*state);
                      });
  }

  // flush(), now or with the next flush round.
  static void flush_soon(const std::shared_ptr<State>& state);

  static void flush(const std::shared_ptr<State>& state) {
    State& s = *state;
    if (s.flushing || s.error || (s.pending.empty() && !s.tls_output())) return;
    s.flushing = true;
    s.urgent = false;
    if (s.tls) {
      // The batch as TLS records, after whatever the TLS session itself has to say (a handshake
      // message, an alert) from reading.
      boost::beast::error_code ec;
      if (!s.tls->write(s.pending.data(), s.pending.size(), ec)) {
        s.pending.clear();
        boost::asio::post(s.next.get_executor(), [state, ec] { on_flushed(state, ec); });
        return;
      }
      s.pending.clear();  // keeps its capacity for the next batch
      s.tls->take_output(s.sending);
    } else {
      s.sending.swap(s.pending);  // `pending` keeps the capacity of the batch before
    }
    boost::asio::async_write(s.next, boost::asio::buffer(s.sending),
                             [state](boost::beast::error_code ec, std::size_t bytes) {
                               state->wire.add_written(bytes);
                               on_flushed(state, ec);
                             });
  }

  static void on_flushed(const std::shared_ptr<State>& state, boost::beast::error_code ec) {
    State& s = *state;
    s.flushing = false;
    s.sending.clear();
    if (ec) {
      s.error = ec;
      std::vector<unsigned char>().swap(s.pending);
    } else if (s.held) {
      flush(state);  // the buffer is full: no waiting
    } else {
      flush_soon(state);  // what Beast wrote meanwhile
    }
    if (s.held) std::exchange(s.held, nullptr)->resume(state);
    release_if_idle(s);
    if (s.drained && (s.idle() || s.error)) std::exchange(s.drained, nullptr)->resume(state);
    if (!s.held && !s.drained) s.keeper.cancel();
  }

  template <typename Handler>
  static void linger_and_close(boost::beast::role_type role, const std::shared_ptr<State>& state,
                               Handler&& handler) {
    struct Linger {
      Linger(std::shared_ptr<State> s, Handler&& h, boost::beast::role_type r)
          : state(std::move(s)),
            timer(state->next.get_executor()),
            completion(std::move(h)),
            role(r) {}
      std::shared_ptr<State> state;
      boost::asio::steady_timer timer;
      Handler completion;
      boost::beast::role_type role;
      std::array<char, 2048> scratch{};
    };
    auto linger = std::make_shared<Linger>(state, std::forward<Handler>(handler), role);
    boost::beast::error_code ec;
    // A server sends its FIN first (RFC 6455 section 7.1.1); a client waits for the server's.
    if (role == boost::beast::role_type::server) {
      state->next.shutdown(boost::asio::socket_base::shutdown_send, ec);
    }
    linger->timer.expires_after(std::chrono::milliseconds(state->linger_ms));
    linger->timer.async_wait([linger](boost::beast::error_code wait_ec) {
      if (!wait_ec) {
        boost::beast::error_code ignored;
        linger->state->next.cancel(ignored);  // the drain's read ends: close now
      }
    });
    drain(std::move(linger));
  }

  template <typename LingerPtr>
  static void drain(LingerPtr linger) {
    auto& socket = linger->state->next;
    auto& scratch = linger->scratch;
    socket.async_read_some(
        boost::asio::buffer(scratch),
        [linger = std::move(linger)](boost::beast::error_code ec, std::size_t) mutable {
          if (!ec) return drain(std::move(linger));
          linger->timer.cancel();
          boost::beast::error_code ignored;
          auto& stream = linger->state->next;
          if (linger->role == boost::beast::role_type::client) {
            stream.shutdown(boost::asio::socket_base::shutdown_send, ignored);
          }
          stream.close(ignored);
          // The end of the stream is the clean end; the linger time running out or the peer
          // resetting leaves nothing more to do either: the connection is over.
          std::move(linger->completion)(boost::beast::error_code{});
        });
  }

  // An idle connection holds no buffer: most connections are idle most of the time.
  static void release_if_idle(State& s) {
    if (!s.idle() || s.completion_posted) return;
    const std::size_t freed = s.pending.capacity() + s.sending.capacity();
    std::vector<unsigned char>().swap(s.pending);
    std::vector<unsigned char>().swap(s.sending);
    if (s.tls) s.tls->release_idle_buffers();
    if (freed > 0 && s.burst_trim != nullptr) count_released(*s.burst_trim, freed);
  }
  static void count_released(BurstTrim& trim, std::size_t bytes);

  // TLS reads and the handshake (coalescing_stream_tls.hpp).
  template <typename MutableBufferSequence, typename ReadHandler>
  auto async_tls_read(const MutableBufferSequence& buffers, ReadHandler&& handler);
  static boost::asio::mutable_buffer first_buffer(const boost::asio::mutable_buffer& buffer) {
    return buffer;
  }
  template <typename MutableBufferSequence>
  static boost::asio::mutable_buffer first_buffer(const MutableBufferSequence& buffers);
  static bool receive(State& s, boost::beast::error_code& ec);
  static void send_tls_output(const std::shared_ptr<State>& state);
  struct TlsReadOp;
  struct TlsHandshakeOp;

  std::shared_ptr<State> state_;
};

// Flushes every connection that has a batch waiting, `delay` after the first of them was queued:
// one timer for the whole server, not one per connection. Used on the io thread only.
class CoalescingStream::FlushRound {
 public:
  FlushRound(const executor_type& executor, std::chrono::microseconds delay)
      : timer_(executor), delay_(delay) {}

  void add(std::shared_ptr<State> state) {
    if (state->in_round) return;
    state->in_round = true;
    due_.push_back(std::move(state));
    if (armed_) return;
    armed_ = true;
    timer_.expires_after(delay_);
    // Only runs while the io thread does, which the owner of this round outlives.
    timer_.async_wait([this](boost::beast::error_code ec) {
      armed_ = false;
      if (!ec) flush_all();
    });
  }

 private:
  void flush_all() {
    std::vector<std::shared_ptr<State>> due;
    due.swap(due_);
    for (const auto& state : due) {
      state->in_round = false;
      flush(state);
      release_if_idle(*state);
    }
    due.clear();
    if (due_.empty()) due_.swap(due);  // keep the capacity
  }

  boost::asio::steady_timer timer_;
  const std::chrono::microseconds delay_;
  std::vector<std::shared_ptr<State>> due_;
  bool armed_ = false;
};

// Trims the heap once a burst of writes on the io thread is over (BurstTrimPolicy decides when):
// one timer for the whole server, which runs only while freed buffers wait for a decision. Used on
// the io thread only.
class CoalescingStream::BurstTrim {
 public:
  BurstTrim(const executor_type& executor, std::chrono::milliseconds period,
            BurstTrimPolicy::Limits limits = {})
      : timer_(executor), period_(period), policy_(limits) {}

  void note_released(std::size_t bytes) {
    policy_.note_released(bytes);
    if (!armed_) arm();
  }

 private:
  void arm() {
    armed_ = true;
    timer_.expires_after(period_);
    // Only runs while the io thread does, which the owner of this object outlives.
    timer_.async_wait([this](boost::beast::error_code ec) {
      armed_ = false;
      if (ec) return;
      if (policy_.end_period()) return_free_heap_pages();
      if (policy_.pending()) arm();
    });
  }

  boost::asio::steady_timer timer_;
  const std::chrono::milliseconds period_;
  BurstTrimPolicy policy_;
  bool armed_ = false;
};

inline void CoalescingStream::count_released(BurstTrim& trim, std::size_t bytes) {
  trim.note_released(bytes);
}

inline void CoalescingStream::flush_soon(const std::shared_ptr<State>& state) {
  State& s = *state;
  // on_flushed() comes back here
  if (s.flushing || s.error || (s.pending.empty() && !s.tls_output())) return;
  if (s.round == nullptr || s.urgent) return flush(state);
  s.round->add(state);
}

}  // namespace tickwire::net::websocket_detail

#include "websocket/coalescing_stream_tls.hpp"  // IWYU pragma: export
