#include "measure.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "bench_message.hpp"

namespace tickwire::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Longest a side blocks in the transport waiting for input. By default both sides block (in
// select/poll inside the transport) rather than spin: the machine has two cores and is shared,
// and a game loop that waits for input wakes the same way. Latencies then include two thread
// wake-ups per round trip, most of the total on loopback; CaseSettings::busy_poll takes them out.
constexpr milliseconds kPollWait{1};

milliseconds poll_wait(const CaseSettings& settings) {
  return settings.busy_poll ? milliseconds(0) : kPollWait;
}
// An echo later than this counts as lost and the next ping goes out.
constexpr milliseconds kEchoTimeout{100};
// A case whose pings keep getting lost is broken, not slow: stop it rather than wait for minutes.
constexpr std::uint64_t kMaxLostPings = 100;

// Throughput flow control. The client keeps at most a window of messages unacknowledged; the
// server acknowledges (reliably, on its own channel) each time the highest sequence number it has
// seen passes a multiple of a quarter of the window, so three quarters stay in flight while an
// ack travels. The window is sized in bytes, half of the 256 KiB socket buffers ENet (and our UDP
// floor) asks for, so unreliable traffic is not thrown away by an overflowing receive buffer.
// ENet itself would queue without bound: enet_peer_send never refuses.
constexpr std::size_t kWindowBytes = 128 * 1024;
constexpr std::size_t kMinWindowMessages = 4;
constexpr std::size_t kMaxWindowMessages = 256;
// With unreliable delivery the messages that would have triggered the next ack (or, over raw UDP,
// the ack itself) can be lost; after this long without an ack the window is taken as lost.
constexpr milliseconds kStallTimeout{50};
// After the last message, time for what is still queued or in flight to arrive.
constexpr milliseconds kDrainTime{50};
constexpr milliseconds kReportTimeout{2000};
// The server reads the clock once per this many counted messages, and the CPU time (a system
// call) once per kCpuSampleEvery: reading the clock for each of three million messages a second
// would itself cost the server thread several percent.
constexpr std::uint64_t kClockSampleEvery = 16;
constexpr std::uint64_t kCpuSampleEvery = 256;

// What the server counts during a throughput measurement. The rate is taken between two
// readings of the clock: at the first counted message and at the latest sampled one.
struct ServerTally {
  std::uint64_t received = 0;           // counted messages
  Clock::time_point first;              // arrival of the first
  Clock::time_point sampled;            // arrival of the latest sampled one
  std::uint64_t timed_messages = 0;     // messages after the first, up to the sampled one
  std::uint64_t timed_bytes = 0;        // their bytes
  std::uint64_t bytes_after_first = 0;  // bytes of every message after the first
  double cpu_at_first = 0;              // the server thread's CPU time, in seconds
  double cpu_at_sample = 0;
  Clock::time_point cpu_sampled;
  WireTotals wire_at_first;  // what the server had sent when the first counted message arrived
  WireTotals wire_at_report;
  std::uint64_t acks_after_first = 0;  // acknowledgements sent since then
};

// CPU time the calling thread has used, in seconds.
double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// What the two threads share besides the network: when to stop, and the server's tally, handed
// over once the client has stopped sending. Only the handover goes through memory; every
// benchmark message goes through the transport.
struct ServerControl {
  std::atomic<bool> stop{false};
  std::atomic<bool> report_requested{false};
  std::atomic<bool> report_ready{false};
  ServerTally report;  // written before report_ready is set, read after it is seen
};

WireTotals operator-(const WireTotals& later, const WireTotals& earlier) {
  return {later.bytes - earlier.bytes, later.datagrams - earlier.datagrams};
}

Clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// A message of `size` bytes with a non-trivial body (nothing beneath compresses, but a body of
// zeros would hide a transport that forgot to copy it).
std::vector<std::byte> make_message(std::size_t size) {
  std::vector<std::byte> message(std::max(size, kHeaderSize));
  std::uint32_t state = 12345;
  for (std::byte& byte : message) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::byte>(state >> 24);
  }
  return message;
}

void count(ServerTally& tally, std::size_t bytes) {
  if (tally.received++ == 0) {
    tally.first = tally.sampled = tally.cpu_sampled = Clock::now();
    tally.cpu_at_first = tally.cpu_at_sample = thread_cpu_seconds();
    return;
  }
  tally.bytes_after_first += bytes;
  if (tally.received % kClockSampleEvery != 1) return;
  tally.sampled = Clock::now();
  tally.timed_messages = tally.received - 1;
  tally.timed_bytes = tally.bytes_after_first;
  if (tally.received % kCpuSampleEvery != 1) return;
  tally.cpu_at_sample = thread_cpu_seconds();
  tally.cpu_sampled = tally.sampled;
}

