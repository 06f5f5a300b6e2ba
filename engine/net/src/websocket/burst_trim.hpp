#pragma once
// Gives the heap's free pages back to the system once a burst of traffic is over.
//
// A burst (a thousand players joining rooms at once, each join a reply and a presence line to
// every member) fills every connection's write buffer for a moment; the buffers are freed when
// the connections go idle, but the pages they used stay resident: the long-lived objects made
// during the burst (the next read of each connection, say) sit among them, so the heap cannot
// shrink from the top. With rooms of 32 that was about 2 KiB per idle connection (the
// connection's own live objects are about 5.6 KiB). The allocator returns whole free pages on
// request (malloc_trim), at a cost that grows with the heap: done once when the traffic has calmed
// down, not while it runs, which would fault the same pages back in.
//
// BurstTrimPolicy decides when; the io thread's timer (CoalescingStream::BurstTrim) asks it once
// per period. No Asio here, so that the decision is testable alone.

#include <cstddef>

namespace tickwire::net::websocket_detail {

class BurstTrimPolicy {
 public:
  struct Limits {
    // Bytes of buffers freed since the last trim from which a trim is worth its cost.
    std::size_t burst_bytes = 256 * 1024;
    // A period that freed this much is a burst's (about 2500 connections' worth of ping buffers
    // in 100 ms).
    std::size_t burst_bytes_per_period = 64 * 1024;
    // The burst is over once a period frees less than the busiest one since the last trim
    // divided by this: steady traffic (pings, a chat that keeps going) never looks so.
    std::size_t calm_divisor = 8;
  };

  BurstTrimPolicy() = default;
  explicit BurstTrimPolicy(Limits limits) : limits_(limits) {}

  void note_released(std::size_t bytes) {
    this_period_ += bytes;
    since_trim_ += bytes;
  }
  // Whether anything was freed since the last trim: the period timer need not run otherwise.
  bool pending() const { return since_trim_ > 0; }
  // Ends a period; true when the heap should be trimmed now (the first calm period after a
  // burst).
  bool end_period() {
    const std::size_t freed = this_period_;
    this_period_ = 0;
    if (freed > busiest_period_) busiest_period_ = freed;
    const bool calm = freed < busiest_period_ / limits_.calm_divisor;
    if (!calm || busiest_period_ < limits_.burst_bytes_per_period ||
        since_trim_ < limits_.burst_bytes) {
      return false;
    }
    since_trim_ = 0;
    busiest_period_ = 0;
    return true;
  }

 private:
  Limits limits_;
  std::size_t this_period_ = 0;
  std::size_t since_trim_ = 0;
  std::size_t busiest_period_ = 0;
};

// Returns the free pages of every malloc arena to the system (a no-op where the C library has no
// way to). Costs time in proportion to the heap: call it rarely.
void return_free_heap_pages();

}  // namespace tickwire::net::websocket_detail
