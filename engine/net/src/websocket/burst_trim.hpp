#pragma once
// Gives the heap's free pages back to the system once a burst of traffic is over.
//
// A burst (a thousand players joining rooms at once, each join a reply and a presence line to
// every member) fills every connection's write buffer for a moment; the buffers are freed when
// the connections go idle, but the pages they used stay resident: the long-lived objects made
// during the burst (the next read of each connection, say) sit among them, so the heap cannot
// shrink from the top. With rooms of 32 that was about 2 KiB per idle connection, more than the
// connection itself kept. The allocator returns whole free pages on request (malloc_trim), at a
// cost that grows with the heap: done once when the traffic has calmed down, not while it runs,
// which would fault the same pages back in.
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
    // A period in which fewer bytes than this were freed is a quiet one (steady pings and the
    // odd chat line free a few KiB a period; a burst or a busy room far more).
    std::size_t quiet_bytes_per_period = 64 * 1024;
  };

  BurstTrimPolicy() = default;
  explicit BurstTrimPolicy(Limits limits) : limits_(limits) {}

  void note_released(std::size_t bytes) {
    this_period_ += bytes;
    since_trim_ += bytes;
  }
  // Whether anything was freed since the last trim: the period timer need not run otherwise.
  bool pending() const { return since_trim_ > 0; }
  // Ends a period; true when the heap should be trimmed now (a quiet period after a burst).
  bool end_period() {
    const bool quiet = this_period_ < limits_.quiet_bytes_per_period;
    this_period_ = 0;
    if (!quiet) return false;
    if (since_trim_ < limits_.burst_bytes) {
      // Too little to bother; forget it, so that a trickle does not add up to a trim.
      since_trim_ = 0;
      return false;
    }
    since_trim_ = 0;
    return true;
  }

 private:
  Limits limits_;
  std::size_t this_period_ = 0;
  std::size_t since_trim_ = 0;
};

// Returns the free pages of every malloc arena to the system (a no-op where the C library has no
// way to). Costs time in proportion to the heap: call it rarely.
void return_free_heap_pages();

}  // namespace tickwire::net::websocket_detail