// The server's side of every case: echo pings, count data, acknowledge progress.
void serve(ServerEndpoint& server, ServerControl& control, milliseconds wait) {
  ServerTally tally;
  std::uint64_t highest = 0;
  std::uint64_t next_ack = 0;
  std::array<std::byte, kHeaderSize> ack{};
  while (!control.stop.load(std::memory_order_relaxed)) {
    if (const auto message = server.receive(wait)) {
      if (const auto header = read_header(*message)) {
        switch (header->type) {
          case MessageType::ping:
            // Same bytes, same delivery kind. A lost echo is the client's to notice.
            (void)server.send(kDataChannel, header->delivery, *message);
            server.flush();
            break;
          case MessageType::data:
            if (header->measured) {
              if (tally.received == 0) tally.wire_at_first = server.wire_sent();
              count(tally, message->size());
            }
            if (header->sequence > highest) {
              highest = header->sequence;
              if (highest >= next_ack) {
                write_header(
                    ack, {MessageType::ack, net::Delivery::reliable_ordered, false, 1, highest});
                (void)server.send(kAckChannel, net::Delivery::reliable_ordered, ack);
                server.flush();
                if (tally.received > 0) ++tally.acks_after_first;
                next_ack = (highest / header->ack_every + 1) * header->ack_every;
              }
            }
            break;
          case MessageType::ack:
            break;
        }
      }
    }
    if (control.report_requested.load(std::memory_order_acquire) &&
        !control.report_ready.load(std::memory_order_relaxed)) {
      control.report = tally;
      control.report.wire_at_report = server.wire_sent();
      control.report_ready.store(true, std::memory_order_release);
    }
  }
}

LatencyResult measure_latency(Endpoint& client, const CaseSettings& settings) {
  std::vector<std::byte> message = make_message(settings.message_size);
  LatencyResult result;
  result.round_trip_us.reserve(static_cast<std::size_t>(settings.round_trips));
  std::uint64_t lost_in_total = 0;
  const int total = settings.warmup_round_trips + settings.round_trips;
  for (int i = 0; i < total; ++i) {
    const auto sequence = static_cast<std::uint64_t>(i) + 1;
    write_header(message, {MessageType::ping, settings.delivery, false, 1, sequence});
    const auto sent_at = Clock::now();
    std::optional<Clock::time_point> echoed_at;
    if (client.send(kDataChannel, settings.delivery, message)) {
      client.flush();
      while (!echoed_at && Clock::now() - sent_at < kEchoTimeout) {
        const auto reply = client.receive(poll_wait(settings));
        if (!reply) continue;
        const auto now = Clock::now();
        const auto header = read_header(*reply);
        // Late echoes of earlier, given-up pings are skipped by their sequence number.
        if (header && header->type == MessageType::ping && header->sequence == sequence &&
            reply->size() == message.size()) {
          echoed_at = now;
        }
      }
    }
    if (!echoed_at) {
      if (i >= settings.warmup_round_trips) ++result.lost;
      if (++lost_in_total > kMaxLostPings) {
        result.error = "more than " + std::to_string(kMaxLostPings) + " echoes never came back";
        break;
      }
      continue;
    }
    if (i >= settings.warmup_round_trips) {
      result.round_trip_us.push_back(
          std::chrono::duration<double, std::micro>(*echoed_at - sent_at).count());
    }
  }
  return result;
}

