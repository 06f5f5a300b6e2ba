#pragma once
// ConnectionStats::packet_loss for ENet: the fraction of reliable commands that went
// unacknowledged within their retransmission timeout, over the last few seconds.
//
// ENet counts reliable commands sent and timed out per peer, and every 10 s folds them into a
// slowly moving average and starts again from zero (its packetLossEpoch). That average needs
// tens of seconds to approach the real loss, so the meter reads the raw counts instead: it adds
// what they grew by since its last sample, noticing a new ENet interval by its epoch, into sums
// that fade with a time constant of kTimeConstantMs.
//
// A command is counted lost when the datagram carrying it or the acknowledgement coming back is
// lost, so this is round-trip loss: 5 % lost each way reads about 1 - 0.95^2 = 9.75 %.

#include <cmath>
#include <cstdint>

namespace tickwire::net::enet_detail {

class LossMeter {
 public:
  static constexpr double kTimeConstantMs = 5000;

  // ENet's counts of one peer (packetsSent, packetsLost, packetLossEpoch) at `now_ms`.
  void sample(std::uint32_t sent, std::uint32_t lost, std::uint32_t epoch, std::uint32_t now_ms) {
    const Growth growth = grown(sent, lost, epoch);
    if (sampled_) {
      const double fade =
          std::exp(-static_cast<double>(now_ms - last_sample_ms_) / kTimeConstantMs);
      sent_ *= fade;
      lost_ *= fade;
    }
    sent_ += growth.sent;
    lost_ += growth.lost;
    seen_sent_ = sent;
    seen_lost_ = lost;
    seen_epoch_ = epoch;
    last_sample_ms_ = now_ms;
    sampled_ = true;
  }

  // The loss now, 0..1, counting what grew since the last sample at full weight.
  double loss(std::uint32_t sent, std::uint32_t lost, std::uint32_t epoch) const {
    const Growth growth = grown(sent, lost, epoch);
    const double total = sent_ + growth.sent;
    if (total <= 0) return 0;
    return std::fmin(1.0, (lost_ + growth.lost) / total);
  }

 private:
  struct Growth {
    double sent = 0;
    double lost = 0;
  };
  Growth grown(std::uint32_t sent, std::uint32_t lost, std::uint32_t epoch) const {
    // A new ENet interval started from zero: all of its counts are new. (What the old one counted
    // after our last sample is lost to us: at most one poll's worth every 10 s.)
    if (!sampled_ || epoch != seen_epoch_ || sent < seen_sent_ || lost < seen_lost_) {
      return {static_cast<double>(sent), static_cast<double>(lost)};
    }
    return {static_cast<double>(sent - seen_sent_), static_cast<double>(lost - seen_lost_)};
  }

  double sent_ = 0;
  double lost_ = 0;
  std::uint32_t seen_sent_ = 0;
  std::uint32_t seen_lost_ = 0;
  std::uint32_t seen_epoch_ = 0;
  std::uint32_t last_sample_ms_ = 0;
  bool sampled_ = false;
};

}  // namespace tickwire::net::enet_detail
