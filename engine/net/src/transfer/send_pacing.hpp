#pragma once
// How much of one outgoing transfer may be sent and not yet acknowledged: about what the path
// between the two ends holds, so that the transfer keeps it busy without queueing more of its
// data ahead of the game's messages than a fraction of a round trip's worth.
//
// The estimate of the path is BBR's: the highest delivery rate seen lately times the lowest round
// trip seen lately, both measured from the transfer's own chunks (a chunk handed to the transport
// until the receiver's acknowledgement of it, which covers the receiver checking and writing it),
// with a quarter more; and while the last chunk came back as fast as any (nothing of ours queued
// yet), one chunk more than the path holds, so that a transfer finds out when the path holds more.
// On loopback that is one or two chunks in flight (the receiver checks a chunk in about as long as
// the round trip takes); over a 40 ms link, the transport's window. A fixed amount would be too
// much for the one or too little for the other.
//
// Where the transport reports loss, there is no allowance: a chunk that lost a fragment holds up
// the acknowledgements of the chunks behind it until its retransmission, so the transfer's round
// trips and rates measure those stalls, not the path, and an allowance from them spirals down (to
// one chunk per round trip and less, measured). There the transport's send window alone bounds
// what waits, as ENet's reliable window bounds what is on the wire.
//
// Every 10 s the lowest round trip is measured again with one chunk alone in flight (BBR's
// ProbeRTT), as chunks queued behind each other never show it, and a lowest taken from a queue
// would let the allowance creep up.
//
// Where the connection carries nothing but the transfer's own messages (OtherTraffic below),
// there is no allowance either: the pacing protects the game's messages, and with none to protect
// it would only hold the transfer to a fraction of what the transport moves (on loopback about
// half). A map downloaded before a match goes at the transport's speed; one downloaded during a
// match is paced from the first message the game sends beside it.

#include <cstdint>
#include <deque>
#include <optional>

namespace tickwire::net::transfer_detail {

class SendPacing {
 public:
  // Forgets everything: a transfer (re)starts, possibly over another connection.
  void restart();
  // A chunk [start_offset, end_offset) went to the transport while the receiver had acknowledged
  // `acknowledged` bytes.
  void on_sent(std::uint64_t start_offset, std::uint64_t end_offset, std::uint64_t acknowledged,
               std::uint64_t now_us);
  // The receiver has now acknowledged `acknowledged` bytes.
  void on_acknowledged(std::uint64_t acknowledged, std::uint64_t now_us);
  // Bytes that may be unacknowledged, at least one chunk; no bound when `unbounded` (the
  // transport reports loss, or the transfer has the connection to itself).
  std::uint64_t allowance(std::uint32_t chunk_size, std::uint64_t now_us, bool unbounded) const;

 private:
  struct Sent {
    std::uint64_t end_offset = 0;
    std::uint64_t acknowledged_at_send = 0;
    std::uint64_t sent_at_us = 0;
    // When the acknowledgement before it came: a rate is taken over the longer of the time the
    // chunk was in flight and the time since then, so that acknowledgements that arrive in a
    // bunch do not read as a burst of speed (BBR's delivery rate).
    std::uint64_t acknowledged_at_us = 0;
    bool alone = false;  // nothing else of the transfer was unacknowledged
  };
  bool min_rtt_stale(std::uint64_t now_us) const;

  std::deque<Sent> sent_;
  std::optional<std::uint64_t> last_acknowledged_at_us_;
  bool have_rtt_ = false;
  std::uint64_t min_rtt_us_ = 0;
  std::uint64_t min_rtt_at_us_ = 0;
  std::uint64_t last_rtt_us_ = 0;
  double max_rate_ = 0;  // bytes per microsecond
  std::uint64_t max_rate_at_us_ = 0;
};

// Whether a connection has lately carried messages other than a FileTransfer's own, in either
// direction: the connection's message counts (ConnectionStats) less what the FileTransfer sent and
// was handed on it. One per peer.
class OtherTraffic {
 public:
  // How long after the last message of the game's the connection counts as the transfer's alone:
  // longer than the gaps of any game's snapshots or inputs (10 Hz is 100 ms).
  static constexpr std::uint64_t kQuietUs = 250'000;

  void count_own_message() { ++own_messages_; }
  // `messages` is the connection's messages_sent + messages_received now. True while the game's
  // messages were seen within kQuietUs; also when they were there before the first look, until
  // kQuietUs has passed without one (when they came is not known).
  bool present(std::uint64_t messages, std::uint64_t now_us);

 private:
  std::uint64_t own_messages_ = 0;
  std::uint64_t others_seen_ = 0;
  std::optional<std::uint64_t> others_at_us_;
};

}  // namespace tickwire::net::transfer_detail