ThroughputResult measure_throughput(Endpoint& client, ServerControl& control,
                                    const CaseSettings& settings) {
  const std::size_t window =
      std::clamp(kWindowBytes / std::max<std::size_t>(settings.message_size, 1), kMinWindowMessages,
                 kMaxWindowMessages);
  const auto ack_every = static_cast<std::uint32_t>(std::max<std::size_t>(1, window / 4));
  std::vector<std::byte> message = make_message(settings.message_size);
  ThroughputResult result;
  std::uint64_t sequence = 0;  // last sent
  std::uint64_t acked = 0;     // highest the server acknowledged (or that was given up on)
  const auto start = Clock::now();
  const auto counting_from = start + to_duration(settings.warmup_seconds);
  const auto end = counting_from + to_duration(settings.seconds);
  auto last_progress = start;

  std::optional<double> cpu_at_counting;
  WireTotals wire_at_counting;
  for (auto now = start; now < end; now = Clock::now()) {
    const bool measured = now >= counting_from;
    if (measured && !cpu_at_counting) {
      cpu_at_counting = thread_cpu_seconds();
      wire_at_counting = client.wire_sent();
    }
    bool sent_any = false;
    while (sequence - acked < window) {
      write_header(message,
                   {MessageType::data, settings.delivery, measured, ack_every, sequence + 1});
      if (!client.send(kDataChannel, settings.delivery, message)) break;
      ++sequence;
      sent_any = true;
      if (measured) ++result.sent;
    }
    if (sent_any) client.flush();
    // Block for input only when the window is full; with room left, go straight back to sending.
    auto wait = sequence - acked >= window ? poll_wait(settings) : milliseconds(0);
    while (const auto reply = client.receive(wait)) {
      const auto header = read_header(*reply);
      if (header && header->type == MessageType::ack && header->sequence > acked) {
        acked = header->sequence;
        last_progress = Clock::now();
      }
      wait = milliseconds(0);
    }
    if (sequence - acked >= window && Clock::now() - last_progress > kStallTimeout) {
      acked = sequence;
      ++result.stalls;
      last_progress = Clock::now();
    }
  }

  const double sending_seconds =
      std::chrono::duration<double>(Clock::now() - counting_from).count();
  if (sending_seconds > 0) {
    result.client_cpu = (thread_cpu_seconds() - cpu_at_counting.value_or(0)) / sending_seconds;
  }
  const auto drained_at = Clock::now() + kDrainTime;
  while (Clock::now() < drained_at)
    (void)client.receive(kPollWait);
  result.client_wire = client.wire_sent() - wire_at_counting;
  result.client_payload_bytes = result.sent * message.size();
  control.report_requested.store(true, std::memory_order_release);
  const auto report_deadline = Clock::now() + kReportTimeout;
  while (!control.report_ready.load(std::memory_order_acquire)) {
    if (Clock::now() > report_deadline) {
      result.error = "the server thread never reported its count";
      return result;
    }
    (void)client.receive(kPollWait);  // keeps the connection serviced meanwhile
  }
  const ServerTally& tally = control.report;
  result.server_wire = tally.wire_at_report - tally.wire_at_first;
  result.server_payload_bytes = tally.acks_after_first * kHeaderSize;
  result.received = tally.received;
  result.timed_messages = tally.timed_messages;
  result.timed_bytes = tally.timed_bytes;
  result.seconds = std::chrono::duration<double>(tally.sampled - tally.first).count();
  const double cpu_span = std::chrono::duration<double>(tally.cpu_sampled - tally.first).count();
  if (cpu_span > 0) result.server_cpu = (tally.cpu_at_sample - tally.cpu_at_first) / cpu_span;
  if (tally.timed_messages == 0) {
    result.error = "the server received too few counted messages to time them";
  }
  return result;
}

// The CPUs this process may run on, lowest first.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Runs `work(client, control)` on a client thread against a fresh server on a server thread, and
// returns what went wrong setting them up, or nothing.
template <typename Work>
std::string with_connection(const TransportUnderTest& transport, const CaseSettings& settings,
                            Work work) {
  // Left to itself the scheduler sometimes puts both threads on one core, where a round trip is
  // two context switches, and sometimes on two, where it is two cross-core wake-ups: the median
  // RTT of the same transport then jumped between about 15 and 45 us from one case to the next.
  // Pinning the server to one core and the client to another makes every case the second kind.
  const std::vector<int> cpus = settings.pin_threads ? allowed_cpus() : std::vector<int>{};
  const bool pin = cpus.size() >= 2;
  ServerControl control;
  std::promise<net::Result<std::uint16_t>> listening;
  auto port = listening.get_future();

  // Each end is created, used and destroyed on its own thread: the transports are
  // single-threaded, and with two cores each side gets one.
  std::thread server_thread([&] {
    if (pin) pin_current_thread(cpus[0]);
    auto server = transport.make_server();
    if (!server.ok()) {
      listening.set_value(net::Status::error(server.error()));
      return;
    }
    listening.set_value((*server)->port());
    serve(**server, control, poll_wait(settings));
  });
  auto listening_port = port.get();
  if (!listening_port.ok()) {
    server_thread.join();
    return listening_port.error();
  }
  std::string error;
  std::thread client_thread([&] {
    if (pin) pin_current_thread(cpus[1]);
    auto client = transport.make_client(*listening_port);
    if (!client.ok()) {
      error = client.error();
      return;
    }
    work(**client, control);
  });
  client_thread.join();
  control.stop.store(true, std::memory_order_relaxed);
  server_thread.join();
  return error;
}

}  // namespace

bool can_pin_threads() {
  return allowed_cpus().size() >= 2;
}

LatencyResult run_latency(const TransportUnderTest& transport, const CaseSettings& settings) {
  LatencyResult result;
  std::string error = with_connection(transport, settings, [&](Endpoint& client, ServerControl&) {
    result = measure_latency(client, settings);
  });
  if (!error.empty()) result.error = std::move(error);
  return result;
}

ThroughputResult run_throughput(const TransportUnderTest& transport, const CaseSettings& settings) {
  ThroughputResult result;
  std::string error =
      with_connection(transport, settings, [&](Endpoint& client, ServerControl& control) {
        result = measure_throughput(client, control, settings);
      });
  if (!error.empty()) result.error = std::move(error);
  return result;
}

}  // namespace tickwire::bench
