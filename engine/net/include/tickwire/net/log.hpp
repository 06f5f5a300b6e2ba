#pragma once
// Where Tickwire's log lines go. The engine reports what an operator needs to know and cannot see
// in the counters alone: a ticket refused and why, a peer disconnected for abuse, a connection cap
// reached, a fallback from ENet to WebSocket, a server started without encryption. It never logs
// per packet: a line an attacker can trigger at will (a bad ticket, an abusive peer) is limited to
// a few per second per kind, and the lines left out are counted in a "suppressed N similar
// messages" line.
//
// Default: warnings and errors go to stderr, one line each ("tickwire [warning] enet: ...").
// set_log_sink() replaces that with the game's own logger, or with nothing (silent).
//
// What it does not do: buffer, format with arguments, or write files. A sink is called on the
// thread that logs: the game's thread (ENet, poll()) or a transport's own thread (the WebSocket io
// thread, the lobby's thread), possibly on several at once, so a sink must be thread-safe. Calls to
// it are not serialized by Tickwire. A sink must not call back into the transport that logged.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace tickwire::net {

enum class LogLevel : std::uint8_t { debug = 0, info = 1, warning = 2, error = 3, off = 4 };
std::string_view to_string(LogLevel level);

struct LogRecord {
  LogLevel level = LogLevel::info;
  // What reported it: "enet", "websocket", "lobby", "tickets", "session", "policy", "config".
  std::string_view category;
  // One line, without a trailing newline. Never contains key material.
  std::string_view message;
};

// Receives every record at or above the level it was installed with.
using LogSink = std::function<void(const LogRecord&)>;

// Installs `sink` for records at `min_level` and above, from now on, on every thread; a null
// sink or LogLevel::off silences Tickwire. Thread-safe: may be called at any time, also while
// transports run. A call that is in the old sink when this returns may still finish there.
void set_log_sink(LogSink sink, LogLevel min_level = LogLevel::info);
// Back to the default: warnings and errors to stderr.
void reset_log_sink();
// The default sink: one line per record on stderr.
void write_log_to_stderr(const LogRecord& record);

namespace detail {
// The lowest level the installed sink wants (off when there is none). Read before a message is
// built, so that a filtered record costs one relaxed atomic load.
extern std::atomic<std::uint8_t> g_log_threshold;
}  // namespace detail

// True if a record at `level` would reach the sink: check it before building a costly message.
inline bool log_enabled(LogLevel level) {
  return static_cast<std::uint8_t>(level) >=
         detail::g_log_threshold.load(std::memory_order_relaxed);
}

// Hands one record to the sink (if its level is enabled). Games may use it for their own lines.
void log(LogLevel level, std::string_view category, std::string_view message);

}  // namespace tickwire::net
