#pragma once
// The one thread on which a WebSocket transport runs Asio. Started once everything it serves is
// set up; stopped and joined by the transport's destructor before any object it serves goes.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <thread>

namespace tickwire::net::websocket_detail {

class IoThread {
 public:
  IoThread() : work_(boost::asio::make_work_guard(context_)) {}
  ~IoThread() { stop(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& context() { return context_; }
  // Throws std::system_error if no thread can be made.
  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // Stops running handlers (pending ones are destroyed with the io_context) and joins.
  void stop() {
    work_.reset();
    context_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      try {
        context_.run();
        return;
      } catch (const std::exception&) {
        // Only an allocation can throw in our handlers. The connection it happened on stalls and
        // times out; the others keep being served.
      }
    }
  }

  // Run by one thread: the hint lets Asio optimise for that (posting from others stays safe).
  boost::asio::io_context context_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace tickwire::net::websocket_detail
